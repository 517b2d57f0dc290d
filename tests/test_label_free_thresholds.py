import numpy as np
import pytest

from core.errors import DataError
from core.thresholds import choose_threshold, gesd_threshold


def _naive_gesd(x, alpha, r):
    """Rosner's procedure, one-sided, removing the largest value each round (reference)."""
    from scipy.stats import t

    x = list(np.sort(x))
    n, found = len(x), 0
    for i in range(1, r + 1):
        a = np.array(x)
        stat = (a.max() - a.mean()) / a.std(ddof=1)
        m = n - i + 1
        tq = t.ppf(1 - alpha / m, m - 2)
        if stat > (m - 1) * tq / np.sqrt((m - 2 + tq**2) * m):
            found = i
        x.pop()
    return found


def test_gesd_finds_planted_outliers_and_matches_rosners_procedure():
    rng = np.random.default_rng(0)
    scores = np.r_[rng.normal(size=500), np.linspace(8, 10, 12)]
    threshold, n_out = gesd_threshold(scores, 0.05)
    assert n_out == 12 and (scores > threshold).sum() == 12
    for seed in range(5):
        x = np.random.default_rng(seed).gamma(2.0, size=80)
        assert gesd_threshold(x, 0.05, max_share=0.25)[1] == _naive_gesd(x, 0.05, 20)


def test_gesd_flags_nothing_on_clean_normal_scores():
    threshold, n_out = gesd_threshold(np.random.default_rng(1).normal(size=2000), 0.05)
    assert n_out <= 2 and threshold >= np.sort(np.random.default_rng(1).normal(size=2000))[-3]


def test_mad_and_iqr_rules_follow_their_formulas():
    x = np.random.default_rng(2).exponential(size=1001)
    med = np.median(x)
    assert choose_threshold("mad:3", x).value == pytest.approx(med + 3 * 1.4826 * np.median(np.abs(x - med)))
    q1, q3 = np.percentile(x, [25, 75])
    assert choose_threshold("iqr", x).value == pytest.approx(q3 + 1.5 * (q3 - q1))
    with pytest.raises(DataError, match="significance"):
        choose_threshold("gesd:2", x)


def test_outlier_rules_judge_the_rows_given_else_the_training_scores():
    rng = np.random.default_rng(3)
    train = rng.normal(size=1000)
    judged = np.r_[rng.normal(size=300), rng.normal(6, 0.5, 30)]
    on_judged = choose_threshold("gesd", train, judged)  # no labels needed
    assert (judged > on_judged.value).sum() >= 25 and "validation scores" in on_judged.reason
    on_train = choose_threshold("iqr:1.5", train)
    assert "of 1,000 training scores" in on_train.reason and on_train.value == choose_threshold("iqr:1.5", train, None, None).value
    assert on_train.set_on is None and on_judged.set_on == "val"  # only the judged rows are rows that set it
    assert choose_threshold("percentile:99", train, judged).value == pytest.approx(np.percentile(train, 99))  # unchanged rules


def test_the_command_line_trains_with_an_outlier_rule(tmp_path, capsys):
    from core.bundle import load_bundle
    from core.cli import main
    from tests.conftest import ROOT

    sample = ROOT / "sample_data" / "machine_sensors.csv"
    model = tmp_path / "m.zip"
    assert main(["train", str(sample), "--label", "status", "--normal", "normal", "--out", str(model), "--epochs", "2",
                 "--threshold-rule", "mad:4"]) == 0
    detector, _ = load_bundle(model)
    assert detector.threshold_rule_ == "mad:4" and "MAD" in detector.threshold_reason_
