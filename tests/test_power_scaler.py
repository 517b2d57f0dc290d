"""The Yeo-Johnson scalers: the transform itself, which columns "power" bends, and that bundles keep it."""

import numpy as np
import pandas as pd
import pytest

from core.preprocess import Preprocessor, yeo_johnson, yeo_johnson_inverse


def _skewed_frame(n: int = 800, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"skewed": rng.lognormal(0.0, 1.0, n), "symmetric": rng.normal(5.0, 2.0, n), "negative": -rng.exponential(3.0, n)})


def test_yeo_johnson_scaler_matches_scikit_learns_power_transformer():
    from sklearn.preprocessing import PowerTransformer

    frame = _skewed_frame()
    ours = Preprocessor("yeo-johnson").fit(frame, list(frame.columns)).transform(frame)
    theirs = PowerTransformer(method="yeo-johnson", standardize=True).fit_transform(frame.to_numpy())
    np.testing.assert_allclose(ours, theirs, atol=1e-5)


@pytest.mark.parametrize("lam", [-1.5, 0.0, 0.5, 1.0, 2.0, 3.0])
def test_yeo_johnson_inverse_undoes_the_transform_on_both_signs(lam):
    values = np.linspace(-6.0, 6.0, 49)
    np.testing.assert_allclose(yeo_johnson_inverse(yeo_johnson(values, lam), lam), values, atol=1e-9)


def test_power_scaler_bends_only_the_skewed_columns():
    frame = _skewed_frame()
    pre = Preprocessor("power").fit(frame, list(frame.columns))
    assert {c.name: c.kind for c in pre.numeric} == {"skewed": "yeo-johnson", "symmetric": "standard", "negative": "yeo-johnson"}
    x = pre.transform(frame)
    assert abs(pd.Series(x[:, 0]).skew()) < 0.2  # the lognormal column comes out close to symmetric
    np.testing.assert_allclose(pre.inverse_numeric(x).to_numpy(), frame.to_numpy(), rtol=1e-4, atol=1e-4)


def test_power_scaler_falls_back_to_z_scores_when_no_power_can_be_fitted():
    frame = pd.DataFrame({"spike": np.r_[np.zeros(99), 1e150]})  # any power but 1 overflows on the spike
    pre = Preprocessor("power").fit(frame, ["spike"])
    assert pre.numeric[0].kind == "standard"
    np.testing.assert_allclose(pre.transform(frame)[[0, -1], 0], [-0.1005, 9.9499], atol=1e-4)


def test_yeo_johnson_detector_bundle_round_trip_gives_identical_scores(planted_data, tmp_path):
    from core.bundle import load_bundle, save_bundle
    from core.detector import AutoencoderDetector

    X, y = planted_data
    X = X.assign(f0=np.exp(X["f0"]))  # one skewed column, so a power is fitted
    det = AutoencoderDetector(scaler="power", epochs=3, random_state=0).fit(X[:400], y[:400])
    assert det.preprocessor_.numeric[0].kind == "yeo-johnson"
    save_bundle(det, tmp_path / "m.zip", {})
    loaded, _ = load_bundle(tmp_path / "m.zip")
    assert loaded.preprocessor_.numeric[0].lam == det.preprocessor_.numeric[0].lam
    assert np.array_equal(loaded.decision_function(X), det.decision_function(X))
