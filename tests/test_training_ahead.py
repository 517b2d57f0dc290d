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


def test_another_network_leaves_the_begun_training_untaken(prepared):
    ahead = TrainingAhead(prepared, {"epochs": 2, "code_size": 3})
    assert ahead.take({"epochs": 2, "code_size": 2}) is None
    assert ahead.take({"epochs": 2, "code_size": 3}) is not None


def test_a_longer_training_takes_the_begun_network_and_ends_as_a_fresh_one_would(prepared):
    from core.pipeline import begin_training

    ahead = TrainingAhead(prepared, {"epochs": 1, "patience": 0, "random_state": 2})
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
    ahead = TrainingAhead(prepared, {"architecture": "no-such-network"})
    assert ahead.take({"architecture": "no-such-network"}) is None


def test_a_cancelled_training_gives_nothing_and_the_next_begins_after_it(prepared):
    first = TrainingAhead(prepared, {"epochs": 2})
    first.cancel()
    second = TrainingAhead(prepared, {"epochs": 2, "code_size": 3}, after=first.thread)
    assert first.take({"epochs": 2}) is None
    assert second.take({"epochs": 2, "code_size": 3}) is not None and not first.thread.is_alive()
