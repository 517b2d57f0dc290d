"""An autoencoder detector as JSON-able values, beside its ``.keras`` network (used by :mod:`core.bundle`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

import numpy as np

from core.preprocess import Preprocessor
from core.score_stats import ScoreStats
from core.thresholds import Threshold

if TYPE_CHECKING:
    import keras

    from core.dense_forward import DenseForward

#: Bundles keep at most this many training scores (quantiles beyond), enough for label-free rules.
MAX_STORED_SCORES = 10001


def stored_train_scores(scores: np.ndarray) -> np.ndarray:
    """Training scores as a bundle keeps them: sorted, and their quantiles beyond :data:`MAX_STORED_SCORES`."""
    scores = np.sort(np.asarray(scores, dtype=np.float64))
    return np.quantile(scores, np.linspace(0, 1, MAX_STORED_SCORES)) if len(scores) > MAX_STORED_SCORES else scores


def autoencoder_state(det) -> dict[str, Any]:
    """Everything but the network."""
    det._check_fitted()
    scores = stored_train_scores(det.decision_scores_)
    params = det.get_params()
    params["hidden_sizes"] = list(params["hidden_sizes"]) if params["hidden_sizes"] is not None else None
    return {
        "params": params,
        "preprocessor": det.preprocessor_.to_dict(),
        "feature_names_in": [str(f) for f in det.feature_names_in_],
        "history": det.history_,
        "epochs_run": det.epochs_run_,
        "best_epoch": det.best_epoch_,
        "best_val_loss": det.best_val_loss_,
        "stopped_by_user": det.stopped_by_user_,
        "early_stopped": bool(getattr(det, "early_stopped_", False)),
        "fit_seconds": det.fit_seconds_,
        "threshold": det.fitted_threshold.to_dict(),
        "score_parts": list(det.score_parts_),
        "score_selection": det.score_selection_,
        "score_stats": det.score_stats_.to_dict(),
        "train_scores": scores.tolist(),
    }


def autoencoder_from_state(state: dict[str, Any], model: Optional["keras.Model"] = None, *,
                           archive: Optional[bytes] = None, forward: Optional["DenseForward"] = None):
    """The fitted detector again, from a Keras ``model`` or from a ``.keras`` ``archive`` (with its NumPy
    ``forward`` for the dense family: then Keras is not imported); raises ValueError when the state does
    not fit the network."""
    from core.detector import AutoencoderDetector

    params = dict(state["params"])
    known = AutoencoderDetector().get_params()
    det = AutoencoderDetector(**{k: v for k, v in params.items() if k in known})
    det.preprocessor_ = Preprocessor.from_dict(state["preprocessor"])
    n_inputs = len(det.preprocessor_.output_names)
    if model is None and archive is None:
        raise ValueError("a detector needs its network (a Keras model or a .keras archive)")
    if model is not None:
        shapes = tuple(model.input_shape[1:]), tuple(model.output_shape[1:])
    elif forward is not None:
        shapes = (forward.n_inputs,), (forward.n_outputs,)
    else:
        shapes = None  # read by Keras when first needed
    if shapes is not None and shapes != ((n_inputs,), (n_inputs,)):
        raise ValueError(f"the model takes {shapes[0]} but the preprocessing makes {n_inputs} columns")
    if model is not None:
        det.model_ = model
    else:
        det.use_keras_archive(archive, forward)
    det.feature_names_in_ = np.asarray(state["feature_names_in"], dtype=object)
    det.n_features_in_ = len(det.feature_names_in_)
    det.history_ = {k: list(map(float, v)) for k, v in state["history"].items()}
    det.epochs_run_ = int(state["epochs_run"])
    det.best_epoch_ = int(state["best_epoch"])
    det.best_val_loss_ = float(state["best_val_loss"])
    det.stopped_by_user_ = bool(state["stopped_by_user"])
    det.early_stopped_ = bool(state.get("early_stopped", False))
    det.fit_seconds_ = float(state["fit_seconds"])
    det.score_stats_ = ScoreStats.from_dict(state["score_stats"], state.get("score_parts"), state.get("score_selection", {}))
    det.decision_scores_ = np.asarray(state["train_scores"], dtype=np.float64)
    t = state["threshold"]
    det.set_threshold(Threshold.from_dict(t))
    return det
