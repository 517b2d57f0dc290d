"""The drift check ends with a verdict naming the test, its size and the columns that moved."""

import numpy as np
import pandas as pd
import pytest

from core.drift import MOVED_KS, drift_report


def frames(shift: float, n: int = 2000, seed: int = 0):
    rng = np.random.default_rng(seed)
    ref = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    new = pd.DataFrame({"a": rng.normal(size=n) + shift, "b": rng.normal(size=n)})
    return ref, new


def test_drift_names_the_shifted_column_and_the_kolmogorov_smirnov_statistic():
    ref, new = frames(shift=1.0)
    report = drift_report(ref["a"].to_numpy(), new["a"].to_numpy(), ref, new, ["a", "b"])
    assert [c.column for c in report.moved] == ["a"]
    assert report.moved[0].statistic > MOVED_KS
    sentence = report.sentence()
    assert "Kolmogorov–Smirnov" in sentence and "'a'" in sentence and "1 of 2 numeric features moved" in sentence


def test_no_drift_says_nothing_moved_with_the_largest_statistic():
    ref, new = frames(shift=0.0)
    report = drift_report(ref["b"].to_numpy(), new["b"].to_numpy(), ref, new, ["a", "b"])
    assert report.moved == []
    assert "no feature moved" in report.sentence()


def test_scores_alone_give_a_verdict_when_training_rows_are_not_at_hand():
    rng = np.random.default_rng(3)
    report = drift_report(rng.normal(size=500), rng.normal(size=500) + 2)
    assert report.columns == () and report.score.moved
    assert report.sentence().startswith("The anomaly scores moved")


def test_a_large_gap_on_few_rows_is_called_chance_not_below_the_size_bar():
    """20 new rows: a gap above MOVED_KS that is not significant must not read 'below 0.1'."""
    ref, _ = frames(shift=0.0)
    rng = np.random.default_rng(5)
    new = pd.DataFrame({"a": rng.normal(size=20) + 0.3, "b": rng.normal(size=20)})
    report = drift_report(ref["a"].to_numpy(), new["a"].to_numpy(), ref, new, ["a", "b"])
    top = report.columns[0]
    assert report.moved == [] and top.statistic >= MOVED_KS and top.p_value >= 0.01
    sentence = report.sentence()
    assert f"below {MOVED_KS}" not in sentence and "beyond chance" in sentence and f"p = {top.p_value:.2g}" in sentence


def test_a_significant_but_small_score_gap_is_called_slight_not_unmoved():
    """Many rows make a gap below MOVED_KS significant: the sentence must not say 'did not move' beside p < 0.01."""
    rng = np.random.default_rng(7)
    report = drift_report(rng.normal(size=20_000), rng.normal(size=20_000) + 0.1)
    assert report.score.statistic < MOVED_KS and report.score.p_value < 0.01 and not report.score.moved
    sentence = report.sentence()
    assert "did not move" not in sentence and "moved only slightly" in sentence and f"smaller than the statistic of {MOVED_KS}" in sentence
    assert "too regular to be chance" in sentence


def test_a_feature_with_no_numbers_in_the_new_rows_is_named_and_asks_for_review():
    """Every 'a' cell text: scored as the training median, so no test moves, and the verdict said nothing moved."""
    ref, _ = frames(shift=0.0)
    new = pd.DataFrame({"a": ["fast"] * 400, "b": np.random.default_rng(2).normal(size=400)})
    report = drift_report(ref["b"].to_numpy(), new["b"].to_numpy(), ref, new, ["a", "b"])
    assert report.without_numbers == ("a",) and report.moved == [] and report.needs_review
    assert "no numbers in 'a'" in report.sentence()
    assert not drift_report(ref["b"].to_numpy(), new["b"].to_numpy(), ref, new, ["b"]).needs_review


def test_scores_that_did_not_move_say_what_a_shift_needs_beside_their_p_value():
    ref, new = frames(shift=0.0)
    report = drift_report(ref["a"].to_numpy(), new["a"].to_numpy())
    assert report.score.p_value >= 0.01
    assert report.sentence().startswith("The anomaly scores moved only slightly, if at all") and f"p not below {0.01}" in report.sentence()


def test_a_larger_score_gap_never_reads_as_less_movement_than_a_smaller_one():
    """A walk saw 'moved only slightly' beside a statistic of 0.05 (p < 0.01) and 'did not move' beside 0.08 (p = 0.018)."""
    rng = np.random.default_rng(3)
    small_but_real = drift_report(rng.normal(size=20_000), rng.normal(size=20_000) + 0.1).sentence()
    larger_but_few = drift_report(rng.normal(size=2_000), rng.normal(size=60) + 0.15)
    assert larger_but_few.score.p_value >= 0.01 and larger_but_few.score.statistic < 0.1
    assert "did not move" not in larger_but_few.sentence() and "moved only slightly, if at all" in larger_but_few.sentence()
    assert "moved only slightly (" in small_but_real


def test_one_new_row_is_too_few_to_test_and_says_so_instead_of_a_made_up_statistic():
    report = drift_report(np.random.default_rng(0).normal(size=500), np.array([1.1]))
    assert report.score is None and not report.needs_review
    assert report.sentence().startswith("Too few new rows to test whether the anomaly scores moved") and "statistic" not in report.sentence()


def test_anomalies_in_the_new_rows_are_not_drift_when_the_threshold_is_given():
    """A walk saw heartbeats.csv (20 % anomalies) read as 'moved' (statistic 0.20, about its anomaly share)."""
    rng = np.random.default_rng(11)
    training = rng.gamma(4.0, 0.5, 5000)  # normal training rows' scores
    threshold = float(np.quantile(training, 0.99))
    new = np.r_[rng.gamma(4.0, 0.5, 4000), threshold * rng.uniform(1.5, 4.0, 1000)]  # the same normal rows, and 20 % anomalies
    assert drift_report(training, new).score.moved  # counted as drift without the threshold
    kept = drift_report(training, new, threshold=threshold)
    assert not kept.score.moved and not kept.needs_review
    assert kept.flagged[0] == pytest.approx(0.2, abs=0.01) and kept.flagged[1] == pytest.approx(0.01, abs=0.002)
    assert kept.sentence().startswith("The threshold flags 20.") and "anomalies move scores without any drift" in kept.sentence()
    shifted = drift_report(training, rng.gamma(4.0, 0.5, 5000) * 1.3, threshold=threshold)  # a real shift still shows below the threshold
    assert shifted.score.moved and shifted.needs_review
    gone = drift_report(training, threshold * rng.uniform(1.1, 3.0, 500), threshold=threshold)  # every row moved past the threshold
    assert gone.score_on_every_row and gone.score.moved and gone.needs_review  # not "too few rows" for 500 rows
    assert "every row's score is compared" in gone.sentence() and "review the threshold before trusting its flags" in gone.sentence()
    assert drift_report(training, training[:50], threshold=threshold * 10).sentence().startswith("The threshold flags none of the new rows.")


def test_features_are_compared_on_every_new_row_not_on_the_rows_a_score_keeps():
    """A walk saw ten untouched columns 'moved' among the 5 % of rows that a shift in two columns left unflagged."""
    rng = np.random.default_rng(12)
    reference = pd.DataFrame(rng.normal(size=(3000, 4)), columns=list("abcd"))
    new = pd.DataFrame(rng.normal(size=(3000, 4)), columns=list("abcd"))
    new["a"] += 3.0
    scores_ref = np.abs(reference.to_numpy()).sum(axis=1)
    scores_new = np.abs(new.to_numpy()).sum(axis=1)
    threshold = float(np.quantile(scores_ref, 0.99))
    report = drift_report(scores_ref, scores_new, reference, new, list("abcd"), threshold=threshold)
    assert [c.column for c in report.moved] == ["a"]  # b, c and d are untouched
    assert "The features are compared on every new row" in report.sentence()


def test_a_statistic_next_to_the_cut_off_is_shown_with_a_third_decimal():
    from core.drift import ColumnDrift, DriftReport

    near = DriftReport(ColumnDrift("anomaly score", 0.0996, 0.0003), ())
    assert "statistic 0.100, p = 0.0003" in near.sentence() and "statistic 0.10," not in near.sentence()
