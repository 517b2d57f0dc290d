"""Score: apply the current model and threshold to a new table, and download the result."""

import numpy as np
import streamlit as st

from core.data import read_table
from core.errors import DataError
from core.metrics import ThresholdCurve
from core.plots import confusion_figure, histogram_bins, histogram_figure
from core.scoring import score_table, scored_csv_bytes, top_rows
from core.target import make_target
from pages.common import TRAIN_PAGE, scoring_model, show_error, sidebar, ss, stop_with

st.title("Score new data")
detector, threshold = scoring_model()
if detector is None:
    stop_with("Train a model first (or restore a saved one on the Data page): new rows are scored with it.", TRAIN_PAGE, "Go to Train")

with st.expander("What am I looking at?"):
    st.markdown(
        "The model scores every row of the new table the way it scored the validation rows: the higher, the more unusual. "
        f"Rows above the threshold **{threshold.value:.5g}** ({threshold.rule}) are flagged. The second chart compares the new "
        "rows' scores with the normal training rows' scores: if the new data looks very different overall (drift), "
        "the threshold may need revisiting."
    )

needed = detector.preprocessor_.required_columns
st.caption(f"The model reads {len(needed)} column(s): {', '.join(needed[:12])}{', …' if len(needed) > 12 else ''}. Other columns are carried through unchanged.")
upload = st.file_uploader("Table to score (CSV; labels not needed)", type=["csv", "txt", "tsv"], key="score_upload")
if upload is not None and ss.get("scored_id") != (upload.file_id, id(detector)):
    try:
        table = read_table(upload.getvalue(), name=upload.name)
        detector.preprocessor_.check_columns(table.frame)
        bar = st.progress(0.0, text="Scoring…")
        n = len(table.frame)
        scores = score_table(detector, table.frame, chunk_rows=50_000, progress=lambda done: bar.progress(done / n, text=f"Scored {done:,} of {n:,} rows"))
        bar.empty()
    except DataError as exc:
        show_error(exc, keep="Nothing was scored; the previous result (if any) stays below.")
    else:
        ss.scored = {"table": table, "scores": scores, "bins": histogram_bins(scores, n_bins=60, log_x=True)}
        ss.scored_id = (upload.file_id, id(detector))

scored = ss.get("scored")
if scored is None:
    st.info("Upload a CSV with the model's columns to score it.")
    sidebar()  # app.py draws it after the page, which st.stop skips
    st.stop()

table, scores = scored["table"], scored["scores"]
flagged = int((scores > threshold.value).sum())
c1, c2, c3 = st.columns(3)
c1.metric("Rows scored", f"{len(scores):,}")
c2.metric("Rows flagged", f"{flagged:,}")
c3.metric("Share flagged", f"{flagged / max(len(scores), 1):.2%}")

left, right = st.columns(2)
left.plotly_chart(histogram_figure(scored["bins"], threshold.value, title=f"Anomaly scores of '{table.name}'"), key="score_hist")
drift_scores = np.concatenate([detector.decision_scores_, scores])
drift_labels = np.r_[np.zeros(len(detector.decision_scores_), int), np.ones(len(scores), int)]
drift = histogram_figure(histogram_bins(drift_scores, drift_labels, log_x=True), threshold.value, title="Drift check: new rows against normal training rows",
                         names=("normal training rows", "new rows"), density=True)
right.plotly_chart(drift, key="score_drift")

st.subheader("Most anomalous rows first")
st.dataframe(top_rows(table.frame, scores, threshold.value, n=200), width="stretch", height=320, hide_index=True)
st.download_button("Download scored CSV", data=lambda: scored_csv_bytes(table.frame, scores, threshold.value),
                   file_name=f"{table.name.rsplit('.', 1)[0]}-scored.csv", mime="text/csv", key="score_download", icon=":material/download:", on_click="ignore",
                   help="The input columns unchanged plus anomaly_score and is_anomaly (1 = anomaly). Cells that a spreadsheet would run as formulas are escaped.")

label = (ss.restored[1].get("label") if "restored" in ss and ss.restored[0] is detector else None) or (ss.prepared.target.label if "prepared" in ss else None)
normal = (ss.prepared.target.normal_classes if "prepared" in ss else ss.restored[1].get("normal_classes", [])) if label else []
if label and label in table.frame.columns and st.toggle(f"Check against the label column '{label}'", key="score_use_label",
                                                          help="The label is never used for scoring; this only compares the flags with it."):
    try:
        target = make_target(table.frame, label, normal)
    except DataError as exc:
        show_error(exc)
    else:
        conf = ThresholdCurve(scores, target.y).at(threshold.value)
        m = conf.metrics()
        cols = st.columns(4)
        for col, key in zip(cols, ("precision", "recall", "f1", "fpr")):
            col.metric({"fpr": "False-alarm rate"}.get(key, key.capitalize()), f"{m[key]:.3f}")
        st.plotly_chart(confusion_figure(conf), key="score_confusion")
