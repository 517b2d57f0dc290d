"""The Compare table ranks on validation rows and says plainly when a baseline wins."""

from types import SimpleNamespace

import numpy as np

from core.leaderboard import Entry, leaderboard
from core.metrics import ThresholdCurve


def parts(separation: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = np.r_[np.zeros(200, int), np.ones(20, int)]
    scores = rng.normal(size=220) + separation * y
    curve = ThresholdCurve(scores, y)
    return {"val": SimpleNamespace(curve=curve), "test": SimpleNamespace(curve=curve)}


def test_a_baseline_ahead_on_validation_rows_is_named_and_offered():
    board = leaderboard([Entry("AE dense", True, parts(1.0), 0.5), Entry("kNN", False, parts(3.0), 0.5)])
    assert board.best == "kNN" and board.best_baseline == "kNN"
    assert board.table["best"].iloc[0].startswith("★") and board.table["best"].iloc[1] == ""
    assert "baseline kNN is ahead of every autoencoder" in board.verdict


def test_an_autoencoder_ahead_says_by_how_much_and_offers_no_baseline():
    board = leaderboard([Entry("AE dense", True, parts(3.0), 0.5), Entry("kNN", False, parts(1.0), 0.5)])
    assert board.best_baseline is None and "AE dense leads on validation rows" in board.verdict and "(by 0." in board.verdict


def test_a_tie_is_called_level_not_a_lead_by_minus_zero():
    same = parts(9.0)
    board = leaderboard([Entry("AE dense", True, same, 0.5), Entry("LOF", False, same, 0.5)])
    assert "level" in board.verdict and "-0.000" not in board.verdict
