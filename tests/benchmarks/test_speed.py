"""Speed benchmarks; each prints ratios against a baseline run in the same process.

Run: ``make bench`` or ``python -m pytest -m benchmark -s tests/benchmarks/test_speed.py``.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix

from core.metrics import ThresholdCurve

pytestmark = pytest.mark.benchmark


def _best_of(fn, repeat: int = 7, number: int = 1) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number)
    return min(times)


def test_threshold_lookup_on_a_million_rows():
    rng = np.random.default_rng(0)
    y = (rng.random(1_000_000) < 0.05).astype(np.int8)
    s = rng.gamma(2, 1, 1_000_000) + 2 * y
    t_build = _best_of(lambda: ThresholdCurve(s, y), repeat=3)
    curve = ThresholdCurve(s, y)
    thresholds = rng.uniform(s.min(), s.max(), 1000)
    t_lookup = _best_of(lambda: [curve.at(t).metrics() for t in thresholds], repeat=5) / len(thresholds)
    t_sklearn = _best_of(lambda: confusion_matrix(y, s > 3.0, labels=[0, 1]), repeat=3)
    print(f"\n1,000,000 rows: build (one sort) {t_build * 1e3:.1f} ms; lookup + all metrics {t_lookup * 1e6:.1f} µs; "
          f"sklearn confusion_matrix {t_sklearn * 1e3:.1f} ms; sklearn / lookup = {t_sklearn / t_lookup:,.0f}×")
    c = curve.at(3.0)
    assert (c.tn, c.fp, c.fn, c.tp) == tuple(confusion_matrix(y, s > 3.0, labels=[0, 1]).ravel())
