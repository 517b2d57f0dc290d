"""The training begun while the user reads the Train form, and how the click takes it."""

import threading

import pytest

from core import training_ahead
from core.pipeline import load_sample, prepare
from core.training_ahead import TrainingAhead


@pytest.fixture(scope="module")
def prepared():
    return prepare(load_sample("machine_sensors.csv"), "status", ["normal"], seed=0)


def begun(prepared, params) -> TrainingAhead:
    """A training begun ahead and finished (built and traced) before the click."""
    ahead = TrainingAhead(prepared, params)
    ahead.thread.join()
    return ahead


def test_the_click_takes_the_training_begun_with_its_parameters_traced_and_only_once(prepared):
    params = {"epochs": 2, "random_state": 1}
    ahead = begun(prepared, params)
    detector = ahead.take(dict(params))
    assert detector is not None and detector.trainer_.state.epochs_done == 0
    assert detector.model_.train_function is not None  # traced: the first epoch needs no tracing
    assert ahead.take(params) is None


def test_a_click_for_another_network_cancels_the_begun_training_and_keeps_no_model(prepared):
    ahead = begun(prepared, {"epochs": 2, "code_size": 3})
    assert ahead.take({"epochs": 2, "code_size": 2}) is None
    assert ahead.cancelled and ahead._detector is None
    assert ahead.take({"epochs": 2, "code_size": 3}) is None


def test_a_longer_training_takes_the_begun_network_and_ends_as_a_fresh_one_would(prepared):
    from core.pipeline import begin_training

    ahead = begun(prepared, {"epochs": 1, "patience": 0, "random_state": 2})
    taken = ahead.take({"epochs": 3, "patience": 1, "score": "reconstruction", "random_state": 2})
    assert (taken.epochs, taken.patience, taken.score) == (3, 1, "reconstruction")
    taken.trainer_.run()
    taken.end_fit()
    fresh = begin_training(prepared, {"epochs": 3, "patience": 1, "score": "reconstruction", "random_state": 2})
    fresh.trainer_.run()
    fresh.end_fit()
    assert taken.history_ == fresh.history_ and taken.epochs_run_ == fresh.epochs_run_
    assert taken.score_parts_ == fresh.score_parts_ and taken.threshold_ == fresh.threshold_


def test_parameters_that_cannot_train_give_nothing_to_take_and_raise_nothing(prepared):
    ahead = begun(prepared, {"architecture": "no-such-network"})
    assert ahead.take({"architecture": "no-such-network"}) is None


def test_a_click_never_waits_behind_a_training_queued_for_the_core_and_the_queued_one_never_begins(prepared, monkeypatch):
    calls = []
    monkeypatch.setattr("core.pipeline.begin_training", lambda *a, **k: calls.append(a))
    with training_ahead._one_at_a_time:  # another session's training holds the core
        ahead = TrainingAhead(prepared, {"epochs": 2})
        ahead._known.wait(5)
        assert ahead.take({"epochs": 2}) is None and ahead.cancelled
    ahead.thread.join(30)
    assert not ahead.thread.is_alive() and calls == []


def test_a_training_cancelled_while_it_traces_keeps_no_model(prepared, monkeypatch):
    tracing, release = threading.Event(), threading.Event()
    from core.training import Trainer

    real = Trainer.trace_ahead

    def slow_trace(self):
        tracing.set()
        release.wait(30)
        real(self)

    monkeypatch.setattr(Trainer, "trace_ahead", slow_trace)
    ahead = TrainingAhead(prepared, {"epochs": 2})
    assert tracing.wait(60)
    ahead.cancel()
    release.set()
    ahead.thread.join(60)
    assert ahead._detector is None and ahead.take({"epochs": 2}) is None


def test_a_cancelled_training_with_deferred_parameters_never_works_them_out(prepared):
    asked = []
    ahead = TrainingAhead(prepared, lambda: asked.append(1) or {"epochs": 2}, delay=30)
    ahead.cancel()
    ahead.thread.join(10)
    assert not ahead.thread.is_alive() and asked == [] and ahead.params is None


def test_with_a_learning_rate_schedule_another_length_is_another_training():
    from core.training_ahead import same_network

    assert same_network({"epochs": 5, "code_size": 3}, {"epochs": 9, "code_size": 3})
    assert not same_network({"epochs": 5, "lr_schedule": "cosine"}, {"epochs": 9, "lr_schedule": "cosine"})
    assert same_network({"epochs": 5, "lr_schedule": "cosine", "patience": 1}, {"epochs": 5, "lr_schedule": "cosine", "patience": 4})
