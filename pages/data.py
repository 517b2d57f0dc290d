"""Data: choose a table, its label column, the normal classes and the features."""

import plotly.express as px
import streamlit as st

from core.bundle import load_bundle
from core.data import read_table
from core.describe import column_summary
from core.errors import DataError
from core.pipeline import SAMPLES, load_sample, prepare
from core.target import class_counts, default_features
from pages.common import SCORE_PAGE, THRESHOLD_PAGE, TRAIN_PAGE, apply_restored, forget_from, set_table, show_error, ss

st.title("Data")
st.caption("Load a table, say which column is the label and which of its classes are normal. The autoencoder learns from normal rows only.")

with st.expander("What am I looking at?"):
    st.markdown(
        "An autoencoder learns to squeeze a row into a few numbers and rebuild it. Trained on **normal** rows only, "
        "it rebuilds normal rows well and unusual rows badly; that rebuild error is the anomaly score. "
        "The label column is used only to measure how well this works and to suggest a threshold; it is never a feature."
    )

source_col, upload_col = st.columns([1, 2])
with source_col:
    sample = st.selectbox(
        "Bundled sample", list(SAMPLES), index=None, key="data_sample", placeholder="Choose a sample…",
        format_func=lambda name: SAMPLES[name][0],
    )
    if sample and st.button("Load sample", key="data_load_sample"):
        set_table(load_sample(sample))
        ss.choice["normal"] = SAMPLES[sample][2]
with upload_col:
    upload = st.file_uploader("…or upload a CSV (comma, semicolon, tab or | separated)", type=["csv", "txt", "tsv"], key="data_upload")
    if upload is not None and ss.get("last_upload_id") != upload.file_id:
        ss.last_upload_id = upload.file_id
        try:
            set_table(read_table(upload.getvalue(), name=upload.name))
        except DataError as exc:
            ss.upload_error = (upload.name, str(exc))
        else:
            ss.pop("upload_error", None)
    if ss.get("upload_error"):
        name, message = ss.upload_error
        show_error(DataError(f"Could not use '{name}': {message}"), keep=f"Still using the previous table, {ss.table.name}.")

with st.expander("Restore a saved model", icon=":material/upload_file:", expanded="restored" in ss):
    st.caption("Upload a model bundle (.zip) saved from the Train or Threshold page or by `python -m core train`. "
               "The model, its threshold and its column choices come back; load a labelled table with the same columns to tune the threshold again.")
    bundle = st.file_uploader("Model bundle", type=["zip"], key="data_bundle")
    if bundle is not None and ss.get("last_bundle_id") != bundle.file_id:
        ss.last_bundle_id = bundle.file_id
        try:
            ss.restored = load_bundle(bundle.getvalue())
        except DataError as exc:
            ss.bundle_message = ("error", f"Could not restore '{bundle.name}': {exc} Nothing in this session was changed.")
        else:
            ss.bundle_message = ("success", apply_restored())
    if ss.get("bundle_message"):
        kind, message = ss.bundle_message
        (st.error if kind == "error" else st.success if "Restored" in message else st.warning)(message)
        if kind != "error":
            st.page_link(THRESHOLD_PAGE if "prepared" in ss else SCORE_PAGE, label="Go to Threshold" if "prepared" in ss else "Go to Score",
                         icon=":material/arrow_forward:")

table = ss.table
frame = table.frame
st.subheader(f"{table.name}")
st.caption(f"{frame.shape[0]:,} rows × {frame.shape[1]} columns · SHA-256 {table.sha256[:16]}…")
for finding in table.findings:
    st.info(finding, icon=":material/info:")

st.dataframe(frame.head(20), width="stretch", height=260)

choice = ss.choice
ss.setdefault("widgets_generation", 0)  # set_table raises it; a session seeded by hand starts at 0
columns = list(frame.columns)
label_options = ["(no label)"] + columns
label_index = label_options.index(choice["label"]) if choice.get("label") in columns else 0

left, right = st.columns([1, 1])
with left:
    st.markdown("#### Label and normal classes")
    label_pick = st.selectbox("Label column", label_options, index=label_index, key=f"data_label_{ss.widgets_generation}",
                              help="The column that says which rows are anomalies. '(no label)' trains on every row and picks a threshold without labels.")
    label = None if label_pick == "(no label)" else label_pick
    normal = []
    if label is not None:
        counts = class_counts(frame, label)
        if label != choice.get("label") or not choice.get("normal"):
            default_normal = [counts.index[0]]
        else:
            default_normal = [c for c in choice["normal"] if c in counts.index] or [counts.index[0]]
        normal = st.multiselect("Normal class(es)", list(counts.index), default=default_normal, key=f"data_normal_{ss.widgets_generation}_{label}",
                                help="Rows of these classes are normal (0); every other class is an anomaly (1).")
        fig = px.bar(x=counts.index.astype(str), y=counts.values, labels={"x": label, "y": "rows"},
                     color=["normal" if c in normal else "anomaly" for c in counts.index],
                     color_discrete_map={"normal": "#1f77b4", "anomaly": "#d62728"}, title=f"Rows per class of '{label}'", text_auto=True)
        fig.update_layout(template="plotly_white", height=300, margin=dict(l=40, r=10, t=50, b=40), legend_title_text="")
        st.plotly_chart(fig, key="data_classes")
with right:
    st.markdown("#### Features")
    usable = default_features(frame, label)
    previous = choice.get("features") if choice.get("label") == label else None
    features = st.multiselect("Feature columns", [c for c in columns if c != label], default=[f for f in (previous or usable) if f != label],
                              key=f"data_features_{ss.widgets_generation}_{label}", help="Columns the autoencoder reads. Text columns with up to 20 values are one-hot encoded.")
    seed = st.number_input("Split seed", min_value=0, max_value=10_000, value=int(choice.get("seed", 0)), step=1, key=f"data_seed_{ss.widgets_generation}",
                           help="Seeds the stratified 60/20/20 train/validation/test split and the network.")
    st.dataframe(column_summary(frame), width="stretch", height=260, hide_index=True)

key = (table.sha256, label, tuple(normal), tuple(features), int(seed))
if ss.get("prepared_key") != key:
    try:
        prepared = prepare(table, label, normal, features, seed=int(seed))
    except DataError as exc:
        show_error(exc, keep="The last valid choice stays in use until this is fixed." if "prepared" in ss else "")
    else:
        forget_from("prepared")
        ss.prepared, ss.prepared_key = prepared, key
        ss.choice = {"label": label, "normal": normal, "features": features, "seed": int(seed)}

prepared = ss.get("prepared")
if prepared is not None:
    s = prepared.split
    y = prepared.target.y
    parts = [f"{name} {len(rows):,}" + (f" ({int(y[rows].sum())} anomalies)" if y is not None else "") for name, rows in (("train", s.train), ("validation", s.val), ("test", s.test))]
    st.success("Ready to train: " + " · ".join(parts) + ". The network sees only the normal training rows.", icon=":material/check_circle:")
    st.page_link(TRAIN_PAGE, label="Go to Train", icon=":material/arrow_forward:")
