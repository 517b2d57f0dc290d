import numpy as np
import pytest

from core.metrics import ThresholdCurve, review_band
from core.uncertainty import Bootstrap


@pytest.fixture
def curve():
    rng = np.random.default_rng(3)
    y = (rng.random(3000) < 0.1).astype(int)
    return ThresholdCurve(rng.normal(size=3000) + 2 * y, y)


def test_bootstrap_resamples_match_a_naive_resampling(curve):
    boot = Bootstrap(curve, n_resamples=200, seed=5)
    t = 1.0
    fast = boot.metrics_at(t)["recall"]
    # rebuild resample 0 by hand from the same draws
    rng = np.random.default_rng(5)
    drawn = rng.integers(0, curve.n, size=(200, curve.n), dtype=np.int32)[0]
    s, y = curve.sorted_scores[drawn], np.diff(curve.cum_pos)[drawn]
    recall = ((s > t) & (y == 1)).sum() / (y == 1).sum()
    assert fast[0] == pytest.approx(recall)


def test_intervals_contain_the_point_and_shrink_with_more_rows(curve):
    iv = Bootstrap(curve, n_resamples=300).intervals(1.0)
    for name, interval in iv.items():
        assert interval.low <= interval.value <= interval.high, name
    rng = np.random.default_rng(4)
    y = (rng.random(30000) < 0.1).astype(int)
    big = Bootstrap(ThresholdCurve(rng.normal(size=30000) + 2 * y, y), n_resamples=300).intervals(1.0)
    assert big["recall"].high - big["recall"].low < iv["recall"].high - iv["recall"].low
    assert "(" in str(iv["recall"]) and "–" in str(iv["recall"])


def test_a_proportion_seen_at_zero_or_one_still_has_an_interval_of_the_exact_binomial_width():
    """A walk saw 'false-alarm rate 0.000 (0.000 – 0.000)' from 570 normal rows: every resample had no false alarm."""
    y = np.r_[np.zeros(570, int), np.ones(30, int)]
    scores = np.r_[np.linspace(0, 1, 570), np.linspace(2, 3, 29), [0.5]]  # no normal row above 1.5; one anomaly below it
    iv = Bootstrap(ThresholdCurve(scores, y), n_resamples=300).intervals(1.5)
    assert iv["fpr"].value == 0 and iv["fpr"].low == 0 and iv["fpr"].high == pytest.approx(1 - 0.025 ** (1 / 570))  # about 3.7 / 570
    assert iv["precision"].value == 1 and iv["precision"].low == pytest.approx(0.025 ** (1 / 29)) and iv["precision"].high == 1
    assert iv["specificity"].low == pytest.approx(0.025 ** (1 / 570))
    assert iv["recall"].low < iv["recall"].value < iv["recall"].high  # 29 of 30: the bootstrap's own interval, not widened


def test_review_band_counts_by_hand():
    s = np.array([1, 2, 3, 4, 5, 6, 7, 8.0])
    y = np.array([0, 0, 1, 0, 1, 0, 1, 1])
    band = review_band(ThresholdCurve(s, y), low=2.5, high=5.5)
    assert band.normal == (2, 1, 1)  # 1,2 pass; 4 for review; 6 flagged
    assert band.anomaly == (0, 2, 2)  # 3,5 for review; 7,8 flagged
    assert band.review_per_1000 == pytest.approx(1000 * 3 / 8)
    assert band.recall_without_band == 0.5 and band.recall_with_band == 1.0
