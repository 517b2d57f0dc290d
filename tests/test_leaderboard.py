"""The Compare table ranks on validation rows and says plainly when a baseline wins."""

from types import SimpleNamespace

import numpy as np

from core.leaderboard import Entry, leaderboard
from core.metrics import ThresholdCurve


def parts(separation: float, seed: int = 0, jitter: float = 0.0):
    rng = np.random.default_rng(seed)
    y = np.r_[np.zeros(200, int), np.ones(20, int)]
    scores = rng.normal(size=220) + separation * y + jitter * np.random.default_rng(seed + 100).normal(size=220)
    curve = ThresholdCurve(scores, y)
    part = SimpleNamespace(curve=curve, scores=scores, y=y)
    return {"val": part, "test": part}


def test_a_baseline_ahead_on_validation_rows_is_named_and_offered():
    board = leaderboard([Entry("AE dense", True, parts(1.0), 0.5), Entry("kNN", False, parts(3.0), 0.5)])
    assert board.best == "kNN" and board.best_baseline == "kNN"
    assert board.table["best"].iloc[0].startswith("★") and board.table["best"].iloc[1] == ""
    assert "baseline kNN is ahead of every autoencoder" in board.verdict


def test_an_autoencoder_ahead_says_by_how_much_and_offers_no_baseline():
    board = leaderboard([Entry("AE dense", True, parts(3.0), 0.5), Entry("kNN", False, parts(1.0), 0.5)])
    assert board.best_baseline is None and board.verdict.startswith("The autoencoder AE dense leads on validation rows") and "(by 0." in board.verdict
    trained = leaderboard([Entry("dense autoencoder (trained)", True, parts(3.0), 0.5), Entry("kNN", False, parts(1.0), 0.5)])
    assert trained.verdict.startswith("The dense autoencoder (trained) leads")  # not "the autoencoder dense autoencoder"


def test_a_tie_is_called_level_not_a_lead_by_minus_zero():
    same = parts(9.0)
    board = leaderboard([Entry("AE dense", True, same, 0.5), Entry("LOF", False, same, 0.5)])
    assert "level" in board.verdict and "-0.000" not in board.verdict


def test_a_clear_lead_is_called_the_honest_choice_and_a_lead_within_noise_is_not():
    clear = leaderboard([Entry("AE dense", True, parts(1.0), 0.5), Entry("kNN", False, parts(3.0), 0.5)])
    assert "honest choice" in clear.verdict and "resamples" not in clear.verdict
    close = leaderboard([Entry("AE dense", True, parts(2.0), 0.5), Entry("kNN", False, parts(2.0, jitter=0.05), 0.5)])
    assert close.best_baseline in (None, "kNN") and "either choice is defensible" in close.verdict and "honest choice" not in close.verdict


def test_detectors_near_chance_are_said_to_be_near_chance():
    board = leaderboard([Entry("AE dense", True, parts(0.0, seed=1), 0.5), Entry("LOF", False, parts(0.0, seed=2), 0.5)])
    assert board.verdict.startswith("No detector does much better than chance")


def test_the_lead_share_follows_the_gap_between_two_scores():
    from core.leaderboard import lead_share

    y = parts(0.0)["val"].y
    strong, weak = parts(3.0)["val"].scores, parts(0.5)["val"].scores
    assert lead_share(strong, weak, y) > 0.99 and lead_share(weak, strong, y) < 0.01


def test_the_table_says_which_parts_an_autoencoders_score_reads_and_nothing_for_a_baseline():
    board = leaderboard([Entry("AE dense", True, parts(1.0), 0.5, score_reads="tails"), Entry("kNN", False, parts(3.0), 0.5)])
    reads = dict(zip(board.table["detector"], board.table["score reads"]))
    assert reads == {"AE dense": "tails", "kNN": "–"}


def test_an_ensembles_score_reads_says_each_networks_choice_once_when_they_agree():
    from types import SimpleNamespace

    from core.leaderboard import score_reads

    same = SimpleNamespace(members_=[SimpleNamespace(score_parts_=("reconstruction", "tails"))] * 3)
    assert score_reads(same) == "each network: reconstruction + tails"
    mixed = SimpleNamespace(members_=[SimpleNamespace(score_parts_=("tails",)), SimpleNamespace(score_parts_=("reconstruction",))])
    assert score_reads(mixed) == "network 1: tails; network 2: reconstruction"


def test_a_small_lead_is_said_with_figures_that_differ_by_the_stated_gap():
    import re

    for jitter in (0.02, 0.05, 0.1, 0.2, 0.4):
        board = leaderboard([Entry("AE dense", True, parts(2.0, jitter=jitter), 0.5), Entry("kNN", False, parts(2.0), 0.5)])
        figures = [float(f) for f in re.findall(r"\d\.\d{3,4}", board.verdict)[:3]]
        first, second, gap = figures
        assert abs(abs(first - second) - gap) < 1.5e-4, board.verdict  # at three decimals a gap under 0.01 may not add up
