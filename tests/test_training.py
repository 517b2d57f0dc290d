import numpy as np
import pandas as pd
import pytest

from core.detector import AutoencoderDetector
from core.errors import DataError
from tests.conftest import planted


class Interrupt(Exception):
    """What Streamlit raises in a hook when the user clicks during training."""


def _interrupt_at(epoch):
    def hook(report):
        if report.epoch == epoch:
            raise Interrupt
    return hook


def test_a_training_interrupted_and_resumed_is_bit_identical_to_an_uninterrupted_one():
    X, y = planted(n_normal=300, n_anomaly=20, seed=4)
    tr, va = slice(0, 200), slice(200, 320)
    params = dict(epochs=6, patience=0, dropout=0.1, batch_size=32, random_state=7)
    straight = AutoencoderDetector(**params).fit(X.iloc[tr], y[tr], validation_data=(X.iloc[va], y[va]))

    paused = AutoencoderDetector(**params).begin_fit(X.iloc[tr], y[tr], validation_data=(X.iloc[va], y[va]))
    with pytest.raises(Interrupt):
        paused.trainer_.run(hooks=[_interrupt_at(3)])
    assert paused.trainer_.state.epochs_done == 3
    paused.trainer_.run()
    paused.end_fit()

    for a, b in zip(straight.model_.get_weights(), paused.model_.get_weights()):
        assert np.array_equal(a, b)
    assert straight.history_ == paused.history_
    assert straight.threshold_ == paused.threshold_
    assert np.array_equal(straight.decision_function(X), paused.decision_function(X))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy's own overflow warnings while scaling 1e308
def test_a_loss_that_overflows_is_refused_at_once_and_leaves_the_detector_unfitted():
    # Values this large are refused earlier, by preprocessing, with their own message; here
    # the inputs are ordinary and a runaway step size makes the loss overflow instead.
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    det = AutoencoderDetector(epochs=5, scaler="standard", learning_rate=1e30, random_state=0)
    seen = []
    with pytest.raises(DataError, match=r"loss became (NaN|infinite) at epoch \d+: values up to .*quantile scaler"):
        det.fit(X, hooks=[seen.append])
    assert seen == []  # no epoch was reported as if it had worked
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        det.decision_function(X)
    with pytest.raises(DataError, match="loss became"):
        det.end_fit()


def test_relative_min_delta_stops_once_gains_become_small():
    X, y = planted(n_normal=400, n_anomaly=0, seed=2)
    strict = AutoencoderDetector(epochs=200, patience=5, min_delta=0.01, random_state=0).fit(X)
    assert strict.early_stopped_ and strict.epochs_run_ < 200
    assert strict.best_epoch_ <= strict.epochs_run_
    assert strict.best_val_loss_ == min(strict.history_["val_loss"])  # the best weights are the lowest loss


def test_weight_decay_shrinks_the_weights():
    X, _ = planted(n_normal=300, n_anomaly=0, seed=5)
    plain = AutoencoderDetector(epochs=10, patience=0, random_state=1).fit(X)
    decayed = AutoencoderDetector(epochs=10, patience=0, weight_decay=0.2, random_state=1).fit(X)
    norm = lambda det: sum(float((w ** 2).sum()) for w in det.model_.get_weights())  # noqa: E731
    assert norm(decayed) < norm(plain)


def test_cosine_schedule_decays_the_learning_rate_to_zero_over_the_epochs():
    X, _ = planted(n_normal=300, n_anomaly=0, seed=5)
    constant = AutoencoderDetector(epochs=6, patience=0, random_state=1).fit(X)
    cosine = AutoencoderDetector(epochs=6, patience=0, lr_schedule="cosine", random_state=1).fit(X)
    rate = lambda det: float(det.model_.optimizer.learning_rate)  # noqa: E731 (the schedule's value at the current step)
    assert rate(constant) == pytest.approx(1e-3) and rate(cosine) == pytest.approx(0.0, abs=1e-9)
    assert not np.allclose(constant.decision_scores_, cosine.decision_scores_)


def test_each_epoch_visits_every_row_once_in_an_order_fixed_by_seed_and_epoch():
    import tensorflow as tf

    from core.training import _shuffled_dataset

    x = np.arange(50, dtype=np.float32).reshape(25, 2)
    epoch = tf.Variable(0, dtype=tf.int64)

    def order(value, seed=3):
        epoch.assign(value)
        return np.concatenate([b[0].numpy()[:, 0] for b in _shuffled_dataset(x, 8, seed, epoch)])

    first, again, second = order(0), order(0), order(1)
    assert np.array_equal(first, again) and not np.array_equal(first, second)
    assert sorted(first) == sorted(second) == list(x[:, 0])
    assert not np.array_equal(order(0, seed=4), first)


@pytest.mark.parametrize("architecture", ["dense", "denoising", "sparse", "variational"])
def test_a_training_traced_ahead_is_bit_identical_to_one_that_was_not(architecture):
    """Tracing ahead runs real steps; dropout's and the noise layer's seed state must come back too."""
    X, y = planted(n_normal=300, n_anomaly=20, seed=5)
    tr, va = slice(0, 200), slice(200, 320)
    params = dict(architecture=architecture, epochs=4, patience=0, dropout=0.1, batch_size=16, random_state=3)
    plain = AutoencoderDetector(**params).fit(X.iloc[tr], y[tr], validation_data=(X.iloc[va], y[va]))

    ahead = AutoencoderDetector(**params).begin_fit(X.iloc[tr], y[tr], validation_data=(X.iloc[va], y[va]))
    ahead.trainer_.trace_ahead()
    assert ahead.model_.train_function is not None and ahead.model_.test_function is not None
    ahead.trainer_.run()
    ahead.end_fit()

    for a, b in zip(plain.model_.get_weights(), ahead.model_.get_weights()):
        assert np.array_equal(a, b)
    assert plain.history_ == ahead.history_
    assert np.array_equal(plain.decision_function(X), ahead.decision_function(X))
