import io
import json
import zipfile

import numpy as np
import pandas as pd
import pytest

from core.baseline_bundle import BASELINE_MEMBER
from core.bundle import META_MEMBER, bundle_bytes, load_bundle
from core.errors import DataError
from core.registry import BASELINE_KEYS, make_detector
from tests.conftest import planted


def _fitted(key):
    X, y = planted(n_normal=300, n_anomaly=20, seed=3)
    return make_detector(key, random_state=2).fit(X.iloc[:200], y[:200], validation_data=(X.iloc[200:], y[200:])), X


@pytest.mark.parametrize("key", BASELINE_KEYS)
def test_every_baseline_round_trips_with_identical_scores_threshold_and_context(key):
    det, X = _fitted(key)
    loaded, context = load_bundle(bundle_bytes(det, {"label": "y"}))
    assert type(loaded) is type(det) and loaded.get_params() == det.get_params()
    assert np.array_equal(loaded.decision_function(X), det.decision_function(X))
    assert (loaded.threshold_, loaded.threshold_rule_, loaded.threshold_reason_) == (det.threshold_, det.threshold_rule_, det.threshold_reason_)
    assert np.array_equal(loaded.decision_scores_, np.sort(det.decision_scores_))
    assert context == {"label": "y"}
    with zipfile.ZipFile(io.BytesIO(bundle_bytes(det))) as zf:
        assert sorted(zf.namelist()) == sorted([BASELINE_MEMBER, META_MEMBER])  # no pickle, no .keras


def _with_model(bundle: bytes, model_bytes: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(bundle)) as src, zipfile.ZipFile(out, "w") as dst:
        dst.writestr(META_MEMBER, src.read(META_MEMBER))
        dst.writestr(BASELINE_MEMBER, model_bytes)
    return out.getvalue()


def test_a_skops_file_naming_an_untrusted_type_is_refused():
    import skops.io as sio

    from core.baselines import ECODModel

    det, _ = _fitted("knn")
    hostile = sio.dumps({"model": ECODModel(np.zeros((3, 2)))})  # a type outside the allow-list
    assert "core.baselines.ECODModel" in sio.get_untrusted_types(data=hostile)
    with pytest.raises(DataError, match="does not trust.*ECODModel"):
        load_bundle(_with_model(bundle_bytes(det), hostile))


def test_a_trusted_model_of_the_wrong_kind_is_refused():
    import skops.io as sio

    knn, _ = _fitted("knn")
    pca, _ = _fitted("pca")
    with pytest.raises(DataError, match="not what a kNN distance holds"):
        load_bundle(_with_model(bundle_bytes(knn), sio.dumps(pca.model_)))
    with pytest.raises(DataError, match="damaged"):
        load_bundle(_with_model(bundle_bytes(knn), b"not a skops file"))


def test_the_command_line_scores_with_a_baseline_bundle(tmp_path):
    from core.cli import main

    det, X = _fitted("ecod")
    (tmp_path / "m.zip").write_bytes(bundle_bytes(det))
    X.to_csv(tmp_path / "rows.csv", index=False)
    assert main(["score", str(tmp_path / "m.zip"), str(tmp_path / "rows.csv"), "--out", str(tmp_path / "scored.csv")]) == 0
    scored = pd.read_csv(tmp_path / "scored.csv")
    assert np.allclose(scored["anomaly_score"], det.decision_function(X))
    meta = json.loads(zipfile.ZipFile(tmp_path / "m.zip").read(META_MEMBER))
    assert meta["detector"]["key"] == "ecod"
