"""A classical detector in a bundle: its fitted scikit-learn model with ``skops.io``, the rest as JSON.

No pickle: skops stores objects as a schema and loads only types it trusts.
Beyond its defaults we trust exactly the few scikit-learn internals our
baselines hold (tree and neighbour-search structures); a file naming any other
type is refused before anything in it is built.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core.errors import DataError
from core.preprocess import Preprocessor
from core.thresholds import Threshold

BASELINE_MEMBER = "model.skops"
#: Types beyond skops's defaults that a baseline bundle may contain, and nothing else.
TRUSTED_TYPES = (
    "sklearn.tree._tree.Tree",
    "sklearn.neighbors._kd_tree.KDTree",
    "sklearn.neighbors._ball_tree.BallTree",
    "sklearn.metrics._dist_metrics.EuclideanDistance64",
)
#: Registry key → the scikit-learn class its ``model_`` must be after loading (ECOD stores plain arrays).
MODEL_CLASSES = {
    "iforest": "sklearn.ensemble._iforest.IsolationForest",
    "lof": "sklearn.neighbors._lof.LocalOutlierFactor",
    "pca": "sklearn.decomposition._pca.PCA",
    "ocsvm": "sklearn.svm._classes.OneClassSVM",
    "knn": "sklearn.neighbors._unsupervised.NearestNeighbors",
    "ecod": "builtins.dict",
}


def is_baseline(detector) -> bool:
    from core.baselines import BaselineDetector

    return isinstance(detector, BaselineDetector)


def _payload(detector) -> Any:
    from core.baselines import ECODModel

    model = detector.model_
    if isinstance(model, ECODModel):  # our own class: stored as its arrays, so no type of ours needs trusting
        return {"sorted": model.sorted_, "skew": model.skew_}
    return model


def _model_from(payload: Any, key: str) -> Any:
    from core.baselines import ECODModel

    if key != "ecod":
        return payload
    model = ECODModel.__new__(ECODModel)
    model.sorted_ = np.asarray(payload["sorted"], dtype=np.float64)
    model.skew_ = np.asarray(payload["skew"], dtype=np.float64)
    return model


def baseline_model_bytes(detector) -> bytes:
    import skops.io as sio

    return sio.dumps(_payload(detector))


def baseline_state(detector) -> dict[str, Any]:
    """Everything but the fitted model, as JSON-able values."""
    from core.autoencoder_state import stored_train_scores
    from core.registry import key_of

    detector._check_fitted()
    scores = stored_train_scores(detector.decision_scores_)
    return {
        "type": "baseline",
        "key": key_of(detector),
        "params": detector.get_params(),
        "preprocessor": detector.preprocessor_.to_dict(),
        "feature_names_in": [str(f) for f in detector.feature_names_in_],
        "fit_seconds": float(detector.fit_seconds_),
        "threshold": detector.fitted_threshold.to_dict(),
        "train_scores": scores.tolist(),
    }


def load_baseline(state: dict[str, Any], model_bytes: bytes):
    """The fitted baseline again; raises :class:`DataError` for an untrusted or mismatched model."""
    import skops.io as sio

    from core.registry import DETECTORS

    key = state.get("key")
    if key not in MODEL_CLASSES:
        raise DataError(f"The bundle names a detector {key!r} that this version of Anomaly Lab does not know.")
    try:
        untrusted = sio.get_untrusted_types(data=model_bytes)
    except Exception as exc:  # skops raises several types for damaged files
        raise DataError(f"The bundle's {BASELINE_MEMBER} could not be read ({type(exc).__name__}); the file is damaged.") from None
    refused = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if refused:
        raise DataError(f"The bundle's model contains types Anomaly Lab does not trust ({', '.join(refused[:5])}); it is refused.")
    try:
        payload = sio.loads(model_bytes, trusted=list(untrusted))
    except Exception as exc:
        raise DataError(f"The bundle's {BASELINE_MEMBER} could not be loaded ({type(exc).__name__}: {str(exc)[:200]}).") from None
    found = f"{type(payload).__module__}:{type(payload).__name__}".replace(":", ".")
    if found != MODEL_CLASSES[key]:
        raise DataError(f"The bundle's model is a {found}, not what a {DETECTORS[key].name} holds; it is refused.")
    try:
        detector = DETECTORS[key].make(**state["params"])
        detector.preprocessor_ = Preprocessor.from_dict(state["preprocessor"])
        detector.feature_names_in_ = np.asarray(state["feature_names_in"], dtype=object)
        detector.n_features_in_ = len(detector.feature_names_in_)
        detector.model_ = _model_from(payload, key)
        detector.fit_seconds_ = float(state["fit_seconds"])
        detector.decision_scores_ = np.asarray(state["train_scores"], dtype=np.float64)
        t = state["threshold"]
        detector.set_threshold(Threshold.from_dict(t))
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"The bundle's settings do not fit its model ({exc}); the file is damaged.") from None
    return detector
