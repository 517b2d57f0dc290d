"""Score: apply the current model and threshold to a new table, and download the result."""

from functools import lru_cache
from typing import Optional

import numpy as np
import streamlit as st

from core.data import read_table
from core.drift import drift_report
from core.errors import DataError
from core.evaluation import check_against_label
from core.plots import confusion_figure, histogram_bins, histogram_figure, safe_label
from core.scoring import for_review, score_table, scored_csv_bytes, top_rows
from core.thresholds import rule_words
from ui import session as state
from ui.guard import run_page, stop_if_training, stop_with
from ui.paths import TRAIN_PAGE
from ui.text import blank_missing, message, names, plain

CHUNK_ROWS = 50_000


#: Rows the page's table shows (the highest scores); the download has them all.
TOP_ROWS = 200


def score_upload(session: state.Session, run: state.ModelRun) -> Optional[str]:
    """Score an uploaded table once; the result hangs off the model that scored it. Returns the file in the uploader."""
    upload = st.file_uploader("Table to score (CSV; labels not needed)", type=["csv", "txt", "tsv"], key="score_upload")
    if upload is None or not session.new_upload(f"score_{run.widgets.tag}", upload.file_id):
        return None if upload is None else upload.file_id
    raw = upload.getvalue()
    try:
        table = read_table(raw, name=upload.name)
        run.detector.preprocessor_.check_columns(table.frame)
        bar = st.progress(0.0, text="Scoring…")
        n = len(table.frame)
        scores = score_table(run.detector, table.frame, chunk_rows=CHUNK_ROWS, progress=lambda done: bar.progress(done / n, text=f"Scored {done:,} of {n:,} rows"))
        bar.empty()
    except DataError as exc:
        # Shown while that file is in the uploader: after a visit to another page the uploader is empty, and the error goes with it.
        run.cache["score_error"] = (upload.file_id, f"Could not score '{plain(upload.name)}': {message(exc)} Nothing was scored; the previous result (if any) stays below.")
        return upload.file_id
    run.cache.pop("score_error", None)
    prepared = run.prepared
    reference = prepared.normal_rows("train") if prepared is not None else None
    features = run.detector.preprocessor_.required_columns if reference is not None else ()
    # The drift verdict compares the rows the threshold in use keeps as normal: worked out per threshold, when shown.
    drift = lru_cache(maxsize=4)(lambda threshold: drift_report(run.detector.decision_scores_, scores, reference, table.frame, features, threshold))
    run.cache["scored"] = {"table": table, "source": raw, "scores": scores, "bins": histogram_bins(scores, n_bins=60, log_x=True), "drift": drift,
                           "not_numbers": run.detector.preprocessor_.not_numbers(table.frame)}
    return upload.file_id


def label_check(session: state.Session, run: state.ModelRun, table, scores: np.ndarray, threshold: float) -> None:
    label = run.prepared.target.label if run.prepared is not None else run.context.get("label")
    normal = run.prepared.target.normal_classes if run.prepared is not None else run.context.get("normal_classes", [])
    if not label or label not in table.frame.columns:
        return
    if not state.kept(st.toggle, f"Check against the label column '{plain(label)}'", owner=run.widgets, name="score_use_label", default=False,
                      help="The label is never used for scoring; this only compares the flags with it."):
        return
    classes = run.cached("label_classes", lambda: run.prepared.table.frame[label].dropna().unique()) if run.prepared is not None else None
    check = check_against_label(table.frame, label, tuple(normal), scores, threshold, classes)
    st.caption(plain(check.sentence, 600))
    trained_on = run.prepared.table.sha256 if run.prepared is not None else run.context.get("dataset", {}).get("sha256")
    if trained_on is not None and table.sha256 == trained_on:
        st.warning("This file is the table the model was trained on: its normal training rows were learnt, so this check flatters the "
                   "model. The Threshold page's test rows are the honest estimate.", icon=":material/warning:")
    conf = check.confusion
    if conf is None:
        return
    m = conf.metrics()
    cols = st.columns(4)
    for col, key in zip(cols, ("precision", "recall", "f1", "fpr")):
        col.metric({"fpr": "False-alarm rate"}.get(key, key.capitalize()), f"{m[key]:.3f}")
    st.plotly_chart(confusion_figure(conf), key="score_confusion")


def earlier_by_other_models(session: state.Session) -> None:
    """A table scored by another model of this split (the one set aside, or one used from the Compare page before)
    stays with that model: say where it went."""
    study = session.study
    if study is None:
        return
    others = [r for r in (study.set_aside, *study.used_results) if r is not None and r is not session.run and r.cache.get("scored") is not None]
    for other in others[:3]:
        how = "now set aside" if other is study.set_aside else "used from the Compare page before"
        back = "going back to that model" if other is study.set_aside else "using that model again"
        st.caption(f"'{plain(other.cache['scored']['table'].name)}' was scored by {plain(other.name)}, {how}: a score belongs to the model that "
                   f"made it. Upload the table again to score it with this model; {back} brings its result back.")


def body() -> None:
    session = state.get()
    st.title("Score new data")
    run = session.run
    if run is None:
        stop_if_training(session, "New rows are scored with the model it gives.")
        stop_with("Train a model first (or restore a saved one on the Data page): new rows are scored with it.", TRAIN_PAGE, "Go to Train")
    threshold = run.threshold
    with st.expander("What am I looking at?"):
        st.markdown(
            "The model scores every row of the new table the way it scored the validation rows: the higher, the more unusual. "
            f"Rows above the threshold **{threshold.value:.6g}** ({plain(rule_words(threshold.rule))}) are flagged. The second chart compares the new "
            "rows' scores with the normal training rows' scores, and the sentence under it says whether the new data moved (drift), "
            "the scores compared on the rows the threshold keeps as normal (anomalies move scores without any drift): "
            "if it did, the threshold may need revisiting. With a review band set on the Threshold page (its Review band tab), the rows "
            "scoring from the band's start up to the threshold are counted and marked for a person to review."
        )
    needed = run.detector.preprocessor_.required_columns
    st.caption(f"The model ({plain(run.name)}) reads {len(needed)} column(s): {names(needed, 12)}. Other columns are carried through unchanged.")
    in_uploader = score_upload(session, run)
    failed = run.cache.get("score_error")
    if failed is not None and failed[0] == in_uploader:
        st.error(failed[1], icon=":material/error:")
    scored = run.cache.get("scored")
    if scored is None:
        st.info("Upload a CSV with the model's columns to score it.")
        earlier_by_other_models(session)
        return
    table, scores, source = scored["table"], scored["scores"], scored["source"]
    for note in scored.get("not_numbers", ()):
        st.warning(plain(note, 400), icon=":material/warning:")
    flagged = int((scores > threshold.value).sum())
    review_from = run.review_from
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Rows scored", f"{len(scores):,}")
    c2.metric("Rows flagged", f"{flagged:,}")
    c3.metric("Share flagged", f"{flagged / max(len(scores), 1):.2%}")
    if run.review_band_idle:
        st.caption("The review band set on the Threshold page starts at or above the threshold now, so no row is marked for review.")
    if review_from is not None:
        c4.metric("Rows for review", f"{int(for_review(scores, threshold.value, review_from).sum()):,}",
                  help=f"Scoring above {review_from:.6g} and up to the threshold {threshold.value:.6g}: the review band set on the Threshold page.")

    left, right = st.columns(2)
    left.plotly_chart(histogram_figure(scored["bins"], threshold.value, title=f"Anomaly scores of '{safe_label(table.name)}'", review_from=review_from),
                      key="score_hist")
    reference = run.detector.decision_scores_
    drift = histogram_figure(histogram_bins(np.concatenate([reference, scores]), np.r_[np.zeros(len(reference), int), np.ones(len(scores), int)], log_x=True),
                             threshold.value, title="Drift check: new rows against normal training rows", names=("normal training rows", "new rows"), density=True,
                             review_from=review_from)
    right.plotly_chart(drift, key="score_drift")
    verdict = scored["drift"](threshold.value)
    (st.warning if verdict.needs_review else st.success)(plain(verdict.sentence(), 2000), icon=":material/insights:")

    st.subheader("Most anomalous rows first")
    if len(scores) > TOP_ROWS:
        st.caption(f"The {TOP_ROWS} highest-scoring of the {len(scores):,} rows; the download below has every row.")
    st.dataframe(blank_missing(top_rows(table.frame, scores, threshold.value, n=TOP_ROWS, review_from=review_from)), width="stretch", height=320, hide_index=True,
                 column_config={"anomaly_score": st.column_config.NumberColumn("anomaly score", format="%.4g")})  # as Inspect shows it
    review_column = "" if review_from is None else f", and for_review (1 = scoring above {review_from:.6g}, up to the threshold: the review band)"
    st.download_button("Download scored CSV", data=lambda: scored_csv_bytes(table, scores, threshold.value, source=source, review_from=review_from),
                       file_name=f"{table.name.rsplit('.', 1)[0]}-scored.csv", mime="text/csv", key="score_download", icon=":material/download:", on_click="ignore",
                       help=f"The input columns unchanged, in the input's delimiter and decimal mark, plus anomaly_score and is_anomaly (1 = anomaly){review_column}. "
                            "Cells that a spreadsheet would run as formulas are escaped.")
    label_check(session, run, table, scores, threshold.value)


run_page(body)
