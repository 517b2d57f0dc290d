"""Data: choose a table, its label column, the normal classes and the features."""

from typing import Callable

import streamlit as st

from core.data import read_table
from core.describe import class_table, column_summary
from core.errors import DataError
from core.pipeline import SAMPLES, load_sample
from core.target import class_counts, feature_choice, likely_label_columns
from ui import session as state
from ui.guard import run_page
from ui.paths import SCORE_PAGE, THRESHOLD_PAGE, TRAIN_PAGE
from ui.text import blank_missing, message, names, plain

NO_LABEL = "(no label)"


def load_controls(session: state.Session) -> None:
    """A sample or an upload; a refused file keeps the previous table."""
    source_col, upload_col = st.columns([1, 2])
    with source_col:
        sample = st.selectbox("Bundled sample", list(SAMPLES), index=None, key="data_sample", placeholder="Choose a sample…",
                              format_func=lambda name: SAMPLES[name][0])
        if sample and st.button("Load sample", key="data_load_sample"):
            session.set_table(load_sample(sample))
            session.notices.pop("upload", None)
    with upload_col:
        upload = st.file_uploader("…or upload a CSV (comma, semicolon, tab or | separated)", type=["csv", "txt", "tsv"], key="data_upload")
        if upload is not None and session.new_upload("data", upload.file_id):
            try:
                session.set_table(read_table(upload.getvalue(), name=upload.name))
            except DataError as exc:
                session.notices["upload"] = ("error", f"Could not use '{plain(upload.name)}': {message(exc)} Still using the previous table, {plain(session.table.name)}.")
            else:
                session.notices.pop("upload", None)
        if "upload" in session.notices:
            st.error(session.notices["upload"][1], icon=":material/error:")


def restore_controls(session: state.Session) -> Callable[[], None]:
    """The restore expander; returns what redraws its notice (a choice made further down the page changes it)."""
    run = session.run
    restored = run is not None and run.origin == "restored"
    with st.expander("Restore a saved model", icon=":material/upload_file:", expanded=restored or "bundle" in session.notices):
        st.caption("Upload a model bundle (.zip) saved from the Train or Threshold page or by `python -m core train`. "
                   "The model, its threshold and its column choices come back; load a labelled table with the same columns to tune the threshold again.")
        bundle = st.file_uploader("Model bundle", type=["zip"], key="data_bundle")
        if bundle is not None and session.new_upload("bundle", bundle.file_id):
            try:
                session.restore(bundle.getvalue(), bundle.name)  # the session words its notice
            except DataError as exc:
                session.notices["bundle"] = ("error", f"Could not restore '{plain(bundle.name)}': {message(exc)} Nothing in this session was changed.")
        slot = st.empty()

    def show_notice() -> None:
        with slot.container():
            if "bundle" in session.notices:
                kind, notice = session.notices["bundle"]
                {"error": st.error, "success": st.success, "warning": st.warning}[kind](notice)
                if kind != "error":
                    scored = session.scored_run is not None
                    st.page_link(THRESHOLD_PAGE if scored else SCORE_PAGE, label="Go to Threshold" if scored else "Go to Score", icon=":material/arrow_forward:")

    show_notice()
    return show_notice


def choice_controls(session: state.Session) -> bool:
    """Label, normal classes, features and seed; a refused choice keeps the last valid one (returns False then)."""
    ws = session.workspace
    frame, choice, owner = ws.table.frame, ws.choice, ws.widgets
    columns = list(frame.columns)
    left, right = st.columns([1, 1])
    with left:
        st.markdown("#### Label and normal classes")
        label_options = [NO_LABEL] + columns
        label_pick = state.kept(st.selectbox, "Label column", owner=owner, name="data_label", default=choice.label if choice.label in columns else NO_LABEL,
                                valid=lambda v: v in label_options, options=label_options, format_func=str,
                                help="The column that says which rows are anomalies. '(no label)' trains on every row and picks a threshold without labels.")
        label = None if label_pick == NO_LABEL else label_pick
        normal: list = []
        if label is not None:
            counts = class_counts(frame, label)
            default_normal = [c for c in choice.normal if c in counts.index] if label == choice.label else []
            normal = state.kept(st.multiselect, "Normal class(es)", owner=owner, name=f"data_normal_{columns.index(label)}",
                                default=default_normal or [counts.index[0]], valid=lambda v: all(c in counts.index for c in v),
                                options=list(counts.index), format_func=str,
                                help="Rows of these classes are normal (0); every other class is an anomaly (1).")
            st.markdown("**Rows per class**" + (" (the 50 largest)" if len(counts) > 50 else ""))
            st.dataframe(class_table(counts, normal), width="stretch", hide_index=True, height=min(36 + 35 * min(len(counts), 50), 260),
                         column_config={"share": st.column_config.ProgressColumn("share", format="percent", min_value=0.0, max_value=1.0)})
    with right:
        st.markdown("#### Features")
        suggested = feature_choice(frame, label)
        default = list(choice.features) if label == choice.label and choice.features else suggested.features
        options = [c for c in columns if c != label]
        features = state.kept(st.multiselect, "Feature columns", owner=owner, name=f"data_features_{columns.index(label) if label is not None else -1}",
                              default=[f for f in default if f in options], valid=lambda v: all(c in options for c in v), options=options, format_func=str,
                              help="Columns the autoencoder reads: at least one numeric. Text columns with up to 20 values are one-hot encoded beside them.")
        left_out = {c: why for c, why in suggested.excluded.items() if c not in features}
        if left_out:
            st.caption("Left out by default: " + "; ".join(f"'{plain(c, 60)}' ({why})" for c, why in list(left_out.items())[:10])
                       + (f"; and {len(left_out) - 10:,} more" if len(left_out) > 10 else "") + ".")
        leaking = [c for c in likely_label_columns(frame) if c in features]
        if leaking:
            st.warning(f"{names(leaking)} looks like a label column: as a feature, the answer leaks into the model.", icon=":material/warning:")
        seed = state.kept(st.number_input, "Split seed", owner=owner, name="data_seed", default=int(choice.seed), min_value=0, max_value=10_000, step=1,
                          help="Seeds the stratified 60/20/20 train/validation/test split and the network: a whole number from 0 to 10,000 "
                               "(another is not taken, and the box turns red).")
        st.dataframe(column_summary(frame), width="stretch", height=260, hide_index=True)
    try:
        session.choose(label, normal, features, int(seed))
    except DataError as exc:
        kept_note = " The last valid choice stays in use until this is fixed." if session.study is not None else ""
        st.error(f"{message(exc)}{kept_note}", icon=":material/error:")
        return False
    return True


def body() -> None:
    session = state.get()
    st.title("Data")
    st.caption("Load a table, say which column is the label and which of its classes are normal. The autoencoder learns from normal rows only.")
    with st.expander("What am I looking at?"):
        st.markdown(
            "An autoencoder learns to squeeze a row into a few numbers and rebuild it. Trained on **normal** rows only, "
            "it rebuilds normal rows well and unusual rows badly; that rebuild error is the anomaly score. "
            "The label column is used only to measure how well this works and to suggest a threshold; it is never a feature."
        )
    load_controls(session)
    redraw_restore_notice = restore_controls(session)

    table = session.table
    st.subheader(plain(table.name))
    st.caption(f"{table.shape[0]:,} rows × {table.shape[1]:,} columns · SHA-256 {table.sha256[:16]}…")
    for finding in table.findings:
        st.info(plain(finding, 400), icon=":material/info:")
    preview = table.frame.head(20).copy()
    preview.index = preview.index + 1  # rows numbered as in the file, as Inspect, Score and every message number them
    st.dataframe(blank_missing(preview), width="stretch", height=260)
    if preview.select_dtypes("number").isna().any().any():
        st.caption("An empty number shows as None (Streamlit's mark for it); the numbers stay numbers, so a column sorts as numbers.")
    chosen = choice_controls(session)
    if session.workspace.problem and session.study is not None:  # after the choice: a valid one clears it in this run
        st.warning(plain(session.workspace.problem, 4000), icon=":material/warning:")
    redraw_restore_notice()
    if "choice" in session.notices:  # said once, where the choice was made
        st.info(session.notices.pop("choice")[1], icon=":material/info:")

    prepared = session.prepared
    if prepared is not None:
        s, y = prepared.split, prepared.target.y
        parts = [f"{name} {len(rows):,}" + (f" ({int(y[rows].sum()):,} anomalies)" if y is not None else "") for name, rows in (("train", s.train), ("validation", s.val), ("test", s.test))]
        seen = "only the normal training rows" if y is not None else "every training row (there is no label)"
        if chosen and y is not None and y.mean() > 0.5:
            st.warning(f"Anomalies are {y.mean():.0%} of the rows: an anomaly detector expects them to be rare, and learns only from the normal rows. "
                       "Check the label column and which of its classes are normal.", icon=":material/warning:")
        (st.success if chosen else st.info)(("Ready to train: " if chosen else "Still ready to train with the last valid choice: ") + " · ".join(parts)
                                            + f". The network sees {seen}.", icon=":material/check_circle:")
        st.page_link(TRAIN_PAGE, label="Go to Train", icon=":material/arrow_forward:")
        session.train_ahead_from_defaults()  # begun while this page is read


run_page(body)
