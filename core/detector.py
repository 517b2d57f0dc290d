"""The autoencoder anomaly detector, with the scikit-learn / PyOD contract.

``fit`` learns preprocessing and the network from normal rows and returns
``self``; ``reconstruction_error`` is the domain quantity; ``decision_function``
(higher = more abnormal) and ``predict`` (1 = anomaly) come from
:class:`core.base.BaseDetector`. This class adds only the network, its training
and its score parts (whose statistics live in :mod:`core.score_stats`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Optional, Sequence

import numpy as np
import pandas as pd

from core.architectures import ARCHITECTURES, SEQUENCE_ARCHITECTURES, default_architecture
from core.base import BaseDetector, as_frame, normal_mask
from core.data import name_list
from core.dense_forward import CODE_LAYER, DenseForward
from core.errors import DataError
from core.losses import LOSSES, UNIT_LOSSES, elementwise_loss, keras_loss
from core.preprocess import LINEAR_SCALERS, SCALERS, Preprocessor
from core.score_stats import RECONSTRUCTION_PARTS, ScoreStats

if TYPE_CHECKING:  # Keras and the trainer load only when a network is built or trained
    import keras

    from core.training import ProgressHook, StopFlag

log = logging.getLogger(__name__)

ACTIVATIONS = ("relu", "tanh", "elu", "selu", "gelu", "sigmoid")
SCORES = ("auto", "combined", "reconstruction", "latent")
LR_SCHEDULES = ("constant", "cosine")
PREDICT_BATCH = 8192
SMALL_BATCH = 1024
MIN_SEQUENCE_LENGTH = 16
_as_frame = as_frame  # older name, kept for importers


def sequence_problem(preprocessor: Preprocessor) -> Optional[str]:
    """Why the features cannot be read as one signal, or None when they can.

    A signal is many numeric columns on one scale (a heartbeat's samples): at least
    16, no text columns, and spreads within a factor of 10 of each other.
    """
    if preprocessor.categorical:
        return f"it has text feature(s) ({name_list(preprocessor.categorical, 5)})"
    numeric = preprocessor.numeric
    if len(numeric) < MIN_SEQUENCE_LENGTH:
        return f"it has {len(numeric)} feature(s), fewer than {MIN_SEQUENCE_LENGTH}"
    spreads = np.array([c.knots[-1] - c.knots[0] if c.kind == "quantile" else float(np.ptp(c.inverse(np.array([-1.0, 1.0]))))
                        if c.kind == "yeo-johnson" else c.b for c in numeric])
    if spreads.max() > 10 * spreads.min():
        return "its columns are on different scales (their spreads differ more than tenfold)"
    return None


def _largest_magnitude(frame: pd.DataFrame) -> float:
    """The largest absolute number in the table (named when training overflows)."""
    numbers = frame.select_dtypes("number").to_numpy(dtype=np.float64, na_value=np.nan)
    with np.errstate(all="ignore"):
        return float(np.nanmax(np.abs(numbers))) if numbers.size and not np.isnan(numbers).all() else 0.0


def default_batch_size(n_rows: int) -> int:
    """About 30 steps an epoch, between 32 and 512 rows a batch."""
    return int(min(512, max(32, 2 ** round(np.log2(max(n_rows, 1) / 30)))))


class AutoencoderDetector(BaseDetector):
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
    weight_decay : decoupled weight decay (AdamW) per step; 0 trains with plain Adam.
    lr_schedule : "constant" keeps ``learning_rate``; "cosine" decays it to 0 along a
        cosine over ``epochs`` epochs (so early stopping usually ends before the end).
    min_delta : an epoch counts as better only if it lowers the best validation loss
        by more than this share of it (relative, so it means the same on any scale).
    scaler : "minmax", "standard", "quantile", "yeo-johnson" or "power" (Yeo-Johnson on
        skewed columns only), fitted on normal training rows (see :class:`core.preprocess.Preprocessor`).
    threshold_rule : see :mod:`core.thresholds`; "auto" is max F1 on labelled
        validation rows, else the 99th percentile of normal training errors.
    score : "combined" adds four parts that each average 1 on normal training
        rows: each cell's error divided by that column's mean error on normal
        training rows, averaged over the row ("reconstruction"); the Mahalanobis
        distance of the row's code to the normal training codes ("latent"); the
        mean distance from the code to its 5 nearest normal training codes
        ("neighbours"); and how far into its own column's tails each value lies among
        the normal training values, averaged over the columns ("tails", read from the
        row, not the network). A small deviation in a column the network rebuilds precisely
        counts as much as a large one in a noisy column; the code parts catch rows
        the network rebuilds well because they lie on the normal pattern but far out
        along it, or between its clusters; the tails part catches single values far out
        in a skewed column that the network rebuilds by extrapolating. "auto" (the default) keeps whichever
        non-empty subset of the four parts gives the best average precision on
        labelled validation rows (all four without labels, and on ties); the
        choice is ``score_parts_``. "reconstruction" is the row's plain loss and
        "latent" the plain Mahalanobis distance. Measured on six public datasets
        (see the README).
    reconstruction_part : how the combined score's reconstruction part reads a row's cell
        errors: "mean" (as above) or "tail", the mean over columns of −log of each error's
        survival among that column's normal training errors (ECOD's idea applied to the
        errors; the sorted errors of up to 5000 training rows are kept, in bundles too).
        Measured beside "mean" in the README's quality section.
    validation_fraction : share of normal training rows held out for early
        stopping when ``fit`` gets no validation data.
    random_state : seed for weights, dropout and shuffling; same seed, same scores.

    Attributes
    ----------
    Those of :class:`core.base.BaseDetector`, and ``model_`` (the Keras network; a loaded
    bundle reads it, importing Keras, only when first asked for), ``encoder_``, ``code_size_``,
    ``n_parameters_``, ``score_stats_`` (:class:`core.score_stats.ScoreStats`),
    ``score_parts_``, ``score_selection_``, ``history_``, ``epochs_run_``,
    ``best_epoch_``, ``best_val_loss_``, ``stopped_by_user_``, ``early_stopped_``.
    A row is an anomaly (``predict`` 1) when ``decision_function`` exceeds ``threshold_``.

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
        min_delta: float = 0.0,
        weight_decay: float = 0.0,
        lr_schedule: str = "constant",
        scaler: str = "standard",
        threshold_rule: str = "auto",
        score: str = "auto",
        reconstruction_part: str = "mean",
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
        self.min_delta = min_delta
        self.weight_decay = weight_decay
        self.lr_schedule = lr_schedule
        self.scaler = scaler
        self.threshold_rule = threshold_rule
        self.score = score
        self.reconstruction_part = reconstruction_part
        self.validation_fraction = validation_fraction
        self.sparsity = sparsity
        self.noise_std = noise_std
        self.beta = beta
        self.random_state = random_state

    _fitted_attribute = "score_stats_"

    def _check_params(self) -> None:
        checks = [
            (self.architecture in ARCHITECTURES, f"architecture must be one of {', '.join(ARCHITECTURES)}, got {self.architecture!r}"),
            (self.sparsity >= 0, f"sparsity must be 0 or more, got {self.sparsity}"),
            (self.noise_std >= 0, f"noise_std must be 0 or more, got {self.noise_std}"),
            (self.beta >= 0, f"beta must be 0 or more, got {self.beta}"),
            (self.loss in LOSSES, f"loss must be one of {', '.join(LOSSES)}, got {self.loss!r}"),
            (self.scaler in SCALERS, f"scaler must be one of {', '.join(SCALERS)}, got {self.scaler!r}"),
            (self.loss not in UNIT_LOSSES or self.scaler not in LINEAR_SCALERS,
             f"The {self.loss} loss reads values between 0 and 1, and the {self.scaler} scaler gives values outside them (its loss "
             "can go below 0 and its scores mean nothing): choose the minmax or quantile scaler, or another loss"),
            (self.activation in ACTIVATIONS, f"activation must be one of {', '.join(ACTIVATIONS)}, got {self.activation!r}"),
            (self.reconstruction_part in RECONSTRUCTION_PARTS,
             f"reconstruction_part must be one of {', '.join(RECONSTRUCTION_PARTS)}, got {self.reconstruction_part!r}"),
            (self.score in SCORES, f"score must be one of {', '.join(SCORES)}, got {self.score!r}"),
            (0 <= self.dropout < 1, f"dropout must be in [0, 1), got {self.dropout}"),
            (self.learning_rate > 0, f"learning_rate must be positive, got {self.learning_rate}"),
            (int(self.epochs) >= 1, f"epochs must be at least 1, got {self.epochs}"),
            (self.batch_size is None or int(self.batch_size) >= 1, f"batch_size must be at least 1, got {self.batch_size}"),
            (int(self.patience) >= 0, f"patience must be 0 or more, got {self.patience}"),
            (self.lr_schedule in LR_SCHEDULES, f"lr_schedule must be one of {', '.join(LR_SCHEDULES)}, got {self.lr_schedule!r}"),
            (self.weight_decay >= 0, f"weight_decay must be 0 or more, got {self.weight_decay}"),
            (0 <= self.min_delta < 1, f"min_delta must be in [0, 1), got {self.min_delta}"),
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
        import keras

        from core.network import build_autoencoder
        from core.training import Trainer

        self._check_params()
        for name in ("score_stats_", "_encoder"):  # a refit starts unfitted
            self.__dict__.pop(name, None)
        train = self._intake(X, y)
        x_all = self.preprocessor_.transform(train)
        if validation_data is not None:
            val_frame = as_frame(validation_data[0])
            val_y = validation_data[1]
            x_train, x_val = x_all, self.preprocessor_.transform(val_frame)[normal_mask(len(val_frame), val_y)]
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
            output_activation="linear" if self.scaler in LINEAR_SCALERS else "sigmoid",
            seed=int(self.random_state),
        )
        batch = int(self.batch_size) if self.batch_size else default_batch_size(len(x_train))
        rate: Any = float(self.learning_rate)
        if self.lr_schedule == "cosine":
            steps = int(self.epochs) * max(1, -(-len(x_train) // batch))
            rate = keras.optimizers.schedules.CosineDecay(rate, decay_steps=steps)
        self.model_.compile(
            optimizer=(keras.optimizers.AdamW(learning_rate=rate, weight_decay=float(self.weight_decay))
                       if self.weight_decay else keras.optimizers.Adam(learning_rate=rate)),
            loss=keras_loss(self.loss),
            steps_per_execution=8,
        )
        self._outputs_model = None
        self.trainer_ = Trainer(
            self.model_, x_train, x_val,
            epochs=int(self.epochs), batch_size=batch, patience=int(self.patience), seed=int(self.random_state),
            min_delta=float(self.min_delta), largest_value=_largest_magnitude(train),
        )
        return self

    def end_fit(self) -> "AutoencoderDetector":
        """Restore the best weights, fit the score's statistics and choose the threshold."""
        state = self.trainer_.state
        if state.failure is not None:
            raise DataError(state.failure)
        if state.epochs_done == 0:
            raise DataError("Training stopped before the first epoch finished, so there is no model. Train again.")
        self.trainer_.restore_best()
        self.__dict__.pop("_forward", None)  # the weights changed: the NumPy forward is read again from them
        self.history_ = state.history()
        self.epochs_run_ = state.epochs_done
        self.best_epoch_ = state.best_epoch
        self.best_val_loss_ = state.best_val_loss
        self.stopped_by_user_ = state.stopped_by_user
        self.early_stopped_ = state.early_stopped
        self.fit_seconds_ = state.seconds
        self.__dict__.pop("_encoder", None)
        recon, codes = self._network_outputs(self._x_fit)
        cells = elementwise_loss(self.loss, self._x_fit, recon)
        stats, own_neighbours = ScoreStats.fit(cells, codes, seed=int(self.random_state), reconstruction=self.reconstruction_part, values=self._x_fit)
        validation = self._labelled_validation_outputs()
        if self.score in ("reconstruction", "latent"):
            stats.parts = (self.score,)
        elif self.score == "auto" and validation is not None:
            stats.select(*validation)
        self.score_stats_ = stats
        self.decision_scores_ = self._combine(cells, codes, neighbour=own_neighbours, values=self._x_fit)
        val_scores = val_y = None
        if validation is not None:
            val_scores, val_y = self._combine(validation[0], validation[1], values=validation[3]), validation[2]
        self._fit_threshold(val_scores, val_y)
        del self._x_fit
        return self

    def _labelled_validation_outputs(self) -> Optional[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """Cell errors, codes, labels and network inputs of the validation rows (one network pass), when they are labelled."""
        if self._validation is None or self._validation[1] is None:
            return None
        x = self.preprocessor_.transform(self._validation[0])
        recon, codes = self._network_outputs(x)
        return elementwise_loss(self.loss, x, recon), codes, self._validation[1], x

    # -- score parts ----------------------------------------------------------------------
    @property
    def score_parts_(self) -> tuple[str, ...]:
        """The parts the combined score adds (see :mod:`core.score_stats`)."""
        self._check_fitted()
        return tuple(self.score_stats_.parts)

    @property
    def score_selection_(self) -> dict[str, float]:
        """Validation average precision of each subset of parts tried by ``score="auto"`` (empty when none was)."""
        self._check_fitted()
        return self.score_stats_.selection

    # -- the network: Keras for training, NumPy for scoring the dense family --------------------
    @property
    def model_(self) -> "keras.Model":
        """The Keras network. A detector loaded from a bundle reads it (importing Keras) on first use only."""
        model = self.__dict__.get("_model")
        if model is None:
            archive = self.__dict__.get("_keras_archive")
            if archive is None:
                raise AttributeError(f"This {type(self).__name__} has no network yet; call 'fit' first.")
            from core.bundle import load_keras_model

            model = self.__dict__["_model"] = load_keras_model(archive)
        return model

    @model_.setter
    def model_(self, model: "keras.Model") -> None:
        self.__dict__["_model"] = model
        for name in ("_keras_archive", "_forward", "_encoder"):
            self.__dict__.pop(name, None)
        self._outputs_model = None

    def use_keras_archive(self, archive: bytes, forward: Optional[DenseForward]) -> None:
        """Take the network as a ``.keras`` file's bytes and, for the dense family, its NumPy forward:
        scoring then never imports Keras, and ``model_`` is read from the bytes when something needs it."""
        for name in ("_model", "_forward", "_encoder"):
            self.__dict__.pop(name, None)
        self.__dict__["_keras_archive"] = bytes(archive)
        if forward is not None:
            self.__dict__["_forward"] = forward
        self._outputs_model = None

    def keras_archive(self) -> Optional[bytes]:
        """The ``.keras`` bytes this detector was loaded from (None once it holds a network it built or retrained)."""
        return self.__dict__.get("_keras_archive")

    @property
    def encoder_(self) -> "keras.Model":
        """The encoder half (input to code) as a Keras model, built on first use."""
        encoder = self.__dict__.get("_encoder")
        if encoder is None:
            from core.network import encoder_of

            encoder = self.__dict__["_encoder"] = encoder_of(self.model_)
        return encoder

    def dense_forward(self) -> Optional[DenseForward]:
        """The network's inference in NumPy for the dense family (None for conv1d and LSTM).

        Fit statistics, thresholds and every later score come from it, so the app, the command
        line, the HTTP service and Spark give the same numbers, with or without Keras loaded.
        """
        if self.architecture in SEQUENCE_ARCHITECTURES:
            return None
        if "_forward" not in self.__dict__:
            self.__dict__["_forward"] = DenseForward.from_model(self.model_)
        return self.__dict__["_forward"]

    @property
    def code_size_(self) -> int:
        """Width of the fitted code (the bottleneck)."""
        forward = self.dense_forward()
        return forward.code_size if forward is not None else int(self.model_.get_layer(CODE_LAYER).units)

    def _network_outputs(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        forward = self.dense_forward()
        if forward is not None:
            return forward(x)
        import keras

        if len(x) == 0:
            return np.empty_like(x), np.empty((0, self.model_.get_layer(CODE_LAYER).units), np.float32)
        if getattr(self, "_outputs_model", None) is None:
            self._outputs_model = keras.Model(self.model_.input, [self.model_.output, self.model_.get_layer(CODE_LAYER).output])
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

    def _combine(self, cells: np.ndarray, codes: np.ndarray, neighbour: Optional[np.ndarray] = None,
                 values: Optional[np.ndarray] = None, tails: Optional[np.ndarray] = None) -> np.ndarray:
        if self.score == "reconstruction":
            return cells.mean(axis=1)
        if self.score == "latent":
            return self.score_stats_.latent_distance(codes)
        return self.score_stats_.combine(cells, codes, neighbour, values, tails)

    def score_parts(self, X: Any) -> dict[str, np.ndarray]:
        """Everything scoring computes, from one pass through the network."""
        x = self.transform_features(X)
        recon, codes = self._network_outputs(x)
        cells = elementwise_loss(self.loss, x, recon)
        error = cells.mean(axis=1)
        return {"x": x, "reconstruction": recon, "codes": codes, "cell_error": cells, "reconstruction_error": error, "score": self._combine(cells, codes, values=x)}

    def _score(self, x: np.ndarray, tails: Optional[np.ndarray] = None) -> np.ndarray:
        """``tails``: the unscaled tails part of ``x`` where the caller already has it (an ensemble computes it once)."""
        recon, codes = self._network_outputs(x)
        return self._combine(elementwise_loss(self.loss, x, recon), codes, values=x, tails=tails)

    def reconstruction_error(self, X: Any) -> np.ndarray:
        """Each row's reconstruction loss (the training loss, per row)."""
        x = self.transform_features(X)
        return elementwise_loss(self.loss, x, self._network_outputs(x)[0]).mean(axis=1)

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
        names = {"reconstruction": "reconstruction error per column", "latent": "code distance (Mahalanobis)",
                 "neighbours": "distance to the 5 nearest normal codes", "tails": "how far into its own column's tails each value lies"}
        parts = " + ".join(names[p] for p in self.score_parts_)
        if not self.score_selection_:
            return f"Anomaly score: {parts}, each scaled to average 1 on normal training rows."
        every_key = max(self.score_selection_, key=lambda key: len(key.split("+")))  # all the parts that were tried
        chosen, every = self.score_selection_["+".join(self.score_parts_)], self.score_selection_[every_key]
        n_every = len(every_key.split("+"))
        why = "the best" if "+".join(self.score_parts_) == every_key else f"against {every:.3f} with all {n_every} parts"
        text = (f"Anomaly score: {parts}, each scaled to average 1 on normal training rows; chosen on the validation rows "
                f"(average precision {chosen:.3f}, {why}).")
        if tuple(self.score_parts_) == ("tails",):
            text += (" The network's own parts did not help on these validation rows: the score reads each value against its "
                     "column's normal values alone, so compare it with ECOD on the Compare page.")
        return text

    @property
    def n_parameters_(self) -> int:
        self._check_fitted()
        forward = self.dense_forward()
        return forward.n_parameters if forward is not None else int(self.model_.count_params())

    # -- persistence lives in core.autoencoder_state; these two remain for older callers ---------
    def get_state(self) -> dict[str, Any]:
        """Everything but the network, as JSON-able values (see :mod:`core.autoencoder_state`)."""
        from core.autoencoder_state import autoencoder_state

        return autoencoder_state(self)

    @classmethod
    def from_state(cls, state: dict[str, Any], model: "keras.Model") -> "AutoencoderDetector":
        from core.autoencoder_state import autoencoder_from_state

        return autoencoder_from_state(state, model)
