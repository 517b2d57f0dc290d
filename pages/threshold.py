"""Threshold: drag the threshold across the score histograms; metrics follow at once.
Then defend it: costs, bootstrap intervals, validation against test, a review band, a report."""

from typing import Optional

import pandas as pd
import streamlit as st

from core.errors import DataError
from core.evaluation import (PART_NAMES, TABLE_METRIC_LABELS, Costs, apply_rule, cost_view, evaluate,
                             honest_comparison, jump_rules, metric_table, slider_grid)
from core.explain import OUTCOMES
from core.metrics import review_band
from core.plots import cost_figure, move_cost_marker, move_threshold_marker, pr_figure, roc_figure
from core.thresholds import rule_words
from core.report import report_html, report_json
from core.uncertainty import Bootstrap
from ui import session as state
from ui.downloads import model_download
from ui.guard import require_scored_run, run_page
from ui.paths import INSPECT_PAGE
from ui.text import message
from ui.threshold_control import threshold_control

MAX_CACHED_INTERVALS = 500
#: Cost curves kept per model (each holds two float arrays as long as the validation rows).
MAX_CACHED_COST_CURVES = 4


class View:
    """The Threshold page's view of one model: its widgets and derived values live on the run."""

    def __init__(self, session: state.Session, run: state.ModelRun) -> None:
        self.session, self.run, self.owner = session, run, run.widgets
        self.parts = run.scores
        self.grid = run.cached("slider_grid", lambda: slider_grid(self.parts))
        self.part = "val"  # the rows shown, set when the panel is drawn: a move by hand is made on them

    # --- the threshold in use, one value for every widget ------------------
    def jump(self, value: float, rule: str = state.BY_HAND[0], reason: str = state.BY_HAND[1], set_on: Optional[str] = None) -> None:
        """Every control shows the one threshold in use: the live control follows by itself. ``set_on``: the rows
        whose scores set it (by hand: the rows on screen)."""
        self.run.set_threshold(value, rule, reason, set_on=set_on or self.part)
        state.set_widget(self.owner, "thr_exact", float(value))

    def from_number(self) -> None:
        self.jump(float(state.widget_value(self.owner, "thr_exact")))

    def apply_rule(self) -> None:
        try:
            chosen = apply_rule(self.run.detector, self.parts, state.widget_value(self.owner, "thr_rule"))
        except DataError as exc:
            self.owner.values["rule_error"] = message(exc)
        else:
            self.owner.values.pop("rule_error", None)
            self.jump(chosen.value, chosen.rule, chosen.reason, chosen.set_on)

    def costs_given(self) -> None:
        self.owner.values["costs_given"] = True

    def jump_to_cost(self, value: float, rule: str, reason: str) -> None:
        self.costs_given()
        self.jump(value, rule, reason)

    # --- derived, once per model -----------------------------------------
    def bootstrap(self, part: str) -> Bootstrap:
        return self.run.cached(f"bootstrap_{part}", lambda: Bootstrap(self.parts[part].curve, seed=self.run.detector.random_state))

    def intervals(self, part: str, threshold: float):
        cache = self.run.cached("intervals", dict)
        if (part, threshold) not in cache:
            if len(cache) > MAX_CACHED_INTERVALS:
                cache.clear()
            cache[(part, threshold)] = self.bootstrap(part).intervals(threshold)
        return cache[(part, threshold)]

    def cost_view(self, costs: Costs, threshold: float):
        """The cost curve once per model and costs (a pass over every cut point); the current cost per move."""
        cache = self.run.cached("cost_views", dict)
        key = (costs.false_alarm, costs.miss, costs.prevalence)
        if key not in cache:
            if len(cache) >= MAX_CACHED_COST_CURVES:
                cache.clear()
            cache[key] = cost_view(self.parts, costs, threshold)
        return cache[key].at(threshold)

    def cost_figure(self, costs: Costs, log_x: bool, result, threshold: float):
        """The cost figure built once per model, costs and axis scale (thinning a million cut points and
        Plotly's template take far longer than a move); a move only moves its marker."""
        cache = self.run.cached("cost_figures", dict)
        key = (costs.false_alarm, costs.miss, costs.prevalence, log_x)
        if key not in cache:
            if len(cache) >= 2 * MAX_CACHED_COST_CURVES:
                cache.clear()
            cache[key] = cost_figure(result.thresholds, result.cost, threshold, result.best.value, log_x=log_x)
        return move_cost_marker(cache[key], result.thresholds, result.cost, threshold, result.current_cost)

    def curve_figure(self, kind: str, part: str, conf):
        """The ROC or PR figure built once per model and part; a move only moves its marker."""
        draw = {"roc": roc_figure, "pr": pr_figure}[kind]
        fig = self.run.cached(f"{kind}_figure_{part}", lambda: draw(self.parts[part].points, conf))
        return move_threshold_marker(fig, conf, kind)

    def kept(self, widget, label, name, default, column=st, **kwargs):
        return state.kept(getattr(column, widget), label, owner=self.owner, name=name, default=default, **kwargs)


def controls(view: View) -> tuple[str, bool]:
    cols = st.columns([1, 1, 2])
    part = view.kept("radio", "Rows shown", "thr_part", "val", cols[0], options=["val", "test"], format_func={"val": "validation", "test": "test"}.get,
                     horizontal=True, help="Tune on validation rows; test rows are the honest estimate of how the threshold does on new data.")
    log_x = view.kept("toggle", "Log-scale scores", "thr_log", True, cols[1], help="Scores are skewed: a log axis spreads out the crowded low end.")
    with cols[2]:
        rule_col, button_col = st.columns([3, 1])
        rules = jump_rules(labelled=view.parts["val"].y is not None)
        in_use = view.run.default_threshold.rule  # the picker opens on the rule the model chose, where it is offered
        view.kept("selectbox", "Jump to a rule", "thr_rule", in_use if in_use in rules else next(iter(rules)), rule_col, options=list(rules),
                  format_func=rules.get, valid=rules.__contains__,
                  help="The rule Apply moves the threshold to. It is not always the rule in use: that one is named under the chart and in the sidebar.")
        button_col.button("Apply", key="thr_apply", width="stretch", on_click=view.apply_rule)
        if view.owner.get("rule_error"):
            st.error(view.owner.get("rule_error"), icon=":material/error:")
    return part, log_x


def metrics_tab(view: View, part: str, conf, threshold: float) -> None:
    shown = view.parts[part]
    default_conf = shown.curve.at(view.run.default_threshold.value)
    boot = view.bootstrap(part)
    st.caption(f"At threshold {threshold:.6g}, on the {conf.n:,} {PART_NAMES[part]}: each metric with its 95 % bootstrap interval "
               f"({boot.n_resamples:,} resamples of these rows; a share seen at 0 or 1, such as no false alarm, reaches the exact binomial bound "
               f"instead of a width of nothing) and its change from the model's default threshold "
               f"({view.run.default_threshold.value:.6g}).")
    st.dataframe(metric_table(conf, default_conf, view.intervals(part, threshold)), width="stretch")
    st.caption("Open the rows of a cell on the Inspect page:")
    cells = st.columns(4)
    for col, (outcome, count) in zip(cells, (("FP", conf.fp), ("FN", conf.fn), ("TP", conf.tp), ("TN", conf.tn))):
        if col.button(f"{OUTCOMES[outcome]} ({count:,})", key=f"thr_inspect_{outcome}", width="stretch"):
            view.run.widgets.set("inspect_outcomes", [outcome])
            view.run.widgets.set("inspect_part", part)
            st.switch_page(INSPECT_PAGE)
    roc_col, pr_col = st.columns(2)
    roc_col.plotly_chart(view.curve_figure("roc", part, conf), key="thr_roc")
    pr_col.plotly_chart(view.curve_figure("pr", part, conf), key="thr_pr")


def current_costs(view: View) -> Costs | None:
    values = view.owner.values
    if not values.get("costs_given"):
        return None
    fa, miss = values.get("cost_fa", 1.0), values.get("cost_miss", 10.0)
    if fa == 0 and miss == 0:
        return None
    return Costs(fa, miss, values.get("cost_prev", 0.01) if values.get("cost_prev_on") else None)


def costs_tab(view: View, log_x: bool, threshold: float) -> None:
    st.markdown("What does a mistake cost? Enter the cost of one false alarm and of one missed anomaly in any unit (money, minutes, risk points).")
    a, b, c = st.columns(3)
    given = {"on_change": view.costs_given}
    fa = view.kept("number_input", "Cost of a false alarm", "cost_fa", 1.0, a, min_value=0.0, step=1.0, **given)
    miss = view.kept("number_input", "Cost of a missed anomaly", "cost_miss", 10.0, b, min_value=0.0, step=1.0, **given)
    differs = view.kept("toggle", "Other anomaly share", "cost_prev_on", False, c, help="On: give the share of anomalies expected in production. Off: the share in the validation rows is used.", **given)
    prevalence = view.kept("number_input", "Expected anomaly share", "cost_prev", 0.01, c, min_value=0.0001, max_value=0.9999, format="%.4f", **given) if differs else None
    if fa == 0 and miss == 0:
        st.info("Give at least one cost above zero.")
        return
    costs = Costs(fa, miss, prevalence)
    result = view.cost_view(costs, threshold)
    st.plotly_chart(view.cost_figure(costs, log_x, result, threshold), key="thr_cost")
    st.markdown(f"On the validation rows, the expected cost at the current threshold is **{result.current_cost:.1f}** per 1,000 rows; the minimum is "
                f"**{result.cost.min():.1f}** at threshold **{result.best.value:.6g}**.")
    st.button("Move the threshold to the minimum cost", key="cost_jump", on_click=view.jump_to_cost, args=(result.best.value, result.best.rule, result.best.reason),
              icon=":material/my_location:")
    if not view.owner.get("costs_given"):
        st.caption("The report includes costs once you change them or move to the minimum.")


def band_tab(view: View, part: str, threshold: float) -> None:
    st.markdown("A screening team often has three outcomes: pass, **review** by a person, and flag. Rows scoring between a lower threshold and the threshold go to review.")
    if not view.kept("toggle", "Use a review band", "band_on", False):
        return
    below = [float(g) for g in view.grid if g < threshold]
    if not below:
        st.info("The threshold is at the lowest score: there is no room for a band below it.")
        return
    default = below[max(0, len(below) - 1 - len(view.grid) // 20)]  # about 5 % of the rows below the threshold
    kept_low = view.run.review_band_start
    if view.run.review_band_idle:  # the threshold moved to or below the band's start: said, not moved
        st.warning(f"The threshold ({threshold:.6g}) is now at or below where the band starts ({kept_low:.6g}), so no row goes to review, "
                   "here or on the Score page. Move the threshold back above it, or start the band below the threshold.", icon=":material/warning:")
        st.button("Start the band below the threshold", key="band_restart", on_click=state.set_widget, args=(view.owner, "band_low", default))
        return
    if kept_low is not None and kept_low not in below:  # a restored model's band may start between the grid's steps: kept, not moved
        below = sorted([*below, float(kept_low)])
    low = view.kept("select_slider", "Lower threshold (review from here)", "band_low", default, valid=lambda v: v in below, options=below,
                    format_func=lambda v: f"{v:.6g}")
    band = review_band(view.parts[part].curve, low, threshold)
    st.caption(f"On the {PART_NAMES[part]}.")
    table = pd.DataFrame({"passed (below the band)": [band.normal[0], band.anomaly[0]], "for review": [band.normal[1], band.anomaly[1]],
                          "flagged": [band.normal[2], band.anomaly[2]]}, index=["actual normal", "actual anomaly"])
    st.dataframe(table, width="stretch")
    a, b, c = st.columns(3)
    a.metric(f"Rows to review per 1,000 {PART_NAMES[part]}", f"{band.review_per_1000:.1f}")
    gain = band.recall_with_band - band.recall_without_band
    b.metric("Recall with the band", f"{band.recall_with_band:.3f}", delta=f"{gain:+.3f}" if round(gain, 3) else None,
             help="If reviewers recognise every anomaly sent to them.")  # no arrow beside a gain of +0.000
    c.metric("Normal rows a person looks at", f"{band.normal[1]:,}", help="The price of the band: normal rows sent to review.")
    st.caption("The band goes with the model: the Score page counts and marks its rows, and a downloaded model carries it to the "
               "command line's score, the HTTP service, Spark and MLflow (column for_review).")


def honest_tab(view: View, part: str, threshold) -> None:
    comparison = honest_comparison(view.parts, threshold, part)
    st.markdown(comparison.sentence)
    frame = pd.DataFrame({"validation": comparison.validation, "test": comparison.test}).loc[list(TABLE_METRIC_LABELS)]
    frame.index = list(TABLE_METRIC_LABELS.values())
    frame["test − validation"] = frame["test"] - frame["validation"]
    st.dataframe(frame.style.format("{:.3f}"), width="stretch")


def report_tab(view: View, threshold, labelled: bool = True) -> None:
    st.markdown("One HTML file that opens offline, with the data's fingerprint, the model, the threshold and how it was chosen, "
                + ("the results on **test rows** with intervals, the curves, and the costs and review band if you set them (each on the rows it names); "
                   if labelled else "and the **test rows** it flags (without labels there is nothing to measure them against); ")
                + "a JSON of the same numbers beside it.")
    # The downloads are built on another thread when clicked: capture plain values, not session state.
    run, parts = view.run, view.parts
    costs, low = (current_costs(view), run.review_from) if labelled else (None, None)
    detector, prepared, name = run.detector, run.prepared, view.session.table.name.rsplit(".", 1)[0]
    bootstrap = view.bootstrap  # the test rows' resamples (seconds at a million rows) are drawn when a download is asked for, once per model

    def evaluation():
        if not labelled:
            return evaluate(parts, threshold, "test")
        return evaluate(parts, threshold, "test", bootstrap=bootstrap("test"), costs=costs, band_low=low)

    a, b = st.columns(2)
    with a:
        st.download_button("Download report (HTML)", data=lambda: report_html(detector, prepared, parts, evaluation()).encode("utf-8"),
                           file_name=f"anomaly-lab-report-{name}.html", mime="text/html", key="report_html", icon=":material/description:", on_click="ignore")
    with b:
        st.download_button("Download numbers (JSON)", data=lambda: report_json(detector, prepared, evaluation()).encode("utf-8"),
                           file_name=f"anomaly-lab-report-{name}.json", mime="application/json", key="report_json", icon=":material/data_object:", on_click="ignore")


@st.fragment
def threshold_panel(view: View, part: str, log_x: bool) -> None:
    run = view.run
    view.part = part
    shown = view.parts[part]
    control, exact = st.columns([4, 1])
    with control:
        # Drawn and recomputed in the browser while the pointer drags; the exact value comes back on release.
        threshold_control(shown.curve, run.threshold.value, key=view.owner.key(f"thr_live_{part}_{int(log_x)}"),
                          memory=run.cached(f"thr_live_{part}_{int(log_x)}", dict), log_scale=log_x, rows_label=PART_NAMES[part],
                          histogram=shown.bins_log if log_x else shown.bins, on_change=view.jump)
    view.kept("number_input", "Exact value", "thr_exact", run.threshold.value, exact, on_change=view.from_number, format="%.6g", step=None,
              help="Type a threshold; the control above follows.")
    threshold = run.threshold
    conf = shown.curve.at(threshold.value)
    note, download = st.columns([3, 1])
    note.caption(f"Threshold in use: {threshold.value:.6g} · rule: {rule_words(threshold.rule)} ({threshold.rule}, as the command line names it) — {threshold.reason}")
    with download:
        model_download(run, "thr_download", view.session.table.name)  # inside the fragment, so it saves the threshold shown now
    if shown.y is None:  # the control shows the rows flagged and their share, live
        st.info("There is no confusion matrix: without a label column nobody knows which rows really are anomalies. "
                "Choose a threshold by how many rows you can afford to review.")
        report_tab(view, threshold, labelled=False)
        return
    tabs = st.tabs(["Metrics", "Costs", "Validation vs test", "Review band", "Report"])
    with tabs[0]:
        metrics_tab(view, part, conf, threshold.value)
    with tabs[1]:
        costs_tab(view, log_x, threshold.value)
    with tabs[2]:
        honest_tab(view, part, threshold)
    with tabs[3]:
        band_tab(view, part, threshold.value)
    with tabs[4]:
        report_tab(view, threshold)


#: What a row's anomaly score measures, by the kind of model in use (ModelRun.kind).
SCORE_MEANS = {"autoencoder": "how badly the autoencoder rebuilds it",
               "ensemble": "the mean of its networks' scores, each how badly that network rebuilds it",
               "baseline": "how far it lies from the normal training rows, as the baseline measures it"}


def body() -> None:
    session = state.get()
    st.title("Threshold")
    run = require_scored_run(session, "the threshold is set on its anomaly scores.")
    with st.expander("What am I looking at?"):
        st.markdown(
            f"Each row gets an anomaly score: {SCORE_MEANS[run.kind]} (higher = more unusual). "
            "Rows scoring above the threshold are flagged. Moving the threshold **left** catches more anomalies but raises "
            "more false alarms on normal rows; moving it **right** does the opposite. The histograms show where normal (blue) "
            "and anomalous (red) rows fall, so you can see what each choice trades. The intervals say how much the numbers "
            "could move on another sample of rows of the same kind. Percentages beside a count are shares of its actual class."
        )
    view = View(session, run)
    part, log_x = controls(view)
    threshold_panel(view, part, log_x)


run_page(body, sidebar_threshold=False)
