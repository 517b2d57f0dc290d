"""Every architecture: fits, scores, is deterministic with a seed, and survives a bundle round trip."""

import numpy as np
import pandas as pd
import pytest

from core.bundle import bundle_bytes, load_bundle
from core.detector import AutoencoderDetector
from core.errors import DataError
from core.metrics import ThresholdCurve
from core.network import ARCHITECTURES
from tests.conftest import planted


def signals(n_normal=240, n_anomaly=20, length=24, seed=0):
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, length)
    phase = rng.uniform(0, 0.2, (n_normal + n_anomaly, 1))
    x = np.sin(2 * np.pi * (t[None, :] * 2 + phase)) + rng.normal(0, 0.05, (n_normal + n_anomaly, length))
    x[n_normal:, length // 2:] *= -1  # anomalies: the second half flipped
    y = np.r_[np.zeros(n_normal, int), np.ones(n_anomaly, int)]
    return pd.DataFrame(x, columns=[f"t{i}" for i in range(length)]), y


@pytest.mark.parametrize("architecture", list(ARCHITECTURES))
def test_architecture_fits_scores_repeats_and_round_trips(architecture):
    X, y = signals() if architecture in ("conv1d", "lstm") else planted(n_normal=240, n_anomaly=20, seed=11)
    params = dict(architecture=architecture, epochs=3 if architecture == "lstm" else 6, random_state=4)
    det = AutoencoderDetector(**params).fit(X, y)
    scores = det.decision_function(X)
    assert scores.shape == (len(X),) and np.all(np.isfinite(scores))
    assert det.model_.name == f"{architecture}_autoencoder"
    again = AutoencoderDetector(**params).fit(X, y).decision_function(X)
    assert np.array_equal(scores, again)
    loaded, _ = load_bundle(bundle_bytes(det, {}))
    assert np.array_equal(loaded.decision_function(X), scores)
    if architecture != "lstm":  # three epochs are too few for the LSTM to learn anything
        assert ThresholdCurve(scores, y).roc_auc > 0.7


def test_variational_scoring_is_deterministic_within_one_model():
    X, y = planted(n_normal=200, n_anomaly=10, seed=12)
    det = AutoencoderDetector(architecture="variational", epochs=3).fit(X, y)
    assert np.array_equal(det.decision_function(X), det.decision_function(X))


def test_sequence_architectures_refuse_a_table_that_is_not_a_signal():
    X, y = planted(n_normal=100, n_anomaly=5)
    with pytest.raises(DataError, match="reads a row as a signal"):
        AutoencoderDetector(architecture="conv1d", epochs=1).fit(X, y)
    with pytest.raises(DataError, match="Architecture must be one of"):
        AutoencoderDetector(architecture="transformer").fit(X, y)


def test_conv1d_takes_its_filters_from_the_hidden_sizes_and_keeps_odd_lengths():
    X, y = signals(length=27)  # not a multiple of 8: padded, then cropped back
    det = AutoencoderDetector(architecture="conv1d", hidden_sizes=(8, 6, 4), code_size=3, epochs=1).fit(X, y)
    convs = [layer for layer in det.model_.layers if layer.name.startswith("encoder_conv_")]
    assert [layer.filters for layer in convs] == [8, 6, 4]
    assert det.reconstruct(X).shape == (len(X), 27)
