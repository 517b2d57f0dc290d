"""The Threshold page's server work after a committed threshold move, at 1,000,000 scored rows (issue 16, item 3).

Direct timing of what the page's fragment does on each rerun (metrics, intervals, ROC/PR,
cost curve, validation-vs-test, each figure serialised as Streamlit sends it), after the
first visit has filled the per-model caches. Target: ≤ 150 ms. Prints each piece, and the
first visit's one-off costs.
"""

from __future__ import annotations

import time

import numpy as np
import plotly.io as pio
import pytest

from core.evaluation import Costs, cost_view, honest_comparison, metric_table
from core.metrics import ThresholdCurve
from core.pipeline import PartScores
from core.plots import cost_figure, curve_points, histogram_bins, move_cost_marker, move_threshold_marker, pr_figure, roc_figure
from core.thresholds import Threshold
from core.uncertainty import Bootstrap

pytestmark = pytest.mark.benchmark
N_ROWS = 1_000_000


def _part(name: str, seed: int) -> PartScores:
    rng = np.random.default_rng(seed)
    y = (rng.random(N_ROWS) < 0.05).astype(int)
    scores = np.exp(rng.normal(0, 1, N_ROWS) + 1.5 * y)
    curve = ThresholdCurve(scores, y)
    return PartScores(name, np.arange(N_ROWS), scores, y, curve, histogram_bins(scores, y), histogram_bins(scores, y, log_x=True), curve_points(curve))


def test_threshold_page_rerun_after_a_committed_move_at_a_million_rows():
    t0 = time.perf_counter()
    parts = {"val": _part("val", 0), "test": _part("test", 1)}
    t_parts = time.perf_counter() - t0
    t0 = time.perf_counter()
    boot = Bootstrap(parts["val"].curve, seed=0)
    t_boot = time.perf_counter() - t0
    costs = Costs(1.0, 10.0, None)
    default = Threshold(float(np.quantile(parts["val"].scores, 0.95)), "default", "")
    pieces: dict[str, list[float]] = {}

    def timed(name, fn):
        t = time.perf_counter()
        out = fn()
        pieces.setdefault(name, []).append(time.perf_counter() - t)
        return out

    kept: dict = {}

    def once(name, compute):
        if name not in kept:
            kept[name] = compute()
        return kept[name]

    def rerun(value: float, cached: bool) -> float:
        """The fragment's work; ``cached`` as the page does it now (figures and cost curve kept per model)."""
        t_start = time.perf_counter()
        shown = parts["val"]
        conf = shown.curve.at(value)
        intervals = timed("bootstrap intervals", lambda: boot.intervals(value))
        timed("confusion + metric table", lambda: metric_table(shown.curve.at(value), shown.curve.at(default.value), intervals))
        if cached:
            figures = timed("ROC + PR figures", lambda: [move_threshold_marker(once(kind, lambda: draw(shown.points, conf)), conf, kind)
                                                        for kind, draw in (("roc", roc_figure), ("pr", pr_figure))])
        else:
            figures = timed("ROC + PR figures", lambda: [roc_figure(shown.points, conf), pr_figure(shown.points, conf)])
        timed("ROC + PR sent", lambda: [pio.to_json(f, validate=False) for f in figures])
        result = timed("cost curve", lambda: once("cost", lambda: cost_view(parts, costs, value)).at(value) if cached else cost_view(parts, costs, value))
        if cached:
            cost_fig = timed("cost figure", lambda: move_cost_marker(once("cost_figure", lambda: cost_figure(result.thresholds, result.cost, value, result.best.value, log_x=True)),
                                                                     result.thresholds, result.cost, value))
        else:
            cost_fig = timed("cost figure", lambda: cost_figure(result.thresholds, result.cost, value, result.best.value, log_x=True))
        timed("cost figure sent", lambda: pio.to_json(cost_fig, validate=False))
        timed("validation vs test", lambda: honest_comparison(parts, Threshold(value, "manual", ""), "val"))
        return time.perf_counter() - t_start

    values = np.quantile(parts["val"].scores, np.linspace(0.80, 0.999, 21))
    for cached in (False, True):
        pieces.clear()
        first = rerun(values[0], cached)
        pieces.clear()
        times = [rerun(v, cached) for v in values[1:]]
        ms = 1e3 * float(np.median(times))
        how = "figures and cost curve kept per model (the page now)" if cached else "everything afresh (before)"
        print(f"\n{N_ROWS:,} validation rows, {how}: one rerun after a committed move {ms:.0f} ms server time "
              f"(median of 20; target ≤ 150 ms, ratio {ms / 150:.2f}); first rerun {1e3 * first:.0f} ms")
        for name, seconds in pieces.items():
            print(f"  {name:<22} {1e3 * float(np.median(seconds)):7.1f} ms")
    print(f"once per model: scores → curves, bins, points for two parts {t_parts:.1f} s; bootstrap of one part {t_boot:.1f} s ({boot.n_resamples} resamples)")
