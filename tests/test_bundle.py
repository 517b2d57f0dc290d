import io
import json
import zipfile

import numpy as np
import pytest

from core.bundle import META_MEMBER, MODEL_MEMBER, bundle_bytes, load_bundle, save_bundle
from core.errors import DataError


def test_round_trip_gives_identical_scores_threshold_and_context(fitted, tmp_path):
    det, X, _ = fitted
    path = tmp_path / "m.zip"
    save_bundle(det, path, {"label": "y", "normal_classes": ["0"]})
    loaded, context = load_bundle(path)
    assert np.array_equal(loaded.decision_function(X), det.decision_function(X))
    assert loaded.threshold_ == det.threshold_ and loaded.threshold_rule_ == det.threshold_rule_
    assert context == {"label": "y", "normal_classes": ["0"]}
    assert loaded.history_ == det.history_
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == sorted([MODEL_MEMBER, META_MEMBER])
        assert not any(n.endswith((".pkl", ".pickle")) for n in zf.namelist())


def _rezip(raw: bytes, edit) -> bytes:
    members = {}
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        for n in zf.namelist():
            members[n] = zf.read(n)
    edit(members)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for n, data in members.items():
            zf.writestr(n, data)
    return out.getvalue()


def _with_meta(raw, change):
    def edit(m):
        meta = json.loads(m[META_MEMBER])
        change(meta)
        m[META_MEMBER] = json.dumps(meta).encode()
    return _rezip(raw, edit)


@pytest.mark.parametrize(
    "damage, fragment",
    [
        (lambda raw: b"not a zip at all", "not a zip"),
        (lambda raw: _rezip(raw, lambda m: m.pop(META_MEMBER)), "lacks"),
        (lambda raw: _rezip(raw, lambda m: m.update({META_MEMBER: b"{oops"})), "not valid JSON"),
        (lambda raw: _with_meta(raw, lambda meta: meta.update(schema_version=99)), "schema version"),
        (lambda raw: _with_meta(raw, lambda meta: meta.update(kind="other")), "not an Anomaly Lab"),
        (lambda raw: _rezip(raw, lambda m: m.update({"../evil.txt": b"x"})), "unsafe"),
        (lambda raw: _rezip(raw, lambda m: m.update({"/etc/evil": b"x"})), "unsafe"),
        (lambda raw: _rezip(raw, lambda m: m.update({MODEL_MEMBER: b"garbage"})), "could not be loaded"),
        (lambda raw: _with_meta(raw, lambda meta: meta["detector"]["preprocessor"]["numeric"].pop()), "do not fit"),
    ],
)
def test_damaged_or_foreign_bundles_raise_data_error(fitted, damage, fragment):
    det, _, _ = fitted
    with pytest.raises(DataError, match=fragment):
        load_bundle(damage(bundle_bytes(det)))


def test_model_with_a_lambda_layer_is_refused_by_safe_mode(fitted, tmp_path):
    import keras

    det, _, _ = fitted
    inputs = keras.Input(shape=(det.model_.input_shape[1],))
    outputs = keras.layers.Lambda(lambda t: t * 2)(inputs)
    evil = keras.Model(inputs, outputs)
    evil.save(tmp_path / "evil.keras")
    raw = _rezip(bundle_bytes(det), lambda m: m.update({MODEL_MEMBER: (tmp_path / "evil.keras").read_bytes()}))
    with pytest.raises(DataError, match="could not be loaded safely"):
        load_bundle(raw)


def test_saved_threshold_overrides_without_touching_the_detector(fitted):
    from core.thresholds import Threshold

    det, X, _ = fitted
    loaded, _ = load_bundle(bundle_bytes(det, {}, Threshold(1.2345, "manual", "chosen on the slider")))
    assert loaded.threshold_ == 1.2345 and loaded.threshold_rule_ == "manual" and loaded.threshold_reason_ == "chosen on the slider"
    assert det.threshold_ != 1.2345


def test_a_threshold_set_by_hand_keeps_the_rows_it_was_set_on_through_a_bundle(fitted):
    """So the Validation-vs-test tab can still say which rows may flatter it after a restore."""
    from core.thresholds import Threshold

    det, _, _ = fitted
    loaded, _ = load_bundle(bundle_bytes(det, {}, Threshold(1.2345, "manual", "set by hand", set_on="test")))
    assert loaded.fitted_threshold == Threshold(1.2345, "manual", "set by hand", "test")
    again, _ = load_bundle(bundle_bytes(loaded, {}))  # saved again from the restored detector itself
    assert again.fitted_threshold.set_on == "test"


def test_prepare_from_context_names_missing_columns():
    from core.pipeline import load_sample, prepare, prepare_from_context

    table = load_sample("machine_sensors.csv")
    prepared = prepare(table, "status", ["normal"], seed=3)
    again = prepare_from_context(table, prepared.context())
    assert np.array_equal(again.split.test, prepared.split.test) and again.features == prepared.features
    frame = table.frame
    table.frame = frame.drop(columns=["rpm", "status"])
    with pytest.raises(DataError, match=r"feature column\(s\) the saved model reads: 'rpm' and its label column 'status'"):
        prepare_from_context(table, prepared.context())
    table.frame = frame.drop(columns=["status"])  # the label alone is not a column the model reads: said so
    with pytest.raises(DataError, match="lacks its label column 'status'") as refused:
        prepare_from_context(table, prepared.context())
    assert "feature" not in str(refused.value).split(".")[0]


def test_a_review_band_is_saved_with_the_threshold_for_every_kind_of_model_and_a_bad_one_is_refused(fitted):
    from core.baselines import KNNDetector
    from core.ensemble import AutoencoderEnsemble
    from core.thresholds import Threshold

    det, X, y = fitted
    others = [KNNDetector().fit(X.iloc[:200], y[:200]), AutoencoderEnsemble(n_networks=2, epochs=1).fit(X.iloc[:200], y[:200])]
    for model in (det, *others):
        threshold = model.fitted_threshold
        banded = Threshold(threshold.value, "by_hand", "set by hand", "val", review_from=threshold.value * 0.8)
        loaded, _ = load_bundle(bundle_bytes(model, {}, banded))
        assert loaded.fitted_threshold == banded, type(model).__name__
        assert load_bundle(bundle_bytes(model, {}))[0].fitted_threshold.review_from is None  # no band saved, none read
    raw = bundle_bytes(det, {}, Threshold(det.threshold_, "by_hand", "set by hand", review_from=det.threshold_ * 0.8))
    with pytest.raises(DataError, match="not below its threshold"):
        load_bundle(_with_meta(raw, lambda meta: meta["detector"]["threshold"].update(review_from=det.threshold_ * 2)))
