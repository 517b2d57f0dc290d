"""What the Threshold page keeps per model gives the same figures and costs as computing them afresh."""

import numpy as np
import pytest

from core.evaluation import Costs, cost_view
from core.metrics import ThresholdCurve
from core.pipeline import PartScores
from core.plots import curve_points, histogram_bins, move_threshold_marker, pr_figure, roc_figure


def _val_part(n: int = 2000, seed: int = 0) -> PartScores:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.1).astype(int)
    scores = np.exp(rng.normal(0, 1, n) + 1.5 * y)
    curve = ThresholdCurve(scores, y)
    return PartScores("val", np.arange(n), scores, y, curve, histogram_bins(scores, y), histogram_bins(scores, y, log_x=True), curve_points(curve))


@pytest.mark.parametrize("kind, draw", [("roc", roc_figure), ("pr", pr_figure)])
def test_a_moved_marker_equals_a_figure_drawn_afresh(kind, draw):
    part = _val_part()
    first, later = (part.curve.at(float(np.quantile(part.scores, q))) for q in (0.5, 0.97))
    moved = move_threshold_marker(draw(part.points, first), later, kind).to_plotly_json()
    fresh = draw(part.points, later).to_plotly_json()
    assert moved == fresh


def test_a_kept_cost_curve_read_at_any_threshold_equals_a_fresh_one():
    parts = {"val": _val_part()}
    costs = Costs(1.0, 25.0, 0.02)
    kept = cost_view(parts, costs, 0.0)
    for t in np.quantile(parts["val"].scores, [0.0, 0.3, 0.9, 0.999, 1.0]).tolist() + [-1.0, 1e9]:
        fresh, read = cost_view(parts, costs, t), kept.at(t)
        assert read.current_cost == fresh.current_cost and read.best == fresh.best


def test_a_moved_cost_marker_equals_a_cost_figure_drawn_afresh():
    from core.plots import cost_figure, move_cost_marker
    from core.thresholds import cost_per_1000

    part = _val_part()
    thresholds, cost = cost_per_1000(part.curve, 1.0, 25.0)
    best = float(thresholds[int(np.argmin(cost))])
    first, later = (float(np.quantile(part.scores, q)) for q in (0.5, 0.97))
    moved = move_cost_marker(cost_figure(thresholds, cost, first, best, log_x=True), thresholds, cost, later).to_plotly_json()
    assert moved == cost_figure(thresholds, cost, later, best, log_x=True).to_plotly_json()


def test_the_cost_at_a_threshold_is_the_cost_of_the_confusion_counts_there():
    """A threshold on a score (as a hand-set or a validation-chosen one is, read on other rows) costs what
    its own false alarms and misses cost, not what the curve's cut just below it costs."""
    parts = {"val": _val_part()}
    curve, costs = parts["val"].curve, Costs(1.0, 50.0)
    on_scores = np.sort(parts["val"].scores)[[0, 7, 999, 1990, 1999]].tolist()
    for t in on_scores + [float(np.mean(on_scores[2:4])), -1.0, 1e9]:
        conf = curve.at(t)
        expected = 1000 * (conf.fp * 1.0 + conf.fn * 50.0) / conf.n  # at the data's anomaly share
        assert cost_view(parts, costs, t).current_cost == pytest.approx(expected, rel=1e-12), t
