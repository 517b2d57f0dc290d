import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from core.detector import AutoencoderDetector
from core.errors import DataError
from core.metrics import ThresholdCurve
from core.network import default_architecture
from core.training import StopFlag
from tests.conftest import planted


def test_fit_returns_self_and_sets_fitted_attributes(fitted):
    det, X, y = fitted
    assert det.n_features_in_ == X.shape[1]
    assert list(det.feature_names_in_) == list(X.columns)
    assert set(det.history_) == {"loss", "val_loss"} and len(det.history_["loss"]) == det.epochs_run_
    assert np.isfinite(det.threshold_) and det.threshold_rule_ == "max_f1"
    d = AutoencoderDetector(epochs=1)
    assert d.fit(X.iloc[:100], y[:100]) is d


def test_scores_shapes_and_sign_convention(fitted):
    det, X, y = fitted
    test = slice(int(len(X) * 0.8), None)
    s = det.decision_function(X.iloc[test])
    assert s.shape == (len(X.iloc[test]),)
    assert set(np.unique(det.predict(X.iloc[test]))) <= {0, 1}
    # higher = more abnormal: planted anomalies score higher, ROC-AUC floor
    assert ThresholdCurve(s, y[test]).roc_auc > 0.9
    assert np.array_equal(det.predict(X.iloc[test]), (s > det.threshold_).astype(np.int8))


def test_per_feature_errors_sum_to_reconstruction_error(fitted):
    det, X, _ = fitted
    per = det.per_feature_error(X.iloc[:50])
    assert list(per.columns) == list(X.columns)
    np.testing.assert_allclose(per.sum(axis=1).to_numpy(), det.reconstruction_error(X.iloc[:50]), rtol=1e-6)


def test_unfitted_use_raises_not_fitted_error():
    with pytest.raises(NotFittedError):
        AutoencoderDetector().decision_function(np.zeros((2, 3)))


def test_same_seed_gives_bit_identical_scores():
    X, y = planted(n_normal=300, n_anomaly=20, seed=5)
    a = AutoencoderDetector(epochs=5, dropout=0.1, random_state=7).fit(X, y).decision_function(X)
    b = AutoencoderDetector(epochs=5, dropout=0.1, random_state=7).fit(X, y).decision_function(X)
    c = AutoencoderDetector(epochs=5, dropout=0.1, random_state=8).fit(X, y).decision_function(X)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_defaults_adapt_to_the_number_of_features():
    small, large = default_architecture(6), default_architecture(140)
    assert small != large
    assert small[1] < large[1] and max(small[0]) < max(large[0])


def test_without_labels_trains_on_all_rows_and_uses_the_99th_percentile():
    X, _ = planted(n_normal=300, n_anomaly=0, seed=2)
    det = AutoencoderDetector(epochs=3).fit(X)
    assert det.threshold_rule_ == "percentile:99"
    assert det.threshold_ == pytest.approx(np.percentile(det.decision_scores_, 99))


def test_progress_hook_reports_every_epoch_and_stop_keeps_best_weights():
    X, y = planted(n_normal=300, n_anomaly=20, seed=3)
    stop = StopFlag()
    reports = []

    def hook(report):
        reports.append(report)
        if report.epoch == 3:
            stop.set()

    det = AutoencoderDetector(epochs=50, patience=0).fit(X, y, hooks=[hook], stop=stop)
    assert [r.epoch for r in reports] == [1, 2, 3]
    assert det.stopped_by_user_ and det.epochs_run_ == 3
    assert det.best_epoch_ == int(np.argmin(det.history_["val_loss"])) + 1
    assert reports[-1].elapsed > 0 and reports[-1].remaining > 0


def test_early_stopping_ends_before_max_epochs():
    X, y = planted(n_normal=300, n_anomaly=20, seed=4)
    det = AutoencoderDetector(epochs=500, patience=2, learning_rate=0.05).fit(X, y)
    assert det.epochs_run_ < 500


def test_text_and_missing_features_are_handled():
    X, y = planted(n_normal=300, n_anomaly=20, seed=6)
    X = X.copy()
    X["site"] = np.where(np.arange(len(X)) % 2, "north", "south")
    X["const"] = 1.0
    X.loc[::17, "f0"] = np.nan
    det = AutoencoderDetector(epochs=2).fit(X, y)
    assert "site" in det.preprocessor_.used_features and "const" in det.preprocessor_.dropped
    assert any("imputed" in f for f in det.preprocessor_.findings)
    extreme = X.iloc[:3].copy()
    extreme["f1"] = 1e9  # far outside the training range: scores, does not crash
    assert np.all(np.isfinite(det.decision_function(extreme)))


@pytest.mark.parametrize("params, fragment", [({"loss": "hinge"}, "Loss"), ({"scaler": "log"}, "Scaler"), ({"dropout": 1.5}, "Dropout"), ({"epochs": 0}, "Epochs"),
                                            ({"min_delta": 1.0}, "Min_delta"), ({"weight_decay": -1}, "Weight_decay"),
                                            ({"lr_schedule": "step"}, "Lr_schedule"), ({"reconstruction_part": "max"}, "Reconstruction_part")])
def test_bad_parameters_raise_data_error(params, fragment):
    X, y = planted(n_normal=50, n_anomaly=5)
    with pytest.raises(DataError, match=fragment):
        AutoencoderDetector(**params).fit(X, y)


@pytest.mark.parametrize("loss", ["mae", "msle", "bce"])
def test_each_loss_trains_and_scores(loss):
    X, y = planted(n_normal=200, n_anomaly=20, seed=9)
    det = AutoencoderDetector(epochs=2, loss=loss, scaler="minmax" if loss in ("msle", "bce") else "standard").fit(X, y)
    assert np.all(np.isfinite(det.reconstruction_error(X)))
    assert det.best_val_loss_ >= 0


@pytest.mark.parametrize("loss", ["msle", "bce"])
def test_a_loss_on_values_in_0_1_with_z_scores_is_refused_with_the_fix(loss):
    X, y = planted(n_normal=200, n_anomaly=20, seed=9)
    with pytest.raises(DataError, match="choose the minmax or quantile scaler"):
        AutoencoderDetector(epochs=2, loss=loss, scaler="standard").fit(X, y)


def test_missing_columns_at_scoring_are_named(fitted):
    det, X, _ = fitted
    with pytest.raises(DataError, match="'f3'"):
        det.decision_function(X.drop(columns=["f3"]))


def test_combined_score_parts_each_average_one_and_training_rows_are_not_their_own_neighbours():
    X, y = planted(n_normal=300, n_anomaly=10, seed=6)
    det = AutoencoderDetector(epochs=8, score="combined", random_state=2).fit(X, y)
    assert det.score_parts_ == ("reconstruction", "latent", "neighbours", "tails")
    normal_train = X[y == 0]
    parts = det.score_parts(normal_train)
    reconstruction = (parts["cell_error"] / det.score_stats_.cell_error_scale).mean(axis=1)
    latent = det.score_stats_.latent_distance(parts["codes"]) / det.score_stats_.latent_scale
    tails = det.score_stats_.tails(parts["x"]) / det.score_stats_.tails_scale
    neighbour_in_fit = det.decision_scores_ - reconstruction - latent - tails
    assert np.isclose(reconstruction.mean(), 1) and np.isclose(latent.mean(), 1) and np.isclose(tails.mean(), 1)
    assert np.isclose(neighbour_in_fit.mean(), 1, atol=1e-3)
    # each training row is measured against the 5 nearest *other* training codes, not itself
    codes = parts["codes"].astype(np.float64)
    pairwise = np.sqrt(((codes[:, None, :] - codes[None, :, :]) ** 2).sum(axis=-1))
    np.fill_diagonal(pairwise, np.inf)
    expected = np.sort(pairwise, axis=1)[:, :5].mean(axis=1) / det.score_stats_.neighbour_scale
    assert np.allclose(neighbour_in_fit, expected, atol=1e-4)


def test_large_tables_keep_a_seeded_sample_of_reference_codes(monkeypatch):
    import core.score_stats as detector_module
    from core.bundle import bundle_bytes, load_bundle

    monkeypatch.setattr(detector_module, "MAX_REFERENCE_CODES", 50)
    X, y = planted(n_normal=300, n_anomaly=10, seed=5)
    det = AutoencoderDetector(epochs=2, random_state=3).fit(X, y)
    assert det.score_stats_.reference_codes.shape == (50, det.model_.get_layer("code").units)
    again = AutoencoderDetector(epochs=2, random_state=3).fit(X, y)
    assert np.array_equal(det.score_stats_.reference_codes, again.score_stats_.reference_codes)
    loaded, _ = load_bundle(bundle_bytes(det, {}))
    assert np.array_equal(loaded.decision_function(X), det.decision_function(X))


def test_auto_score_keeps_the_parts_with_the_best_validation_average_precision(fitted):
    from sklearn.metrics import average_precision_score

    det, X, y = fitted
    assert det.score == "auto" and len(det.score_selection_) == 15  # every non-empty subset of the four parts
    chosen = "+".join(det.score_parts_)
    assert det.score_selection_[chosen] == max(det.score_selection_.values())
    val = slice(int(len(X) * 0.6), int(len(X) * 0.8))  # the fixture's validation rows
    assert np.isclose(average_precision_score(y[val], det.decision_function(X.iloc[val])), det.score_selection_[chosen])


def test_auto_score_without_labels_adds_all_four_parts():
    X, _ = planted(n_normal=200, n_anomaly=0, seed=3)
    det = AutoencoderDetector(epochs=2).fit(X)
    assert det.score_parts_ == ("reconstruction", "latent", "neighbours", "tails") and det.score_selection_ == {}


def test_a_bundle_from_before_the_neighbour_part_still_scores_reconstruction_plus_latent(fitted):
    det, X, y = fitted
    state = det.get_state()
    for key in ("reference_codes", "neighbour_scale"):
        state["score_stats"].pop(key)
    state.pop("score_parts")
    old = AutoencoderDetector.from_state(state, det.model_)
    parts = det.score_parts(X.iloc[:20])
    expected = (parts["cell_error"] / det.score_stats_.cell_error_scale).mean(axis=1) + det.score_stats_.latent_distance(parts["codes"]) / det.score_stats_.latent_scale
    assert np.allclose(old.decision_function(X.iloc[:20]), expected)


def test_score_description_names_the_kept_parts_and_their_validation_precision(fitted):
    det, _, _ = fitted
    text = det.score_description()
    chosen = det.score_selection_["+".join(det.score_parts_)]
    assert f"average precision {chosen:.3f}" in text
    named = {"reconstruction": "reconstruction error", "latent": "Mahalanobis", "neighbours": "nearest normal codes"}
    for part, words in named.items():
        assert (words in text) == (part in det.score_parts_)
