"""Threshold: drag the threshold across the score histograms; metrics follow at once.
Then defend it: costs, bootstrap intervals, validation against test, a review band, a report."""

import pandas as pd
import streamlit as st

from core.errors import DataError
from core.evaluation import (JUMP_RULES, METRIC_LABELS, PART_NAMES, Costs, apply_rule, cost_view, decision_sentence, evaluate,
                             honest_comparison, metric_deltas, nearest, slider_grid)
from core.explain import OUTCOMES
from core.metrics import review_band
from core.plots import confusion_figure, cost_figure, histogram_figure, pr_figure, roc_figure
from core.report import report_html, report_json
from core.uncertainty import Bootstrap
from pages.common import INSPECT_PAGE, TRAIN_PAGE, current_threshold, model_download, require, show_error, ss

st.title("Threshold")
require("detector", "Train a model first: the threshold is set on its anomaly scores.", TRAIN_PAGE, "Go to Train")
require("scores", "This model has no scored rows yet: load a labelled table with its columns on the Data page.", TRAIN_PAGE, "Go to Train")
detector, parts = ss.detector, ss.scores

with st.expander("What am I looking at?"):
    st.markdown(
        "Each row gets an anomaly score: how badly the autoencoder rebuilds it (higher = more unusual). "
        "Rows scoring above the threshold are flagged. Moving the threshold **left** catches more anomalies but raises "
        "more false alarms on normal rows; moving it **right** does the opposite. The histograms show where normal (blue) "
        "and anomalous (red) rows fall, so you can see what each choice trades. The intervals say how much the numbers "
        "could move on another sample of rows of the same kind."
    )

if ss.get("grid_for") is not detector:
    ss.grid, ss.grid_for = slider_grid(parts), detector
    ss.bootstraps, ss.intervals_cache = {}, {}
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


def _jump(value: float, rule: str, reason: str) -> None:
    ss.threshold = float(value)
    ss.thr_num = float(value)
    ss.thr = nearest(grid, value)
    ss.thr_rule_info = (rule, reason)


def _apply_rule() -> None:
    try:
        chosen = apply_rule(detector, parts, ss.thr_rule)
    except DataError as exc:
        ss.thr_rule_error = str(exc)
    else:
        ss.pop("thr_rule_error", None)
        _jump(chosen.value, chosen.rule, chosen.reason)


def _costs_given() -> None:
    ss.costs_given = True


def _jump_to_cost(value: float, rule: str, reason: str) -> None:
    _costs_given()
    _jump(value, rule, reason)


def _bootstrap(part: str) -> Bootstrap:
    if part not in ss.bootstraps:
        ss.bootstraps[part] = Bootstrap(parts[part].curve, seed=detector.random_state)
    return ss.bootstraps[part]


def _intervals(part: str, threshold: float):
    key = (part, threshold)
    if key not in ss.intervals_cache:
        if len(ss.intervals_cache) > 500:
            ss.intervals_cache.clear()
        ss.intervals_cache[key] = _bootstrap(part).intervals(threshold)
    return ss.intervals_cache[key]


controls = st.columns([1, 1, 2])
part = controls[0].radio("Rows shown", ["val", "test"], format_func={"val": "validation", "test": "test"}.get, horizontal=True, key="thr_part",
                         help="Tune on validation rows; test rows are the honest estimate of how the threshold does on new data.")
log_x = controls[1].toggle("Log-scale scores", value=True, key="thr_log", help="Scores are skewed: a log axis spreads out the crowded low end.")
with controls[2]:
    rule_col, button_col = st.columns([3, 1])
    rule_col.selectbox("Jump to a rule", list(JUMP_RULES), format_func=JUMP_RULES.get, key="thr_rule")
    button_col.button("Apply", key="thr_apply", width="stretch", on_click=_apply_rule)
    if ss.get("thr_rule_error"):
        show_error(DataError(ss.thr_rule_error))


def metrics_tab(shown, conf, threshold: float) -> None:
    default_conf = shown.curve.at(ss.thr_default)
    cols = st.columns(len(METRIC_LABELS))
    for col, (key, (value, delta)) in zip(cols, metric_deltas(conf, default_conf).items()):
        col.metric(METRIC_LABELS[key], f"{value:.3f}", delta=None if delta is None or abs(delta) < 5e-4 else f"{delta:+.3f}",
                   help="Change from the model's default threshold." if delta is not None else None)
    iv = _intervals(part, threshold)
    boot = ss.bootstraps[part]
    st.caption(f"95 % bootstrap intervals ({boot.n_resamples:,} resamples of the {conf.n:,} {PART_NAMES[part]}): "
               + " · ".join(f"{name} {iv[key]}" for key, name in (("precision", "precision"), ("recall", "recall"), ("f1", "F1"),
                                                                  ("specificity", "specificity"), ("fpr", "false-alarm rate"))))
    left, right = st.columns([3, 2])
    left.plotly_chart(histogram_figure(shown.bins_log if log_x else shown.bins, threshold, title=f"Anomaly scores of the {PART_NAMES[part]}"), key="thr_hist")
    with right:
        st.plotly_chart(confusion_figure(conf), key="thr_confusion")
        st.caption("Open the rows of a cell on the Inspect page:")
        cells = st.columns(4)
        for col, (outcome, count) in zip(cells, (("FP", conf.fp), ("FN", conf.fn), ("TP", conf.tp), ("TN", conf.tn))):
            if col.button(f"{OUTCOMES[outcome]} ({count:,})", key=f"thr_inspect_{outcome}", width="stretch"):
                ss.inspect_outcome, ss.inspect_part = outcome, part
                st.switch_page(INSPECT_PAGE)
    roc_col, pr_col = st.columns(2)
    roc_col.plotly_chart(roc_figure(shown.points, conf), key="thr_roc")
    pr_col.plotly_chart(pr_figure(shown.points, conf), key="thr_pr")


def costs_tab(threshold: float) -> None:
    st.markdown("What does a mistake cost? Enter the cost of one false alarm and of one missed anomaly in any unit (money, minutes, risk points).")
    a, b, c = st.columns(3)
    given = {"on_change": _costs_given}
    fa = a.number_input("Cost of a false alarm", min_value=0.0, value=1.0, step=1.0, key="cost_fa", **given)
    miss = b.number_input("Cost of a missed anomaly", min_value=0.0, value=10.0, step=1.0, key="cost_miss", **given)
    differs = c.toggle("Anomaly share in production differs", key="cost_prev_on", help="Otherwise the share in the validation rows is used.", **given)
    prevalence = c.number_input("Expected anomaly share", min_value=0.0001, max_value=0.9999, value=0.01, format="%.4f", key="cost_prev", **given) if differs else None
    if fa == 0 and miss == 0:
        st.info("Give at least one cost above zero.")
        return
    costs = Costs(fa, miss, prevalence)
    ss.costs = costs
    view = cost_view(parts, costs, threshold)
    st.plotly_chart(cost_figure(view.thresholds, view.cost, threshold, view.best.value, log_x=log_x), key="thr_cost")
    st.markdown(f"At the current threshold the expected cost is **{view.current_cost:.1f}** per 1,000 rows; the minimum on validation rows is "
                f"**{view.cost.min():.1f}** at threshold **{view.best.value:.5g}**.")
    st.button("Move the threshold to the minimum cost", key="cost_jump", on_click=_jump_to_cost, args=(view.best.value, view.best.rule, view.best.reason),
              icon=":material/my_location:")
    if not ss.get("costs_given"):
        st.caption("The report includes costs once you change them or move to the minimum.")


def band_tab(shown, threshold: float) -> None:
    st.markdown("A screening team often has three outcomes: pass, **review** by a person, and flag. Rows scoring between a lower threshold and the threshold go to review.")
    if not st.toggle("Use a review band", key="band_on"):
        ss.pop("band_low", None)
        return
    below = [g for g in grid if g < threshold]
    if not below:
        st.info("The threshold is at the lowest score: there is no room for a band below it.")
        return
    default = below[max(0, len(below) - 1 - len(grid) // 20)]  # about 5 % of the rows below the threshold
    if ss.get("band_pick") not in below:
        ss.band_pick = default
    low = st.select_slider("Lower threshold (review from here)", options=below, key="band_pick", format_func=lambda v: f"{v:.4g}")
    ss.band_low = float(low)
    band = review_band(shown.curve, low, threshold)
    table = pd.DataFrame({"passed (below the band)": [band.normal[0], band.anomaly[0]], "for review": [band.normal[1], band.anomaly[1]],
                          "flagged": [band.normal[2], band.anomaly[2]]}, index=["actual normal", "actual anomaly"])
    st.dataframe(table, width="stretch")
    a, b, c = st.columns(3)
    a.metric("Rows to review per 1,000", f"{band.review_per_1000:.1f}")
    b.metric("Recall with the band", f"{band.recall_with_band:.3f}", delta=f"{band.recall_with_band - band.recall_without_band:+.3f}",
             help="If reviewers recognise every anomaly sent to them.")
    c.metric("Normal rows a person looks at", f"{band.normal[1]:,}", help="The price of the band: normal rows sent to review.")


def honest_tab(threshold) -> None:
    comparison = honest_comparison(parts, threshold, part)
    st.markdown(comparison.sentence)
    frame = pd.DataFrame({"validation": comparison.validation, "test": comparison.test}).loc[list(METRIC_LABELS) + ["fpr"]]
    frame["test − validation"] = frame["test"] - frame["validation"]
    st.dataframe(frame.style.format("{:.3f}"), width="stretch")


def report_tab(threshold) -> None:
    st.markdown("One HTML file that opens offline, with the data's fingerprint, the model, the threshold and how it was chosen, "
                "the results on test rows with intervals, the curves, and the costs and review band if you set them; a JSON of the same numbers beside it.")
    # The downloads are built on another thread when clicked: capture plain values, not session state.
    costs = ss.get("costs") if ss.get("costs_given") else None
    band_low, prepared, boot = ss.get("band_low"), ss.prepared, _bootstrap("test")
    name = ss.table.name.rsplit(".", 1)[0]

    def evaluation():
        return evaluate(parts, threshold, "test", bootstrap=boot, costs=costs, band_low=band_low)

    a, b = st.columns(2)
    with a:
        st.download_button("Download report (HTML)", data=lambda: report_html(detector, prepared, parts, evaluation()).encode("utf-8"),
                           file_name=f"anomaly-lab-report-{name}.html", mime="text/html", key="report_html", icon=":material/description:", on_click="ignore")
    with b:
        st.download_button("Download numbers (JSON)", data=lambda: report_json(detector, prepared, evaluation()).encode("utf-8"),
                           file_name=f"anomaly-lab-report-{name}.json", mime="application/json", key="report_json", icon=":material/data_object:", on_click="ignore")


@st.fragment
def threshold_panel() -> None:
    shown = parts[part]
    a, b = st.columns([3, 1])
    a.select_slider("Threshold", options=list(grid), key="thr", on_change=_from_slider, format_func=lambda v: f"{v:.4g}",
                    help="Steps follow the quantiles of all scores, so there are as many where rows crowd as where they are sparse.")
    b.number_input("Exact value", key="thr_num", on_change=_from_number, format="%.6g", step=None)
    threshold = current_threshold()
    conf = shown.curve.at(threshold.value)
    note, download = st.columns([3, 1])
    note.caption(f"Threshold rule: {threshold.rule} — {threshold.reason}")
    with download:
        model_download("thr_download")  # inside the fragment, so it saves the threshold shown now
    st.markdown(decision_sentence(conf, shown.y is not None, PART_NAMES[part]))
    if shown.y is None:
        st.plotly_chart(histogram_figure(shown.bins_log if log_x else shown.bins, threshold.value, title=f"Anomaly scores of the {PART_NAMES[part]}"), key="thr_hist")
        c1, c2 = st.columns(2)
        c1.metric("Rows flagged", f"{conf.flagged:,}")
        c2.metric("Share flagged", f"{conf.flagged / max(conf.n, 1):.2%}")
        st.info("There is no confusion matrix: without a label column nobody knows which rows really are anomalies. "
                "Choose a threshold by how many rows you can afford to review.")
        return
    tabs = st.tabs(["Metrics", "Costs", "Validation vs test", "Review band", "Report"])
    with tabs[0]:
        metrics_tab(shown, conf, threshold.value)
    with tabs[1]:
        costs_tab(threshold.value)
    with tabs[2]:
        honest_tab(threshold)
    with tabs[3]:
        band_tab(shown, threshold.value)
    with tabs[4]:
        report_tab(threshold)


threshold_panel()
