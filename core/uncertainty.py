"""Bootstrap intervals for the metrics at any threshold, vectorised.

Resampling is drawn once per part: for each resample, how often each row (in
score order) was drawn. Cumulative sums of those counts over anomalous and
normal rows then give every resample's confusion matrix at any threshold with
one binary search, exactly as :class:`~core.metrics.ThresholdCurve` does for
the data itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.metrics import ThresholdCurve, metrics_from_counts

DEFAULT_RESAMPLES = 1000
#: Resamples × rows held in memory at most (two int32 arrays of this size).
MAX_CELLS = 25_000_000
INTERVAL_METRICS = ("precision", "recall", "f1", "specificity", "fpr")


@dataclass(frozen=True)
class Interval:
    value: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.value:.3f} ({self.low:.3f}–{self.high:.3f})"


class Bootstrap:
    """Resampled cumulative counts of one labelled part."""

    def __init__(self, curve: ThresholdCurve, n_resamples: int = DEFAULT_RESAMPLES, seed: int = 0) -> None:
        if not curve.has_labels:
            raise ValueError("bootstrap intervals need labels")
        n = curve.n
        self.n_resamples = int(max(100, min(n_resamples, MAX_CELLS // max(n, 1))))
        rng = np.random.default_rng(seed)
        drawn = rng.integers(0, n, size=(self.n_resamples, n), dtype=np.int32)
        drawn += (np.arange(self.n_resamples, dtype=np.int32) * n)[:, None]
        counts = np.bincount(drawn.ravel(), minlength=self.n_resamples * n).reshape(self.n_resamples, n)
        del drawn
        is_anomaly = np.diff(curve.cum_pos).astype(bool)  # y in score order
        # Preallocated with a zero first column, cumulated in place: no temporary copies.
        self.cum_all = np.zeros((self.n_resamples, n + 1), np.int32)
        np.cumsum(counts, axis=1, out=self.cum_all[:, 1:])
        counts[:, ~is_anomaly] = 0
        self.cum_pos = np.zeros((self.n_resamples, n + 1), np.int32)
        np.cumsum(counts, axis=1, out=self.cum_pos[:, 1:])
        self.curve = curve

    def metrics_at(self, threshold: float) -> dict[str, np.ndarray]:
        """Every metric in every resample at ``threshold`` (arrays of length n_resamples)."""
        k = self.curve.n_below(threshold)
        fn = self.cum_pos[:, k]
        tn = self.cum_all[:, k] - fn
        tp = self.cum_pos[:, -1] - fn
        fp = (self.cum_all[:, -1] - self.cum_all[:, k]) - tp
        return metrics_from_counts(tp, fp, tn, fn)

    def intervals(self, threshold: float, level: float = 0.95) -> dict[str, Interval]:
        """Point value and percentile interval of each metric.

        A proportion observed at 0 or 1 (no false alarm among 570 normal rows) gives every resample the same value,
        so the percentile interval has no width ("0.000 – 0.000"), which no one could defend from a few hundred rows.
        There the interval reaches the exact (Clopper–Pearson) binomial bound instead: 1 − (α/2)^(1/n), about 3.7/n at
        95 %."""
        confusion = self.curve.at(threshold)
        point = confusion.metrics()
        resampled = self.metrics_at(threshold)
        tail = 100 * (1 - level) / 2
        out = {}
        for name in INTERVAL_METRICS:
            low, high = np.percentile(resampled[name], [tail, 100 - tail])
            low, high = _widened_at_the_edges(float(low), float(high), *_proportion(confusion, name), 1 - level)
            out[name] = Interval(point[name], low, high)
        return out


def _proportion(confusion, name: str) -> tuple[int, int]:
    """The successes and trials behind a proportion metric; (0, 0) for F1, which is not one."""
    c = confusion
    return {"precision": (c.tp, c.tp + c.fp), "recall": (c.tp, c.tp + c.fn), "specificity": (c.tn, c.tn + c.fp),
            "fpr": (c.fp, c.fp + c.tn)}.get(name, (0, 0))


def _widened_at_the_edges(low: float, high: float, k: int, n: int, alpha: float) -> tuple[float, float]:
    """The interval, reaching the exact binomial bound when ``k`` of ``n`` is 0 or all of them."""
    if n <= 0:
        return low, high
    reach = float((alpha / 2) ** (1 / n))
    if k == 0:
        high = max(high, 1 - reach)
    elif k == n:
        low = min(low, reach)
    return low, high
