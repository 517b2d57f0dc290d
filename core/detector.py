"""The autoencoder anomaly detector, with the scikit-learn / PyOD contract.

``fit`` learns preprocessing and the network from normal rows and returns
``self``; ``reconstruction_error`` is the domain quantity; ``decision_function``
(higher = more abnormal) and ``predict`` (1 = anomaly) are one line each on top.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Optional, Sequence

import base64

import keras
import numpy as np
import pandas as pd
from sklearn.exceptions import NotFittedError
from sklearn.neighbors import NearestNeighbors

from core.errors import DataError
from core.losses import LOSSES, elementwise_loss, keras_loss
from core.network import ARCHITECTURES, SEQUENCE_ARCHITECTURES, build_autoencoder, default_architecture, encoder_of
from core.preprocess import SCALERS, Preprocessor
from core.thresholds import Threshold, choose_threshold
from core.training import ProgressHook, StopFlag, Trainer

log = logging.getLogger(__name__)

ACTIVATIONS = ("relu", "tanh", "elu", "selu", "gelu", "sigmoid")
SCORES = ("auto", "combined", "reconstruction", "latent")
#: The three parts a combined score adds, each scaled to average 1 on normal training rows.
SCORE_PARTS = ("reconstruction", "latent", "neighbours")
#: Subsets of the parts that ``score="auto"`` tries on labelled validation rows, all three first
#: (kept on ties).
PART_SUBSETS = tuple(sorted(
    (tuple(p for p, keep in zip(SCORE_PARTS, mask) if keep) for mask in np.ndindex(2, 2, 2) if any(mask)),
    key=lambda subset: -len(subset),
))
PREDICT_BATCH = 8192
SMALL_BATCH = 1024
#: The latent covariance is shrunk towards its diagonal by this much, so a
#: nearly flat direction of the code cannot make every distance explode.
LATENT_RIDGE = 1e-3
#: Bundles keep at most this many training scores (quantiles beyond), enough for label-free rules.
MAX_STORED_SCORES = 10001
#: Normal training codes kept as neighbours for the code-neighbour part of the score
#: (a seeded sample beyond this), and how many neighbours a row is measured against.
MAX_REFERENCE_CODES = 5000
CODE_NEIGHBOURS = 5


def _as_frame(X: Any) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        return X
    array = np.asarray(X)
    if array.ndim != 2:
        raise DataError(f"Expected a 2-D table of rows and columns, got an array of shape {array.shape}.")
    return pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])


def _encode_array(array: np.ndarray) -> dict[str, Any]:
    """A float32 matrix as base64 (a quarter the size of a JSON list of numbers)."""
    data = np.ascontiguousarray(array, dtype="<f4")
    return {"shape": list(data.shape), "float32_base64": base64.b64encode(data.tobytes()).decode("ascii")}


def _decode_array(stored: dict[str, Any]) -> np.ndarray:
    raw = base64.b64decode(stored["float32_base64"].encode("ascii"), validate=True)
    return np.frombuffer(raw, dtype="<f4").reshape(stored["shape"]).astype(np.float32)


MIN_SEQUENCE_LENGTH = 16


def sequence_problem(preprocessor: Preprocessor) -> Optional[str]:
    """Why the features cannot be read as one signal, or None when they can.

    A signal is many numeric columns on one scale (a heartbeat's samples): at least
    16, no text columns, and spreads within a factor of 10 of each other.
    """
    if preprocessor.categorical:
        return f"it has text feature(s) ({', '.join(preprocessor.categorical)})"
    numeric = preprocessor.numeric
    if len(numeric) < MIN_SEQUENCE_LENGTH:
        return f"it has {len(numeric)} feature(s), fewer than {MIN_SEQUENCE_LENGTH}"
    spreads = np.array([c.b if c.kind == "standard" else (c.knots[-1] - c.knots[0] if c.kind == "quantile" else c.b) for c in numeric])
    if spreads.max() > 10 * spreads.min():
        return "its columns are on different scales (their spreads differ more than tenfold)"
    return None


def default_batch_size(n_rows: int) -> int:
    """About 30 steps an epoch, between 32 and 512 rows a batch."""
    return int(min(512, max(32, 2 ** round(np.log2(max(n_rows, 1) / 30)))))


class AutoencoderDetector:
    """Dense autoencoder trained on normal rows; rows it reconstructs badly are anomalies.

    Parameters
    ----------
    hidden_sizes : widths of the encoder's hidden layers (the decoder mirrors them);
        ``None`` sizes them from the number of features.
    code_size : width of the bottleneck; ``None`` sizes it from the features.
    activation : hidden-layer activation.
    dropout : dropout rate after each hidden layer, while training only.
    loss : "mse", "mae", "msle" or "bce"; also the per-row reconstruction error.
    learning_rate : Adam's step size.
    epochs : most epochs to train; early stopping usually ends sooner.
    batch_size : rows per step; ``None`` picks about 30 steps an epoch.
    patience : epochs without a better validation loss before stopping (0 = never).
    scaler : "minmax", "standard" or "quantile", fitted on normal training rows.
    threshold_rule : see :mod:`core.thresholds`; "auto" is max F1 on labelled
        validation rows, else the 99th percentile of normal training errors.
    score : "combined" adds three parts that each average 1 on normal training
        rows: each cell's error divided by that column's mean error on normal
        training rows, averaged over the row ("reconstruction"); the Mahalanobis
        distance of the row's code to the normal training codes ("latent"); and the
        mean distance from the code to its 5 nearest normal training codes
        ("neighbours"). A small deviation in a column the network rebuilds precisely
        counts as much as a large one in a noisy column; the code parts catch rows
        the network rebuilds well because they lie on the normal pattern but far out
        along it, or between its clusters. "auto" (the default) keeps whichever
        non-empty subset of the three parts gives the best average precision on
        labelled validation rows (all three without labels, and on ties); the
        choice is ``score_parts_``. "reconstruction" is the row's plain loss and
        "latent" the plain Mahalanobis distance. Measured on six public datasets
        (see the README).
    validation_fraction : share of normal training rows held out for early
        stopping when ``fit`` gets no validation data.
    random_state : seed for weights, dropout and shuffling; same seed, same scores.

    Examples
    --------
    >>> det = AutoencoderDetector(epochs=5).fit(X_train, y_train)  # doctest: +SKIP
    >>> det.predict(X_test)  # doctest: +SKIP
    """

    def __init__(
        self,
        architecture: str = "dense",
        hidden_sizes: Optional[Sequence[int]] = None,
        code_size: Optional[int] = None,
        activation: str = "relu",
        dropout: float = 0.0,
        loss: str = "mse",
        learning_rate: float = 1e-3,
        epochs: int = 100,
        batch_size: Optional[int] = None,
        patience: int = 10,
        scaler: str = "standard",
        threshold_rule: str = "auto",
        score: str = "auto",
        validation_fraction: float = 0.1,
        sparsity: float = 1e-4,
        noise_std: float = 0.1,
        beta: float = 1.0,
        random_state: int = 0,
    ) -> None:
        self.architecture = architecture
        self.hidden_sizes = hidden_sizes
        self.code_size = code_size
        self.activation = activation
        self.dropout = dropout
        self.loss = loss
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.patience = patience
        self.scaler = scaler
        self.threshold_rule = threshold_rule
        self.score = score
        self.validation_fraction = validation_fraction
        self.sparsity = sparsity
        self.noise_std = noise_std
        self.beta = beta
        self.random_state = random_state

    # -- parameters -----------------------------------------------------------------------
    PARAM_NAMES = (
        "architecture", "hidden_sizes", "code_size", "activation", "dropout", "loss", "learning_rate", "epochs",
        "batch_size", "patience", "scaler", "threshold_rule", "score", "validation_fraction", "sparsity", "noise_std", "beta", "random_state",
    )

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.PARAM_NAMES}

    def set_params(self, **params: Any) -> "AutoencoderDetector":
        for name, value in params.items():
            if name not in self.PARAM_NAMES:
                raise ValueError(f"unknown parameter {name!r}")
            setattr(self, name, value)
        return self

    def _validate_params(self) -> None:
        checks = [
            (self.architecture in ARCHITECTURES, f"architecture must be one of {', '.join(ARCHITECTURES)}, got {self.architecture!r}"),
            (self.sparsity >= 0, f"sparsity must be 0 or more, got {self.sparsity}"),
            (self.noise_std >= 0, f"noise_std must be 0 or more, got {self.noise_std}"),
            (self.beta >= 0, f"beta must be 0 or more, got {self.beta}"),
            (self.loss in LOSSES, f"loss must be one of {', '.join(LOSSES)}, got {self.loss!r}"),
            (self.scaler in SCALERS, f"scaler must be one of {', '.join(SCALERS)}, got {self.scaler!r}"),
            (self.activation in ACTIVATIONS, f"activation must be one of {', '.join(ACTIVATIONS)}, got {self.activation!r}"),
            (self.score in SCORES, f"score must be one of {', '.join(SCORES)}, got {self.score!r}"),
            (0 <= self.dropout < 1, f"dropout must be in [0, 1), got {self.dropout}"),
            (self.learning_rate > 0, f"learning_rate must be positive, got {self.learning_rate}"),
            (int(self.epochs) >= 1, f"epochs must be at least 1, got {self.epochs}"),
            (self.batch_size is None or int(self.batch_size) >= 1, f"batch_size must be at least 1, got {self.batch_size}"),
            (int(self.patience) >= 0, f"patience must be 0 or more, got {self.patience}"),
            (0 < self.validation_fraction < 0.5, f"validation_fraction must be in (0, 0.5), got {self.validation_fraction}"),
            (self.code_size is None or int(self.code_size) >= 1, f"code_size must be at least 1, got {self.code_size}"),
            (self.hidden_sizes is None or all(int(h) >= 1 for h in self.hidden_sizes), f"hidden sizes must be positive, got {self.hidden_sizes}"),
        ]
        for ok, message in checks:
            if not ok:
                raise DataError(message[0].upper() + message[1:] + ".")

    def resolved_architecture(self, n_inputs: int) -> tuple[tuple[int, ...], int]:
        """Hidden sizes and code size actually used for ``n_inputs`` network columns."""
        hidden, code = default_architecture(n_inputs)
        if self.hidden_sizes is not None:
            hidden = tuple(int(h) for h in self.hidden_sizes)
        if self.code_size is not None:
            code = int(self.code_size)
        return hidden, code

    # -- fitting --------------------------------------------------------------------------
    def fit(
        self,
        X: Any,
        y: Optional[np.ndarray] = None,
        *,
        validation_data: Optional[tuple[Any, Optional[np.ndarray]]] = None,
        hooks: Optional[list[ProgressHook]] = None,
        stop: Optional[StopFlag] = None,
    ) -> "AutoencoderDetector":
        """Train on the normal rows of ``X`` (``y == 0``; all rows when ``y`` is None).

        ``validation_data=(X_val, y_val)`` drives early stopping (its normal rows)
        and any label-using threshold rule; without it a share of the normal
        training rows is held out for early stopping.
        """
        self.begin_fit(X, y, validation_data=validation_data)
        self.trainer_.run(hooks=hooks, stop=stop)
        return self.end_fit()

    def begin_fit(self, X: Any, y: Optional[np.ndarray] = None, *, validation_data=None) -> "AutoencoderDetector":
        """Prepare data and network; then call ``trainer_.run`` (any number of times) and :meth:`end_fit`."""
        self._validate_params()
        frame = _as_frame(X)
        normal = np.ones(len(frame), bool) if y is None else (np.asarray(y) == 0)
        if normal.sum() < 2:
            raise DataError("There are fewer than 2 normal rows to train on. Check the normal class.")
        train_frame = frame.loc[normal] if isinstance(X, pd.DataFrame) else frame[normal]
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        self.n_features_in_ = frame.shape[1]
        self.preprocessor_ = Preprocessor(scaler=self.scaler).fit(train_frame, list(frame.columns))
        x_all = self.preprocessor_.transform(train_frame)
        if validation_data is not None:
            val_frame = _as_frame(validation_data[0])
            val_y = validation_data[1]
            val_normal = np.ones(len(val_frame), bool) if val_y is None else (np.asarray(val_y) == 0)
            x_train, x_val = x_all, self.preprocessor_.transform(val_frame)[val_normal]
            self._validation = (val_frame, None if val_y is None else np.asarray(val_y))
        else:
            rng = np.random.default_rng(self.random_state)
            order = rng.permutation(len(x_all))
            n_val = max(1, int(round(self.validation_fraction * len(x_all)))) if len(x_all) >= 10 else 0
            x_val, x_train = x_all[np.sort(order[:n_val])], x_all[np.sort(order[n_val:])]
            self._validation = None
        self._x_fit = x_all
        hidden, code = self.resolved_architecture(x_all.shape[1])
        if self.architecture in SEQUENCE_ARCHITECTURES:
            why = sequence_problem(self.preprocessor_)
            if why:
                raise DataError(f"The {self.architecture} autoencoder reads a row as a signal, but {why}. Choose the dense architecture for this table.")
        self.model_ = build_autoencoder(
            x_all.shape[1],
            architecture=self.architecture,
            sparsity=float(self.sparsity),
            noise_std=float(self.noise_std),
            beta=float(self.beta),
            hidden_sizes=hidden,
            code_size=code,
            activation=self.activation,
            dropout=float(self.dropout),
            output_activation="linear" if self.scaler == "standard" else "sigmoid",
            seed=int(self.random_state),
        )
        self.model_.compile(
            optimizer=keras.optimizers.Adam(learning_rate=float(self.learning_rate)),
            loss=keras_loss(self.loss),
            steps_per_execution=8,
        )
        batch = int(self.batch_size) if self.batch_size else default_batch_size(len(x_train))
        self.trainer_ = Trainer(
            self.model_, x_train, x_val,
            epochs=int(self.epochs), batch_size=batch, patience=int(self.patience), seed=int(self.random_state),
        )
        self._t_start = time.perf_counter()
        return self

    def end_fit(self) -> "AutoencoderDetector":
        """Restore the best weights, fit the score's statistics and choose the threshold."""
        state = self.trainer_.state
        if state.epochs_done == 0:
            raise DataError("Training stopped before the first epoch finished, so there is no model. Train again.")
        self.trainer_.restore_best()
        self.history_ = state.history()
        self.epochs_run_ = state.epochs_done
        self.best_epoch_ = state.best_epoch
        self.best_val_loss_ = state.best_val_loss
        self.stopped_by_user_ = state.stopped_by_user
        self.fit_seconds_ = state.seconds
        self.encoder_ = encoder_of(self.model_)
        recon, codes = self._network_outputs(self._x_fit)
        cells = elementwise_loss(self.loss, self._x_fit, recon)
        self._fit_score_stats(cells, codes)
        validation = self._labelled_validation_outputs()
        self.score_parts_ = self._select_score_parts(validation)
        self.decision_scores_ = self._combine(cells, codes, neighbour=self._fit_neighbour_distance)
        del self._fit_neighbour_distance
        self._choose_threshold(validation)
        del self._x_fit
        return self

    def _fit_score_stats(self, cells: np.ndarray, codes: np.ndarray) -> None:
        mean = codes.mean(axis=0)
        cov = np.atleast_2d(np.cov(codes, rowvar=False))
        cov = (1 - LATENT_RIDGE) * cov + LATENT_RIDGE * np.diag(np.diag(cov)) + 1e-12 * np.eye(len(mean))
        self.latent_mean_ = mean
        self.latent_precision_ = np.linalg.pinv(cov)
        self.cell_error_scale_ = np.maximum(cells.mean(axis=0), 1e-12)
        latent = self._latent_distance(codes)
        self.latent_scale_ = float(latent.mean()) or 1.0
        rng = np.random.default_rng(self.random_state)
        keep = np.arange(len(codes)) if len(codes) <= MAX_REFERENCE_CODES else np.sort(rng.choice(len(codes), MAX_REFERENCE_CODES, replace=False))
        self.reference_codes_ = codes[keep].astype(np.float32)
        self._neighbours = None
        self._fit_neighbour_distance = self._training_neighbour_distance(codes, keep)
        self.neighbour_scale_ = float(self._fit_neighbour_distance.mean()) or 1.0

    def _labelled_validation_outputs(self) -> Optional[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Cell errors, codes and labels of the validation rows (one network pass), when they are labelled."""
        if self._validation is None or self._validation[1] is None:
            return None
        x = self.transform_features(self._validation[0])
        recon, codes = self._network_outputs(x)
        return elementwise_loss(self.loss, x, recon), codes, self._validation[1]

    def _select_score_parts(self, validation) -> tuple[str, ...]:
        """Which parts the score adds: for "auto", the subset with the best validation average precision."""
        self.score_selection_ = {}
        if self.score != "auto":
            return SCORE_PARTS if self.score == "combined" else (self.score,)
        if validation is None or len(np.unique(validation[2])) < 2:
            return SCORE_PARTS
        from sklearn.metrics import average_precision_score

        cells, codes, y = validation
        scaled = self._parts_from(cells, codes, SCORE_PARTS)
        best = None
        for subset in PART_SUBSETS:
            ap = float(average_precision_score(y, sum(scaled[p] for p in subset)))
            self.score_selection_["+".join(subset)] = ap
            if best is None or ap > best[0]:
                best = (ap, subset)
        return best[1]

    def _parts_from(self, cells: np.ndarray, codes: np.ndarray, parts: Sequence[str], neighbour: Optional[np.ndarray] = None) -> dict[str, np.ndarray]:
        out = {}
        if "reconstruction" in parts:
            out["reconstruction"] = (cells / self.cell_error_scale_).mean(axis=1)
        if "latent" in parts:
            out["latent"] = self._latent_distance(codes) / self.latent_scale_
        if "neighbours" in parts:
            out["neighbours"] = (self._neighbour_distance(codes) if neighbour is None else neighbour) / self.neighbour_scale_
        return out

    def _neighbour_index(self) -> NearestNeighbors:
        if getattr(self, "_neighbours", None) is None:
            self._neighbours = NearestNeighbors(n_neighbors=min(CODE_NEIGHBOURS, len(self.reference_codes_))).fit(self.reference_codes_)
        return self._neighbours

    def _neighbour_distance(self, codes: np.ndarray) -> np.ndarray:
        """Mean distance from each code to its nearest normal training codes."""
        if len(codes) == 0:
            return np.empty(0)
        distances, _ = self._neighbour_index().kneighbors(codes.astype(np.float32))
        return distances.mean(axis=1)

    def _training_neighbour_distance(self, codes: np.ndarray, in_reference: np.ndarray) -> np.ndarray:
        """As :meth:`_neighbour_distance`, but a training row kept as a neighbour does not count itself."""
        k = min(CODE_NEIGHBOURS, max(len(self.reference_codes_) - 1, 1))
        index = NearestNeighbors(n_neighbors=min(k + 1, len(self.reference_codes_))).fit(self.reference_codes_)
        distances, _ = index.kneighbors(codes.astype(np.float32))
        is_reference = np.zeros(len(codes), bool)
        is_reference[in_reference] = True
        own_dropped = distances[:, 1:k + 1] if distances.shape[1] > 1 else distances
        return np.where(is_reference, own_dropped.mean(axis=1), distances[:, :k].mean(axis=1))

    def _choose_threshold(self, validation) -> Threshold:
        val_scores = val_y = None
        if validation is not None:
            cells, codes, val_y = validation
            val_scores = self._combine(cells, codes)
        chosen = choose_threshold(self.threshold_rule, self.decision_scores_, val_scores, val_y)
        self.set_threshold(chosen)
        return chosen

    def set_threshold(self, threshold: Threshold | float, rule: str = "manual", reason: str = "set by hand") -> None:
        """Use another threshold (for example the one a user picked on the slider)."""
        if not isinstance(threshold, Threshold):
            threshold = Threshold(float(threshold), rule, reason)
        self.threshold_ = threshold.value
        self.threshold_rule_ = threshold.rule
        self.threshold_reason_ = threshold.reason

    # -- scoring --------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "encoder_"):
            raise NotFittedError(f"This {type(self).__name__} is not fitted yet. Call 'fit' first.")

    def transform_features(self, X: Any) -> np.ndarray:
        """Rows in the network's input space (scaled, imputed, one-hot)."""
        self._check_fitted()
        return self.preprocessor_.transform(_as_frame(X))

    def _network_outputs(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if len(x) == 0:
            return np.empty_like(x), np.empty((0, self.model_.get_layer("code").units), np.float32)
        if getattr(self, "_outputs_model", None) is None:
            self._outputs_model = keras.Model(self.model_.input, [self.model_.output, self.model_.get_layer("code").output])
        if len(x) <= SMALL_BATCH:
            # A direct call skips predict's per-call set-up (tens of ms), which dominates for a few rows.
            recon, codes = self._outputs_model(x, training=False)
        else:
            recon, codes = self._outputs_model.predict(x, batch_size=PREDICT_BATCH, verbose=0)
        return np.asarray(recon), np.asarray(codes)

    def reconstruct(self, X: Any) -> np.ndarray:
        """The network's output for each row, in network space."""
        return self._network_outputs(self.transform_features(X))[0]

    def encode(self, X: Any) -> np.ndarray:
        """Each row's code (the bottleneck)."""
        return self._network_outputs(self.transform_features(X))[1]

    def _latent_distance(self, codes: np.ndarray) -> np.ndarray:
        d = codes.astype(np.float64) - self.latent_mean_
        return np.einsum("ij,jk,ik->i", d, self.latent_precision_, d)

    def _combine(self, cells: np.ndarray, codes: np.ndarray, neighbour: Optional[np.ndarray] = None) -> np.ndarray:
        if self.score == "reconstruction":
            return cells.mean(axis=1)
        if self.score == "latent":
            return self._latent_distance(codes)
        return sum(self._parts_from(cells, codes, self.score_parts_, neighbour).values())

    def score_parts(self, X: Any) -> dict[str, np.ndarray]:
        """Everything scoring computes, from one pass through the network."""
        x = self.transform_features(X)
        recon, codes = self._network_outputs(x)
        cells = elementwise_loss(self.loss, x, recon)
        error = cells.mean(axis=1)
        return {"x": x, "reconstruction": recon, "codes": codes, "cell_error": cells, "reconstruction_error": error, "score": self._combine(cells, codes)}

    def reconstruction_error(self, X: Any) -> np.ndarray:
        """Each row's reconstruction loss (the training loss, per row)."""
        x = self.transform_features(X)
        return elementwise_loss(self.loss, x, self._network_outputs(x)[0]).mean(axis=1)

    def decision_function(self, X: Any) -> np.ndarray:
        """Anomaly score per row; higher is more abnormal."""
        return self.score_parts(X)["score"]

    def predict(self, X: Any) -> np.ndarray:
        """1 for rows scored above ``threshold_`` (anomalies), else 0."""
        return (self.decision_function(X) > self.threshold_).astype(np.int8)

    def per_feature_error(self, X: Any) -> pd.DataFrame:
        """Each used feature's share of the row's reconstruction error (rows sum to it)."""
        parts = self.score_parts(X)
        return self.split_by_feature(parts["cell_error"])

    def split_by_feature(self, cell_error: np.ndarray) -> pd.DataFrame:
        n_cols = cell_error.shape[1]
        data = {name: cell_error[:, cols].sum(axis=1) / n_cols for name, cols in self.preprocessor_.groups}
        return pd.DataFrame(data)

    def score_description(self) -> str:
        """One sentence on what the anomaly score adds up, and why (for the UI and reports)."""
        self._check_fitted()
        if self.score == "reconstruction":
            return "Anomaly score: the row's reconstruction loss."
        if self.score == "latent":
            return "Anomaly score: the Mahalanobis distance of the row's code to the normal training codes."
        names = {"reconstruction": "reconstruction error per column", "latent": "code distance (Mahalanobis)", "neighbours": "distance to the 5 nearest normal codes"}
        parts = " + ".join(names[p] for p in self.score_parts_)
        if not self.score_selection_:
            return f"Anomaly score: {parts}, each scaled to average 1 on normal training rows."
        chosen = self.score_selection_["+".join(self.score_parts_)]
        every = self.score_selection_["+".join(SCORE_PARTS)]
        why = "the best" if tuple(self.score_parts_) == SCORE_PARTS else f"against {every:.3f} with all three parts"
        return (f"Anomaly score: {parts}, each scaled to average 1 on normal training rows; chosen on the validation rows "
                f"(average precision {chosen:.3f}, {why}).")

    @property
    def n_parameters_(self) -> int:
        self._check_fitted()
        return int(self.model_.count_params())

    # -- persistence (JSON-able state; the Keras model is saved beside it) ----------------------
    def get_state(self) -> dict[str, Any]:
        """Everything but the network, as JSON-able values (used by :mod:`core.bundle`)."""
        self._check_fitted()
        scores = np.sort(self.decision_scores_)
        if len(scores) > MAX_STORED_SCORES:
            scores = np.quantile(scores, np.linspace(0, 1, MAX_STORED_SCORES))
        params = self.get_params()
        params["hidden_sizes"] = list(params["hidden_sizes"]) if params["hidden_sizes"] is not None else None
        return {
            "params": params,
            "preprocessor": self.preprocessor_.to_dict(),
            "feature_names_in": [str(f) for f in self.feature_names_in_],
            "history": self.history_,
            "epochs_run": self.epochs_run_,
            "best_epoch": self.best_epoch_,
            "best_val_loss": self.best_val_loss_,
            "stopped_by_user": self.stopped_by_user_,
            "fit_seconds": self.fit_seconds_,
            "threshold": {"value": self.threshold_, "rule": self.threshold_rule_, "reason": self.threshold_reason_},
            "score_parts": list(self.score_parts_),
            "score_selection": self.score_selection_,
            "score_stats": {
                "latent_mean": self.latent_mean_.tolist(),
                "latent_precision": self.latent_precision_.tolist(),
                "cell_error_scale": self.cell_error_scale_.tolist(),
                "latent_scale": self.latent_scale_,
                "reference_codes": _encode_array(self.reference_codes_),
                "neighbour_scale": self.neighbour_scale_,
            },
            "train_scores": scores.tolist(),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], model: keras.Model) -> "AutoencoderDetector":
        det = cls(**state["params"])
        det.preprocessor_ = Preprocessor.from_dict(state["preprocessor"])
        n_inputs = len(det.preprocessor_.output_names)
        if tuple(model.input_shape[1:]) != (n_inputs,) or tuple(model.output_shape[1:]) != (n_inputs,):
            raise ValueError(f"the model takes {model.input_shape[1:]} but the preprocessing makes {n_inputs} columns")
        det.model_ = model
        det.encoder_ = encoder_of(model)
        det.feature_names_in_ = np.asarray(state["feature_names_in"], dtype=object)
        det.n_features_in_ = len(det.feature_names_in_)
        det.history_ = {k: list(map(float, v)) for k, v in state["history"].items()}
        det.epochs_run_ = int(state["epochs_run"])
        det.best_epoch_ = int(state["best_epoch"])
        det.best_val_loss_ = float(state["best_val_loss"])
        det.stopped_by_user_ = bool(state["stopped_by_user"])
        det.fit_seconds_ = float(state["fit_seconds"])
        stats = state["score_stats"]
        det.latent_mean_ = np.asarray(stats["latent_mean"], dtype=np.float64)
        det.latent_precision_ = np.asarray(stats["latent_precision"], dtype=np.float64)
        det.cell_error_scale_ = np.asarray(stats["cell_error_scale"], dtype=np.float64)
        det.latent_scale_ = float(stats["latent_scale"])
        det._neighbours = None
        if "reference_codes" in stats:
            det.reference_codes_ = _decode_array(stats["reference_codes"])
            det.neighbour_scale_ = float(stats["neighbour_scale"])
        # bundles saved before the neighbour part existed scored reconstruction + latent
        det.score_parts_ = tuple(state.get("score_parts", SCORE_PARTS if "reference_codes" in stats else ("reconstruction", "latent")))
        det.score_selection_ = {str(k): float(v) for k, v in state.get("score_selection", {}).items()}
        det.decision_scores_ = np.asarray(state["train_scores"], dtype=np.float64)
        t = state["threshold"]
        det.set_threshold(Threshold(float(t["value"]), str(t["rule"]), str(t["reason"])))
        return det
