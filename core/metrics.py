"""Every metric at every threshold from one sort.

:class:`ThresholdCurve` sorts the scores once and keeps cumulative counts of
anomalies, so the confusion matrix at any threshold is a binary search
(O(log n)), and ROC / PR curves and their areas come from the same arrays.
A row is flagged when its score is strictly greater than the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

METRIC_NAMES = ("precision", "recall", "f1", "accuracy", "specificity", "balanced_accuracy", "mcc", "fpr")


def _ratio(num, den):
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)


def metrics_from_counts(tp, fp, tn, fn) -> dict[str, np.ndarray]:
    """Precision, recall, F1, ... from confusion counts (scalars or arrays); 0 where undefined."""
    tp, fp, tn, fn = (np.asarray(v, dtype=np.float64) for v in (tp, fp, tn, fn))
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    specificity = _ratio(tn, tn + fp)
    mcc_den = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return {
        "precision": precision,
        "recall": recall,
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        "accuracy": _ratio(tp + tn, tp + tn + fp + fn),
        "specificity": specificity,
        "balanced_accuracy": (recall + specificity) / 2,
        "mcc": _ratio(tp * tn - fp * fn, mcc_den),
        "fpr": _ratio(fp, fp + tn),
    }


@dataclass(frozen=True)
class Confusion:
    """Confusion counts at one threshold (anomaly = positive)."""

    threshold: float
    tn: int
    fp: int
    fn: int
    tp: int

    @property
    def n(self) -> int:
        return self.tn + self.fp + self.fn + self.tp

    @property
    def flagged(self) -> int:
        return self.fp + self.tp

    def metrics(self) -> dict[str, float]:
        return {k: float(v) for k, v in metrics_from_counts(self.tp, self.fp, self.tn, self.fn).items()}

    def share_of_class(self, cell: str) -> float:
        """A cell's count as a share of its actual class (fp: of actual normal rows, i.e. the
        false-alarm rate). The one definition of a percentage beside a count."""
        normal, anomaly = self.tn + self.fp, self.tp + self.fn
        count, total = {"tn": (self.tn, normal), "fp": (self.fp, normal), "fn": (self.fn, anomaly), "tp": (self.tp, anomaly)}[cell]
        return count / total if total else 0.0

    def as_dict(self) -> dict[str, float]:
        return {"threshold": self.threshold, "tn": self.tn, "fp": self.fp, "fn": self.fn, "tp": self.tp, **self.metrics()}


class ThresholdCurve:
    """Sorted scores plus cumulative anomaly counts; ``y`` may be None (no labels)."""

    def __init__(self, scores: np.ndarray, y: Optional[np.ndarray] = None) -> None:
        scores = np.asarray(scores, dtype=np.float64)
        order = np.argsort(scores, kind="stable")
        self.sorted_scores = scores[order]
        self.n = len(scores)
        self.has_labels = y is not None
        if y is not None:
            y_sorted = np.asarray(y, dtype=np.int64)[order]
            # cum_pos[k] = anomalies among the k lowest scores.
            self.cum_pos = np.concatenate([[0], np.cumsum(y_sorted)])
            self.n_pos = int(self.cum_pos[-1])
        else:
            self.cum_pos = None
            self.n_pos = 0
        self.n_neg = self.n - self.n_pos
        self._cuts: Optional[dict[str, np.ndarray]] = None

    def n_below(self, threshold: float) -> int:
        """Rows whose score is <= threshold (not flagged)."""
        return int(np.searchsorted(self.sorted_scores, threshold, side="right"))

    def flagged(self, threshold: float) -> int:
        return self.n - self.n_below(threshold)

    def at(self, threshold: float) -> Confusion:
        """Confusion counts at ``threshold`` in O(log n)."""
        k = self.n_below(threshold)
        if self.cum_pos is None:
            return Confusion(float(threshold), tn=k, fp=self.n - k, fn=0, tp=0)
        fn = int(self.cum_pos[k])
        tp = self.n_pos - fn
        return Confusion(float(threshold), tn=k - fn, fp=self.n - k - tp, fn=fn, tp=tp)

    # -- every distinct threshold at once ------------------------------------------------
    def cuts(self) -> dict[str, np.ndarray]:
        """Counts at every distinct cut, from 'flag every row' to 'flag none'.

        Thresholds sit midway between neighbouring distinct scores, which is the
        most defensible place to cut between two observed values.
        """
        if self._cuts is None:
            s = self.sorted_scores
            last_of_run = np.flatnonzero(np.diff(s) > 0)  # index of the last row of each distinct value but the top one
            distinct_hi = s[last_of_run + 1] if len(s) else s
            below = np.concatenate([[0], last_of_run + 1, [self.n]])
            lowest = np.nextafter(s[0], -np.inf) if self.n else 0.0
            top = s[-1] if self.n else 0.0
            thresholds = np.concatenate([[lowest], (s[last_of_run] + distinct_hi) / 2, [top]])
            cuts = {"threshold": thresholds, "below": below}
            if self.cum_pos is not None:
                fn = self.cum_pos[below]
                tp = self.n_pos - fn
                tn = below - fn
                fp = self.n - below - tp
                cuts.update(tp=tp, fp=fp, tn=tn, fn=fn)
            self._cuts = cuts
        return self._cuts

    def metric_curves(self) -> dict[str, np.ndarray]:
        self._need_labels()
        c = self.cuts()
        return {"threshold": c["threshold"], **metrics_from_counts(c["tp"], c["fp"], c["tn"], c["fn"])}

    def roc(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(fpr, tpr, thresholds), from flag-none to flag-all."""
        self._need_labels()
        c = self.cuts()
        fpr = _ratio(c["fp"], self.n_neg)[::-1]
        tpr = _ratio(c["tp"], self.n_pos)[::-1]
        return fpr, tpr, c["threshold"][::-1]

    def pr(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(precision, recall, thresholds) for every cut that flags at least one row, recall rising."""
        self._need_labels()
        c = self.cuts()
        flagged = c["tp"] + c["fp"]
        keep = flagged > 0
        precision = _ratio(c["tp"], flagged)[keep][::-1]
        recall = _ratio(c["tp"], self.n_pos)[keep][::-1]
        return precision, recall, c["threshold"][keep][::-1]

    @property
    def roc_auc(self) -> float:
        fpr, tpr, _ = self.roc()
        return float(np.trapezoid(tpr, fpr))

    @property
    def average_precision(self) -> float:
        """Step-wise area under the PR curve, as scikit-learn defines it."""
        precision, recall, _ = self.pr()
        return float(np.sum(np.diff(np.concatenate([[0.0], recall])) * precision))

    def _need_labels(self) -> None:
        if self.cum_pos is None:
            raise ValueError("this curve has no labels; ROC, PR and label metrics need them")


@dataclass(frozen=True)
class ReviewBand:
    """Three outcomes with a lower threshold: rows between the two go to a person."""

    low: float
    high: float
    normal: tuple[int, int, int]  # normal rows: passed, for review, flagged
    anomaly: tuple[int, int, int]  # anomalous rows: passed, for review, flagged

    @property
    def n(self) -> int:
        return sum(self.normal) + sum(self.anomaly)

    @property
    def review_per_1000(self) -> float:
        return 1000 * (self.normal[1] + self.anomaly[1]) / max(self.n, 1)

    @property
    def recall_without_band(self) -> float:
        return self.anomaly[2] / max(sum(self.anomaly), 1)

    @property
    def recall_with_band(self) -> float:
        """If a reviewer recognises every anomaly sent to them."""
        return (self.anomaly[1] + self.anomaly[2]) / max(sum(self.anomaly), 1)


def review_band(curve: ThresholdCurve, low: float, high: float) -> ReviewBand:
    """Counts of normal and anomalous rows below ``low``, between, and above ``high``."""
    if curve.cum_pos is None:
        raise ValueError("a review band against labels needs labels")
    low, high = min(low, high), max(low, high)
    k_low, k_high = curve.n_below(low), curve.n_below(high)
    pos_low, pos_high = int(curve.cum_pos[k_low]), int(curve.cum_pos[k_high])
    anomaly = (pos_low, pos_high - pos_low, curve.n_pos - pos_high)
    normal = (k_low - pos_low, (k_high - k_low) - (pos_high - pos_low), (curve.n - k_high) - (curve.n_pos - pos_high))
    return ReviewBand(float(low), float(high), normal, anomaly)
