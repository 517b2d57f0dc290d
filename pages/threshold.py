"""Threshold: drag the threshold across the score histograms; metrics follow at once."""

import streamlit as st

from core.errors import DataError
from core.evaluation import JUMP_RULES, METRIC_LABELS, apply_rule, decision_sentence, metric_deltas, nearest, slider_grid
from core.plots import confusion_figure, histogram_figure, pr_figure, roc_figure
from pages.common import TRAIN_PAGE, model_download, require, show_error, ss

st.title("Threshold")
require("detector", "Train a model first: the threshold is set on its anomaly scores.", TRAIN_PAGE, "Go to Train")
detector, parts = ss.detector, ss.scores

with st.expander("What am I looking at?"):
    st.markdown(
        "Each row gets an anomaly score: how badly the autoencoder rebuilds it (higher = more unusual). "
        "Rows scoring above the threshold are flagged. Moving the threshold **left** catches more anomalies but raises "
        "more false alarms on normal rows; moving it **right** does the opposite. The histograms show where normal (blue) "
        "and anomalous (red) rows fall, so you can see what each choice trades."
    )

if "grid" not in ss or ss.get("grid_for") is not detector:
    ss.grid, ss.grid_for = slider_grid(parts), detector
grid = ss.grid
ss.setdefault("thr_default", float(detector.threshold_))
ss.setdefault("threshold", float(detector.threshold_))
ss.setdefault("thr", nearest(grid, ss.threshold))
ss.setdefault("thr_num", float(ss.threshold))


BY_HAND = ("manual", "chosen by hand on the Threshold page")


def _from_slider() -> None:
    ss.threshold = float(ss.thr)
    ss.thr_num = float(ss.thr)
    ss.thr_rule_info = BY_HAND


def _from_number() -> None:
    ss.threshold = float(ss.thr_num)
    ss.thr = nearest(grid, ss.thr_num)
    ss.thr_rule_info = BY_HAND


def _jump(value: float) -> None:
    ss.threshold = float(value)
    ss.thr_num = float(value)
    ss.thr = nearest(grid, value)


controls = st.columns([1, 1, 2])
part = controls[0].radio("Rows shown", ["val", "test"], format_func={"val": "validation", "test": "test"}.get, horizontal=True, key="thr_part",
                         help="Tune on validation rows; test rows are the honest estimate of how the threshold does on new data.")
log_x = controls[1].toggle("Log-scale scores", value=True, key="thr_log", help="Scores are skewed: a log axis spreads out the crowded low end.")
with controls[2]:
    rule_col, button_col = st.columns([3, 1])
    rule = rule_col.selectbox("Jump to a rule", list(JUMP_RULES), format_func=JUMP_RULES.get, key="thr_rule")
    if button_col.button("Apply", key="thr_apply", width="stretch"):
        try:
            chosen = apply_rule(detector, parts, rule)
        except DataError as exc:
            show_error(exc)
        else:
            _jump(chosen.value)
            ss.thr_rule_info = (chosen.rule, chosen.reason)


@st.fragment
def threshold_panel() -> None:
    shown = parts[part]
    a, b = st.columns([3, 1])
    a.select_slider("Threshold", options=list(grid), key="thr", on_change=_from_slider, format_func=lambda v: f"{v:.4g}",
                    help="Steps follow the quantiles of all scores, so there are as many where rows crowd as where they are sparse.")
    b.number_input("Exact value", key="thr_num", on_change=_from_number, format="%.6g", step=None)
    threshold = float(ss.threshold)
    conf = shown.curve.at(threshold)
    rows_name = "validation rows" if part == "val" else "test rows"
    rule, reason = ss.get("thr_rule_info", (detector.threshold_rule_, detector.threshold_reason_))
    note, download = st.columns([3, 1])
    note.caption(f"Threshold rule: {rule} — {reason}")
    with download:
        model_download("thr_download")  # inside the fragment, so it saves the threshold shown now
    st.markdown(decision_sentence(conf, shown.y is not None, rows_name))
    bins = shown.bins_log if log_x else shown.bins
    hist = histogram_figure(bins, threshold, title=f"Anomaly scores of the {rows_name}")
    if shown.y is None:
        st.plotly_chart(hist, key="thr_hist")
        c1, c2 = st.columns(2)
        c1.metric("Rows flagged", f"{conf.flagged:,}")
        c2.metric("Share flagged", f"{conf.flagged / max(conf.n, 1):.2%}")
        st.info("There is no confusion matrix: without a label column nobody knows which rows really are anomalies. "
                "Choose a threshold by how many rows you can afford to review.")
        return
    default_conf = shown.curve.at(ss.thr_default)
    cols = st.columns(len(METRIC_LABELS))
    for col, (key, (value, delta)) in zip(cols, metric_deltas(conf, default_conf).items()):
        col.metric(METRIC_LABELS[key], f"{value:.3f}", delta=None if delta is None or abs(delta) < 5e-4 else f"{delta:+.3f}",
                   help="Change from the model's default threshold." if delta is not None else None)
    left, right = st.columns([3, 2])
    left.plotly_chart(hist, key="thr_hist")
    right.plotly_chart(confusion_figure(conf), key="thr_confusion")
    roc_col, pr_col = st.columns(2)
    roc_col.plotly_chart(roc_figure(shown.points, conf), key="thr_roc")
    pr_col.plotly_chart(pr_figure(shown.points, conf), key="thr_pr")


threshold_panel()
