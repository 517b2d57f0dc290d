"""One detector contract for every detector in the registry (scikit-learn's, with PyOD's sign convention)."""

import inspect

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

import core
from core.errors import DataError
from core.metrics import ThresholdCurve
from core.registry import BASELINE_KEYS, DETECTORS, available, fit_on_split, key_of, make_detector
from tests.conftest import planted

FAST = {"epochs": 3}


def _quick(key):
    return make_detector(key, **(FAST if DETECTORS[key].is_autoencoder else {}))


@pytest.mark.parametrize("key", list(DETECTORS))
def test_get_params_is_exactly_the_init_signature(key):
    detector = make_detector(key)
    signature = [p for p in inspect.signature(type(detector).__init__).parameters if p != "self"]
    assert sorted(detector.get_params()) == sorted(signature)
    assert set(DETECTORS[key].params) <= set(signature)
    assert key_of(detector) == key


def test_every_detector_and_the_registry_are_importable_from_core():
    for key, spec in DETECTORS.items():
        assert getattr(core, spec.cls.__name__) is spec.cls
    assert core.DETECTORS is DETECTORS
    assert len({s.name for s in DETECTORS.values()}) == len(DETECTORS)  # each named once


@pytest.mark.parametrize("key", ["ae:dense", "ae:ensemble", *BASELINE_KEYS])
def test_clone_refits_and_scores_follow_the_sign_and_threshold_convention(key):
    X, y = planted(n_normal=300, n_anomaly=20, seed=1)
    original = _quick(key)
    with pytest.raises(NotFittedError):
        original.decision_function(X)
    det = clone(original).set_params(random_state=3).fit(X.iloc[:200], y[:200], validation_data=(X.iloc[200:], y[200:]))
    assert det.get_params()["random_state"] == 3 and "random_state=3" in repr(det)
    assert not hasattr(original, "threshold_")  # clone left the original alone
    scores = det.decision_function(X)
    assert scores.shape == (len(X),) and np.isfinite(scores).all()
    assert np.array_equal(det.predict(X), (scores > det.threshold_).astype(np.int8))
    assert ThresholdCurve(scores, y).roc_auc > 0.8  # anomalies score higher
    assert det.decision_scores_.shape == ((y[:200] == 0).sum(),)
    assert list(det.feature_names_in_) == list(X.columns) and det.n_features_in_ == X.shape[1]
    again = clone(original).set_params(random_state=3).fit(X.iloc[:200], y[:200], validation_data=(X.iloc[200:], y[200:]))
    assert np.array_equal(again.decision_function(X), scores)  # same seed, same scores


def test_knn_scores_the_mean_distance_to_the_other_nearest_normal_rows():
    X, y = planted(n_normal=120, n_anomaly=0, seed=2)
    det = core.KNNDetector(n_neighbors=5).fit(X)
    x = det.transform_features(X)
    pairwise = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(axis=-1))
    new = x[:7] + 0.3
    expected_new = np.sort(np.sqrt(((new[:, None, :] - x[None, :, :]) ** 2).sum(axis=-1)), axis=1)[:, :5].mean(axis=1)
    np.fill_diagonal(pairwise, np.inf)
    assert np.allclose(det.decision_scores_, np.sort(pairwise, axis=1)[:, :5].mean(axis=1))
    assert np.allclose(det._score(new), expected_new)


def test_ecod_scores_rows_by_their_empirical_tails():
    rng = np.random.default_rng(0)
    train = rng.normal(size=(500, 3))
    det = core.ECODDetector().fit(train)
    centre, tail = np.zeros((1, 3)), np.full((1, 3), 4.0)
    assert det.decision_function(tail)[0] > det.decision_function(centre)[0]
    # beyond every training value: each column's right tail is 1/(n+1), and the skew picks no worse a tail
    assert np.isclose(det.decision_function(tail)[0], 3 * np.log(501))
    assert np.isfinite(det.decision_function(np.full((1, 3), -1e9))).all()


def test_registry_offers_sequence_models_only_for_signals_and_the_svm_only_on_small_tables():
    assert "ae:conv1d" not in available(1000, "it has 8 feature(s)") and "ae:conv1d" in available(1000, None)
    assert "ocsvm" not in available(50_000, None) and {"knn", "ecod"} <= set(available(50_000, None))
    with pytest.raises(DataError, match="no parameter"):
        make_detector("knn", epochs=3)


def test_fit_on_split_equals_the_incremental_path_of_the_train_page():
    from core.pipeline import begin_training, load_sample, prepare

    prepared = prepare(load_sample("machine_sensors.csv"), "status", ["normal"], seed=0)
    one_call = fit_on_split(prepared, "ae:dense", {"epochs": 3})
    incremental = begin_training(prepared, {"epochs": 3})
    incremental.trainer_.run()
    incremental.end_fit()
    rows = prepared.rows("test")
    assert np.array_equal(one_call.decision_function(rows), incremental.decision_function(rows))
    assert one_call.threshold_ == incremental.threshold_
    knn = fit_on_split(prepared, "knn")
    assert knn.random_state == prepared.split.seed and knn.threshold_rule_ == "max_f1"
