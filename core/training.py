"""Training with progress hooks, early stopping and a stop that keeps the best weights.

The UI subscribes to :class:`EpochReport` through a plain callable and can ask
training to stop through :class:`StopFlag` (checked after every batch); either
way the best weights so far are restored. Training can also be resumed after an
interruption, which is how the dashboard stays responsive.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import keras
import numpy as np

from core.errors import DataError

log = logging.getLogger(__name__)

ProgressHook = Callable[["EpochReport"], None]


@dataclass(frozen=True)
class EpochReport:
    """What one finished epoch looked like."""

    epoch: int  # 1-based
    epochs: int
    loss: float
    val_loss: float
    elapsed: float
    best_epoch: int
    best_val_loss: float

    @property
    def remaining(self) -> float:
        """Seconds left if every epoch takes as long as the mean so far (an upper bound with early stopping)."""
        return self.elapsed / self.epoch * (self.epochs - self.epoch)


class StopFlag:
    """Thread-safe request to stop training at the next batch."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()


@dataclass
class TrainingState:
    """Everything training has produced so far; survives interruptions."""

    loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    best_val_loss: float = float("inf")
    best_epoch: int = 0
    best_weights: Optional[list[np.ndarray]] = None
    wait: int = 0
    seconds: float = 0.0
    stopped_by_user: bool = False
    early_stopped: bool = False
    #: Why training failed (a non-finite loss); a failed training cannot be finished or resumed.
    failure: Optional[str] = None

    @property
    def epochs_done(self) -> int:
        return len(self.loss)

    def history(self) -> dict[str, list[float]]:
        return {"loss": list(self.loss), "val_loss": list(self.val_loss)}


class _Monitor(keras.callbacks.Callback):
    """Records losses, keeps the best weights, applies patience and the stop flag."""

    def __init__(self, state: TrainingState, epochs: int, patience: int, stop: StopFlag | None, hooks: list[ProgressHook],
                 min_delta: float = 0.0, largest_input: float = 0.0):
        super().__init__()
        self.state, self.epochs, self.patience, self.stop, self.hooks = state, epochs, patience, stop, hooks
        self.min_delta, self.largest_input = min_delta, largest_input
        self.epoch_variable = None
        self._t0 = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = time.perf_counter()
        if self.epoch_variable is not None:
            self.epoch_variable.assign(epoch)  # before Keras opens this epoch's iterator

    def on_train_batch_end(self, batch, logs=None):
        if self.stop is not None and self.stop.is_set():
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        s = self.state
        s.seconds += time.perf_counter() - self._t0
        loss = float(logs.get("loss", np.nan))
        val = float(logs.get("val_loss", loss))
        if not (np.isfinite(loss) and np.isfinite(val)):
            s.failure = (f"The loss became {'NaN' if np.isnan(loss) or np.isnan(val) else 'infinite'} at epoch {s.epochs_done + 1}: "
                         f"values up to {self.largest_input:.3g} overflow its arithmetic. "
                         "Scale the columns (or drop the extreme ones), or use the quantile scaler.")
            self.model.stop_training = True
            raise DataError(s.failure)
        s.loss.append(loss)
        s.val_loss.append(val)
        significant = val < s.best_val_loss - self.min_delta * abs(s.best_val_loss) if np.isfinite(s.best_val_loss) else True
        if val < s.best_val_loss:  # the best weights are the lowest loss, however small the gain
            s.best_val_loss, s.best_epoch = val, s.epochs_done
            s.best_weights = [w.copy() for w in self.model.get_weights()]
        if significant:  # patience restarts only on a gain of more than min_delta (relative)
            s.wait = 0
        else:
            s.wait += 1
            if self.patience and s.wait >= self.patience:
                s.early_stopped = True
                self.model.stop_training = True
        log.debug("epoch %d/%d loss %.6g val_loss %.6g", s.epochs_done, self.epochs, loss, val)
        report = EpochReport(s.epochs_done, self.epochs, loss, val, s.seconds, s.best_epoch, s.best_val_loss)
        for hook in self.hooks:
            hook(report)
        if self.stop is not None and self.stop.is_set():  # after the hooks, which may have asked for it
            s.stopped_by_user = True
            self.model.stop_training = True


def _dataset(x: np.ndarray, batch_size: int):
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices((x, x)).batch(batch_size).prefetch(2)


def _shuffled_dataset(x: np.ndarray, batch_size: int, seed: int, epoch):
    """Batches in an order that depends only on (seed, the epoch variable's value when an epoch starts).

    Keras re-iterates the dataset every epoch; a reshuffling iterator would restart its
    sequence when training resumes after an interruption, so here each epoch's order is a
    stateless permutation seeded by (seed, epoch): a paused and resumed training sees
    exactly the batches of an uninterrupted one. No global seed is touched.
    """
    import tensorflow as tf

    rows = tf.constant(x)
    n = len(x)

    def order(_):
        permutation = tf.random.experimental.stateless_shuffle(tf.range(n, dtype=tf.int64), seed=tf.stack([tf.constant(seed, tf.int64), epoch.read_value()]))
        return tf.data.Dataset.from_tensor_slices(permutation).batch(batch_size)

    def rows_of(idx):
        batch = tf.gather(rows, idx)
        return batch, batch

    steps = -(-n // batch_size)
    batches = tf.data.Dataset.from_tensors(0).flat_map(order).apply(tf.data.experimental.assert_cardinality(steps))
    return batches.map(rows_of).prefetch(2)


class Trainer:
    """Runs ``model.fit`` in resumable pieces on fixed training and validation matrices.

    It reads as an ensemble's trainer of one network (``network``, ``n_networks``, ``seconds``, ``finished_states``),
    so a live view reads either the same way."""

    network = n_networks = 1
    #: The states of the networks trained before the one running: none for one network.
    finished_states: tuple = ()

    def __init__(
        self,
        model: keras.Model,
        x_train: np.ndarray,
        x_val: np.ndarray,
        *,
        epochs: int,
        batch_size: int,
        patience: int,
        seed: int,
        min_delta: float = 0.0,
        largest_value: Optional[float] = None,
    ) -> None:
        self.model, self.x_train, self.x_val = model, x_train, x_val
        self.epochs, self.batch_size, self.patience, self.seed, self.min_delta = epochs, batch_size, patience, seed, min_delta
        self.state = TrainingState()
        if largest_value is None:  # the magnitude named if the loss overflows: the caller's raw values, else the inputs
            with np.errstate(all="ignore"):
                largest_value = float(np.nanmax(np.abs(x_train))) if x_train.size else 0.0
        self._largest = largest_value

    @property
    def seconds(self) -> float:
        return self.state.seconds

    @property
    def finished(self) -> bool:
        s = self.state
        return s.epochs_done >= self.epochs or s.early_stopped or s.stopped_by_user or s.failure is not None

    def run(self, hooks: list[ProgressHook] | None = None, stop: StopFlag | None = None, max_epochs: int | None = None) -> TrainingState:
        """Train from where the last run ended until done, stopped, or ``max_epochs`` more epochs."""
        if self.state.failure is not None:
            raise DataError(self.state.failure)
        if self.finished:
            return self.state
        start = self.state.epochs_done
        end = self.epochs if max_epochs is None else min(self.epochs, start + max_epochs)
        import tensorflow as tf

        monitor = _Monitor(self.state, self.epochs, self.patience, stop, list(hooks or []), self.min_delta, self._largest)
        monitor.epoch_variable = tf.Variable(start, dtype=tf.int64, trainable=False)
        train = _shuffled_dataset(self.x_train, self.batch_size, self.seed, monitor.epoch_variable)
        val = _dataset(self.x_val, max(self.batch_size, 1024)) if len(self.x_val) else None
        self.model.fit(train, validation_data=val, initial_epoch=start, epochs=end, callbacks=[monitor], verbose=0, shuffle=False)
        return self.state

    def trace_ahead(self) -> None:
        """Compile the network's training and validation steps now, and leave every variable as it was.

        TensorFlow traces a new model's step functions on their first call: about a second
        on a small table, before the first epoch can end. Called while the user is still
        reading the Train form, it moves that second out of the wait after the click. It
        runs one real call of each step (tracing alone cannot be reached through Keras),
        then puts back the network's variables (weights and random-seed state), zeroes the
        optimizer's slots and step count and resets the metrics, so the training that
        follows is the one it would have been, bit for bit.
        """
        model = self.model
        if self.state.epochs_done or model.train_function is not None:
            return
        import tensorflow as tf

        model.optimizer.build(model.trainable_variables)
        kept = [(v, v.numpy()) for v in list(model.variables) + list(model.optimizer.variables)]
        model.make_train_function()
        model.train_function(iter(_shuffled_dataset(self.x_train, self.batch_size, self.seed, tf.Variable(0, dtype=tf.int64, trainable=False))))
        if len(self.x_val):
            model.make_test_function()
            model.test_function(iter(_dataset(self.x_val, max(self.batch_size, 1024))))
        for variable, value in kept:
            variable.assign(value)
        model.reset_metrics()

    def stop(self) -> None:
        """Mark training as stopped by the user (for a stop that arrives between runs)."""
        self.state.stopped_by_user = True

    def restore_best(self) -> None:
        if self.state.best_weights is not None:
            self.model.set_weights(self.state.best_weights)
