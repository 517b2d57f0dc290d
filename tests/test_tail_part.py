"""The "tail" reconstruction part: cell errors read as tail surprise among the normal training errors of their column."""

import numpy as np
import pytest

from core.score_stats import tail_surprise


def test_tail_surprise_ranks_by_rarity_within_each_column_and_keeps_ranking_past_the_largest():
    rng = np.random.default_rng(0)
    reference = np.sort(np.c_[rng.exponential(1.0, 1000), rng.exponential(100.0, 1000)], axis=0)
    # the same rarity in either column scores the same, whatever the column's scale
    median_row = np.median(reference, axis=0)[None, :]
    assert tail_surprise(reference, median_row)[0] == pytest.approx(np.log(2), abs=0.01)
    errors = np.array([[0.5, 50.0], [3.0, 300.0], [reference[-1, 0] * 1.01, 0.0], [reference[-1, 0] * 2, 0.0]])
    scores = tail_surprise(reference, errors)
    assert np.all(np.diff(scores) > 0)  # rarer, then past the largest training error, then further past
    assert scores[2] > np.log(1001) / 2  # past every training error in one of two columns: at least half the top surprise


def test_tail_detector_saves_and_loads_with_identical_scores_and_averages_one_on_training_rows(planted_data, tmp_path):
    from core.bundle import load_bundle, save_bundle
    from core.detector import AutoencoderDetector
    from core.losses import elementwise_loss

    X, y = planted_data
    det = AutoencoderDetector(reconstruction_part="tail", score="combined", epochs=5, random_state=0).fit(X[:400], y[:400])
    assert det.score_stats_.cell_reference is not None and det.score_stats_.cell_reference.shape[1] == X.shape[1]
    x = det.transform_features(X[:400][y[:400] == 0])
    recon, codes = det._network_outputs(x)
    part = det.score_stats_.scaled_parts(elementwise_loss(det.loss, x, recon), codes, ("reconstruction",))["reconstruction"]
    assert part.mean() == pytest.approx(1.0, rel=1e-4)
    mean_det = AutoencoderDetector(score="combined", epochs=5, random_state=0).fit(X[:400], y[:400])
    assert not np.allclose(det.decision_function(X), mean_det.decision_function(X))
    save_bundle(det, tmp_path / "m.zip", {})
    loaded, _ = load_bundle(tmp_path / "m.zip")
    assert np.array_equal(loaded.decision_function(X), det.decision_function(X))
