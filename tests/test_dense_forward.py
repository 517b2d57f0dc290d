"""The dense family scores in NumPy (core.dense_forward): same numbers as Keras, and no TensorFlow to load a bundle and score."""

import io
import json
import subprocess
import sys
import zipfile

import numpy as np
import pandas as pd
import pytest

from core.architectures import DENSE_FAMILY
from core.bundle import MODEL_MEMBER, bundle_bytes, load_bundle, save_bundle
from core.dense_forward import DenseForward
from core.detector import ACTIVATIONS, AutoencoderDetector
from tests.conftest import ROOT, planted

FIXTURES = ROOT / "tests" / "fixtures"


def _keras_outputs(model, x):
    import keras

    outputs = keras.Model(model.input, [model.output, model.get_layer("code").output])
    return [np.asarray(a) for a in outputs(x, training=False)]


def _close(ours, keras_out):
    """Equal up to float32 rounding: both sum the same products in a different order, so the tolerance
    scales with the size of the outputs (measured: both sit equally close to a float64 forward)."""
    scale = float(np.abs(keras_out).max()) or 1.0
    np.testing.assert_allclose(ours, keras_out, rtol=1e-5, atol=1e-5 * scale)


@pytest.mark.parametrize("architecture", DENSE_FAMILY)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_numpy_forward_matches_keras_for_every_dense_architecture_and_activation(architecture, activation, tmp_path):
    from core.network import build_autoencoder

    rng = np.random.default_rng(len(architecture) * 7 + len(activation))
    for output_activation in ("linear", "sigmoid"):
        model = build_autoencoder(9, architecture=architecture, hidden_sizes=(16, 8), code_size=3, activation=activation,
                                  output_activation=output_activation, dropout=0.2, seed=3)
        # weights moved off their initial values, so every activation sees negative and positive inputs
        model.set_weights([w + rng.normal(0, 0.3, w.shape).astype(np.float32) for w in model.get_weights()])
        x = (rng.normal(size=(2000, 9)) * 2).astype(np.float32)
        recon, codes = _keras_outputs(model, x)
        forward = DenseForward.from_model(model)
        ours_recon, ours_codes = forward(x)
        assert ours_recon.dtype == np.float32 and ours_codes.dtype == np.float32
        _close(ours_recon, recon)
        _close(ours_codes, codes)
        assert forward.n_parameters == model.count_params()
        model.save(tmp_path / "m.keras")
        from_file = DenseForward.from_keras_archive((tmp_path / "m.keras").read_bytes())
        assert all(np.array_equal(a, b) for a, b in zip(from_file(x), forward(x)))


@pytest.mark.parametrize("architecture", ["conv1d", "lstm"])
def test_sequence_models_are_left_to_keras(architecture, tmp_path):
    from core.network import build_autoencoder

    model = build_autoencoder(16, architecture=architecture, hidden_sizes=(8,), code_size=2)
    model.save(tmp_path / "m.keras")
    assert DenseForward.from_model(model) is None
    assert DenseForward.from_keras_archive((tmp_path / "m.keras").read_bytes()) is None


def test_an_archive_it_does_not_recognise_is_left_to_keras(tmp_path):
    import keras

    inputs = keras.Input(shape=(4,), name="features")
    code = keras.layers.Dense(2, name="code")(inputs)
    outputs = keras.layers.Dense(4, activation="softplus", name="reconstruction")(code)
    keras.Model(inputs, outputs).save(tmp_path / "m.keras")
    assert DenseForward.from_keras_archive((tmp_path / "m.keras").read_bytes()) is None  # softplus: not one of ours
    assert DenseForward.from_keras_archive(b"not a zip") is None


def test_fit_computes_its_statistics_from_the_numpy_forward(planted_data):
    from core.losses import elementwise_loss

    X, _ = planted_data
    det = AutoencoderDetector(architecture="variational", epochs=3, random_state=2).fit(X)
    x = det.transform_features(X)
    recon, codes = det.dense_forward()(x)
    assert np.array_equal(det.score_stats_.cell_error_scale, np.maximum(elementwise_loss("mse", x, recon).mean(axis=0), 1e-12))
    assert np.array_equal(det.score_stats_.latent_mean, codes.mean(axis=0))
    assert np.array_equal(det.encode(X), codes)


@pytest.mark.parametrize("architecture", ["variational", "sparse"])
def test_save_then_load_scores_bit_identically_without_reading_the_keras_model(architecture, planted_data):
    X, y = planted_data
    det = AutoencoderDetector(architecture=architecture, activation="selu", epochs=3, random_state=5).fit(X.iloc[:400], y[:400])
    loaded, _ = load_bundle(bundle_bytes(det))
    assert loaded.keras_archive() is not None and "_model" not in vars(loaded)  # Keras not read
    assert np.array_equal(loaded.decision_function(X), det.decision_function(X))
    assert np.array_equal(loaded.reconstruct(X), det.reconstruct(X))
    assert loaded.code_size_ == det.code_size_ and loaded.n_parameters_ == det.n_parameters_


def test_a_loaded_detector_reads_its_keras_model_when_asked_and_resaves_the_same_network(fitted):
    det, X, _ = fitted
    raw = bundle_bytes(det)
    loaded, _ = load_bundle(raw)
    again = bundle_bytes(loaded)
    with zipfile.ZipFile(io.BytesIO(raw)) as a, zipfile.ZipFile(io.BytesIO(again)) as b:
        assert a.read(MODEL_MEMBER) == b.read(MODEL_MEMBER)
    model = loaded.model_  # read from the archive now
    assert model.count_params() == det.model_.count_params()
    _close(_keras_outputs(model, loaded.transform_features(X))[0], loaded.reconstruct(X))
    assert loaded.encoder_.output_shape == (None, det.code_size_)


@pytest.mark.parametrize("architecture", ["dense", "variational", "denoising", "sparse"])
def test_bundles_saved_before_numpy_scoring_load_and_score_as_keras_scored_them(architecture):
    expected = json.loads((FIXTURES / "bundle_before_numpy_scores.json").read_text())["scores"][architecture]
    rows = pd.read_csv(FIXTURES / "bundle_before_numpy_rows.csv")
    det, _ = load_bundle(FIXTURES / f"bundle_before_numpy_{architecture}.zip")
    assert det.dense_forward() is not None
    np.testing.assert_allclose(det.decision_function(rows), expected, rtol=1e-4)


def test_loading_a_dense_bundle_and_scoring_from_the_command_line_imports_no_tensorflow(fitted, tmp_path):
    det, X, _ = fitted
    save_bundle(det, tmp_path / "m.zip", {})
    X.iloc[:10].to_csv(tmp_path / "rows.csv", index=False)
    code = (
        "import sys, numpy as np\n"
        "from core.cli import main\n"
        f"assert main(['score', {str(tmp_path / 'm.zip')!r}, {str(tmp_path / 'rows.csv')!r}, '--out', {str(tmp_path / 'out.csv')!r}]) == 0\n"
        "from core.served_model import ServedModel\n"  # the HTTP service's and the Spark workers' model
        f"served = ServedModel.from_bundle({str(tmp_path / 'm.zip')!r})\n"
        "served.decode(np.zeros((1, served.code_size), np.float32))\n"
        "print(','.join(m for m in ('keras', 'tensorflow') if m in sys.modules) or 'none')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "none"
    scored = pd.read_csv(tmp_path / "out.csv")
    assert np.allclose(scored["anomaly_score"], det.decision_function(X.iloc[:10]))


def test_conv1d_still_scores_through_keras():
    X, _ = planted(n_normal=120, n_anomaly=0, n_features=16, seed=2)
    det = AutoencoderDetector(architecture="conv1d", epochs=1, hidden_sizes=(4,), code_size=2).fit(X)
    assert det.dense_forward() is None
    loaded, _ = load_bundle(bundle_bytes(det))
    assert np.array_equal(loaded.decision_function(X), det.decision_function(X))


def test_a_row_scores_the_same_alone_as_inside_a_large_batch(fitted):
    det, X, _ = fitted
    forward = det.dense_forward()
    rng = np.random.default_rng(1)
    x = rng.normal(size=(20_000, forward.n_inputs)).astype(np.float32)
    recon, codes = forward(x)
    for size in (1, 3, 100, 4097):
        parts = [forward(x[i:i + size]) for i in range(0, 8192, size)]
        assert np.array_equal(np.concatenate([p[0] for p in parts]), recon[:len(parts) * size][:8192 + size])
        assert np.array_equal(np.concatenate([p[1] for p in parts]), codes[:len(parts) * size][:8192 + size])
