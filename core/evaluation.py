"""What the Threshold page shows, computed from precomputed scores (never the model)."""

from __future__ import annotations

from typing import Optional

import numpy as np

from core.metrics import Confusion
from core.pipeline import PartScores
from core.thresholds import Threshold, choose_threshold

SLIDER_STEPS = 1000
#: Rules offered as one-click jumps on the Threshold page.
JUMP_RULES = {
    "max_f1": "Max F1 on validation rows",
    "youden": "Youden's J on validation rows",
    "percentile:95": "95th percentile of normal training scores",
    "percentile:99": "99th percentile of normal training scores",
    "mean_std:1": "Mean + 1·std of normal training scores",
    "mean_std:2": "Mean + 2·std of normal training scores",
    "max_train": "Largest normal training score",
}
METRIC_LABELS = {
    "precision": "Precision", "recall": "Recall", "f1": "F1", "accuracy": "Accuracy",
    "specificity": "Specificity", "balanced_accuracy": "Balanced accuracy", "mcc": "MCC",
}


def slider_grid(parts: dict[str, PartScores], steps: int = SLIDER_STEPS) -> np.ndarray:
    """Threshold values for the slider: quantiles of every score, so steps are dense
    where rows are dense and a skewed score is not squeezed into two ticks."""
    everything = np.concatenate([p.scores for p in parts.values()])
    grid = np.quantile(everything, np.linspace(0.0, 1.0, steps + 1))
    return np.unique(np.round(grid, 12))


def nearest(grid: np.ndarray, value: float) -> float:
    i = int(np.clip(np.searchsorted(grid, value), 1, len(grid) - 1))
    return float(grid[i] if abs(grid[i] - value) < abs(grid[i - 1] - value) else grid[i - 1])


def apply_rule(detector, parts: dict[str, PartScores], rule: str) -> Threshold:
    """A rule's threshold: label-free rules on normal training scores, label rules on validation rows."""
    val = parts.get("val")
    return choose_threshold(rule, detector.decision_scores_, None if val is None else val.scores, None if val is None else val.y)


def decision_sentence(conf: Confusion, has_labels: bool, rows_name: str) -> str:
    """The decision rule as an expert would repeat it."""
    rule = f"Flag a row when its anomaly score exceeds **{conf.threshold:.5g}**."
    if not has_labels:
        return f"{rule} On the {conf.n:,} {rows_name} this flags {conf.flagged:,} rows ({conf.flagged / max(conf.n, 1):.1%})."
    m = conf.metrics()
    return (f"{rule} On the {conf.n:,} {rows_name} this flags {m['fpr']:.1%} of normal rows (false alarms: {conf.fp:,}) "
            f"and catches {m['recall']:.1%} of anomalies ({conf.tp:,} of {conf.tp + conf.fn:,}).")


def metric_deltas(conf: Confusion, reference: Optional[Confusion]) -> dict[str, tuple[float, Optional[float]]]:
    """Each metric and its change from the reference (default) threshold."""
    now = conf.metrics()
    ref = reference.metrics() if reference is not None else None
    return {k: (now[k], None if ref is None else now[k] - ref[k]) for k in METRIC_LABELS}
