"""The training begun while the user reads the Train form, and how the click takes it."""

import pytest

from core.pipeline import load_sample, prepare
from core.training_ahead import TrainingAhead


@pytest.fixture(scope="module")
def prepared():
    return prepare(load_sample("machine_sensors.csv"), "status", ["normal"], seed=0)


def test_the_click_takes_the_training_begun_with_its_parameters_traced_and_only_once(prepared):
    params = {"epochs": 2, "random_state": 1}
    ahead = TrainingAhead(prepared, params)
    detector = ahead.take(dict(params))
    assert detector is not None and detector.trainer_.state.epochs_done == 0
    assert detector.model_.train_function is not None  # traced: the first epoch needs no tracing
    assert ahead.take(params) is None


def test_other_parameters_leave_the_begun_training_untaken(prepared):
    ahead = TrainingAhead(prepared, {"epochs": 2})
    assert ahead.take({"epochs": 3}) is None
    assert ahead.take({"epochs": 2}) is not None


def test_parameters_that_cannot_train_give_nothing_to_take_and_raise_nothing(prepared):
    ahead = TrainingAhead(prepared, {"architecture": "no-such-network"})
    assert ahead.take({"architecture": "no-such-network"}) is None


def test_a_cancelled_training_gives_nothing_and_the_next_begins_after_it(prepared):
    first = TrainingAhead(prepared, {"epochs": 2})
    first.cancel()
    second = TrainingAhead(prepared, {"epochs": 3}, after=first.thread)
    assert first.take({"epochs": 2}) is None
    assert second.take({"epochs": 3}) is not None and not first.thread.is_alive()
