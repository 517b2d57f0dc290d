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

    def class_shares(self) -> dict[str, float]:
        """Each cell as a share of its ACTUAL class (FP of actual normal rows, TP of actual anomalies); 0 for an empty class.

        One definition for every view of the matrix, so a percentage means the same everywhere.
        """
        normal, anomaly = self.tn + self.fp, self.fn + self.tp
        return {"tn": float(_ratio(self.tn, normal)), "fp": float(_ratio(self.fp, normal)),
                "fn": float(_ratio(self.fn, anomaly)), "tp": float(_ratio(self.tp, anomaly))}

    def as_dict(self) -> dict[str, float]:
        return {"threshold": self.threshold, "tn": self.tn, "fp": self.fp, "fn": self.fn, "tp": self.tp, **self.metrics()}


@dataclass(frozen=True)
class CutPoints:
    """Thresholds a live control can stop at, with the exact counts at each.

    ``below[i]`` rows score <= ``threshold[i]`` (not flagged), ``anomalies_below[i]`` of them are
    anomalies (None without labels). Thresholds are strictly increasing; the first flags every row,
    the last (the top score) flags none. ``complete`` means every distinct score is a threshold,
    so the counts hold between neighbouring thresholds too.
    """

    threshold: np.ndarray
    below: np.ndarray
    anomalies_below: Optional[np.ndarray]
    n: int
    n_pos: int
    complete: bool

    def __len__(self) -> int:
        return len(self.threshold)


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
        self._cut_points: dict[int, CutPoints] = {}

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

    def cut_points(self, max_points: int = 2000, include: tuple[float, ...] = ()) -> CutPoints:
        """At most about ``max_points`` thresholds for a control that redraws in the browser.

        Each is an observed score (so every step changes the counts), taken from three spacings
        in equal thirds: quantiles of the rows (dense where rows are dense), even steps of the
        score and even steps of its logarithm (so a hand finds stops in the sparse tail on either
        axis). ``include`` adds exact values (the threshold in use) with their exact counts.
        The base set is computed once per curve.
        """
        if max_points < 8:
            raise ValueError(f"max_points must be at least 8, got {max_points}")
        base = self._cut_points.get(max_points)
        if base is None:
            base = self._cut_points[max_points] = self._base_cut_points(max_points)
        extra = np.asarray([v for v in include if np.isfinite(v)], dtype=np.float64)
        if not len(extra):
            return base
        thresholds = np.union1d(base.threshold, extra)
        if len(thresholds) == len(base.threshold):
            return base
        return self._counts_at(thresholds, base.complete)

    def _base_cut_points(self, max_points: int) -> CutPoints:
        s = self.sorted_scores
        if self.n == 0:
            return self._counts_at(np.zeros(0), True)
        distinct = s[np.concatenate([[True], np.diff(s) > 0])]
        complete = len(distinct) < max_points
        if complete:
            chosen = distinct
        else:
            k = (max_points - 2) // 3
            quantiles = s[np.linspace(0, self.n - 1, k).round().astype(np.int64)]
            even = distinct[np.searchsorted(distinct, np.linspace(s[0], s[-1], k)).clip(max=len(distinct) - 1)]
            positive = distinct[distinct > 0]
            log_even = (positive[np.searchsorted(positive, np.geomspace(positive[0], positive[-1], k)).clip(max=len(positive) - 1)]
                        if len(positive) > 1 else positive)
            chosen = np.unique(np.concatenate([quantiles, even, log_even, [s[-1]]]))
        thresholds = np.concatenate([[np.nextafter(s[0], -np.inf)], chosen])
        return self._counts_at(thresholds, complete)

    def _counts_at(self, thresholds: np.ndarray, complete: bool) -> CutPoints:
        below = np.searchsorted(self.sorted_scores, thresholds, side="right").astype(np.int64)
        anomalies = None if self.cum_pos is None else self.cum_pos[below].astype(np.int64)
        return CutPoints(thresholds, below, anomalies, self.n, self.n_pos, complete)

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
