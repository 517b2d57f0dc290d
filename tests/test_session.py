"""The session model's transitions, without a browser: replace an object and lose
everything that hangs off it, and nothing that belongs to other data survives."""

import numpy as np
import pytest

from core.bundle import bundle_bytes
from core.compare import compare
from core.data import read_table
from core.errors import DataError
from core.pipeline import begin_training, load_sample, prepare, score_all
from core.thresholds import Threshold
from ui.session import Session


@pytest.fixture(scope="module")
def trained():
    table = load_sample("machine_sensors.csv")
    prepared = prepare(table, "status", ["normal"], seed=0)
    detector = begin_training(prepared, {"epochs": 3})
    detector.trainer_.run()
    detector.end_fit()
    return prepared, detector, score_all(detector, prepared)


def test_a_new_table_drops_the_split_the_model_and_the_comparison(trained):
    prepared, detector, scores = trained
    session = Session.seeded(prepared, detector, scores)
    study = session.study
    study.comparison = ["a comparison on the sensor sample"]
    session.run.cache["slider_grid"] = "a grid of the sensor scores"
    session.set_table(load_sample("heartbeats.csv"))
    assert session.run is None
    assert session.study is not study and session.study.comparison is None and session.study.search is None
    assert session.prepared.table.name == "heartbeats.csv" and session.prepared.target.label == "rhythm"
    kind, note = session.notices["choice"]
    assert note.replace("\\", "").startswith("The trained dense autoencoder was dropped with the previous table, 'machine_sensors.csv'"), note


def test_loading_the_table_in_use_again_keeps_the_model_and_its_threshold(trained):
    prepared, detector, scores = trained
    session = Session.seeded(prepared, detector, scores)
    run, study = session.run, session.study
    run.set_threshold(2.5)
    session.set_table(load_sample("machine_sensors.csv"))
    assert session.run is run and session.study is study and run.threshold.value == 2.5
    assert "is the table already in use" in session.notices["choice"][1]


def test_a_comparison_result_from_another_table_cannot_be_put_in_use(trained):
    prepared, detector, scores = trained
    session = Session.seeded(prepared)
    results = compare(session.prepared, ["iforest"], progress=None)
    session.study.comparison = results
    session.set_table(load_sample("heartbeats.csv"))
    with pytest.raises(DataError, match="another table"):
        session.use_result(results[0], "compared")
    assert session.run is None


def test_a_new_choice_drops_the_model_but_a_refused_choice_keeps_everything(trained):
    prepared, detector, scores = trained
    session = Session.seeded(prepared, detector, scores)
    run, study = session.run, session.study
    with pytest.raises(DataError):
        session.choose("status", ["normal", "bearing_fault", "overheat", "sensor_drift"], list(prepared.features), 0)
    assert session.run is run and session.study is study
    assert session.choose("status", ["normal"], list(prepared.features), 0) is False  # the same choice changes nothing
    session.choose("status", ["normal"], list(prepared.features), 1)
    assert session.run is None and session.study is not study and session.prepared.split.seed == 1


def test_starting_training_clears_the_previous_model_at_once(trained):
    prepared, detector, scores = trained
    session = Session.seeded(prepared, detector, scores)
    session.start_training(begin_training(session.prepared, {"epochs": 1}))
    assert session.run is None and session.scored_run is None
    session.study.training.trainer_.run()
    run = session.finish_training()
    assert run.origin == "trained" and session.study.training is None and run.study is session.study
    assert set(run.scores) == {"train", "val", "test"}


def test_a_table_no_choice_fits_is_refused_and_the_previous_one_stays(trained):
    prepared, detector, scores = trained
    session = Session.seeded(prepared, detector, scores)
    run = session.run
    one_row = read_table(b"a,b,label\n1,2,x\n", name="one.csv")
    with pytest.raises(DataError):
        session.set_table(one_row)
    assert session.table is prepared.table and session.run is run


def test_a_table_too_small_for_any_choice_is_refused_for_its_size_not_for_its_guessed_label(trained):
    """A walk saw a four-row file refused because the guessed label 'y' had an empty cell, asking to choose another
    label column: a choice the user could not make, since the table was not loaded."""
    session = Session.seeded(trained[0])
    tiny = read_table(b"x,y,lab\n1.5,2,ok\n2.25,,ok\n3,4,bad\n4,5,ok\n", name="tiny.csv")
    with pytest.raises(DataError, match="4 data row") as refused:
        session.set_table(tiny)
    assert "label column" not in str(refused.value)


def test_a_restored_model_follows_a_new_table_with_its_columns(trained):
    prepared, detector, scores = trained
    session = Session.seeded(prepared)
    run = session.restore(bundle_bytes(detector, prepared.context(), Threshold(2.5, "manual", "by hand")), "model.zip")
    assert run.origin == "restored" and run.threshold.value == 2.5 and run.study is session.study
    np.testing.assert_array_equal(run.scores["test"].scores, scores["test"].scores)
    assert session.notices["bundle"][0] == "success"
    session.set_table(load_sample("heartbeats.csv"))  # other columns: kept for scoring only
    assert session.run.origin == "restored" and session.run.study is None and session.scored_run is None
    assert session.notices["bundle"][0] == "warning" and "lacks feature column" in session.notices["bundle"][1]  # not the earlier success
    assert "lacks feature column" in session.run.unscored
    session.set_table(load_sample("machine_sensors.csv"))  # its columns again: scored again
    assert session.scored_run is not None and session.run.detector is run.detector and session.run.threshold.value == 2.5
    assert session.notices["bundle"][0] == "success"


def test_restoring_a_model_on_the_split_in_use_keeps_the_comparison_and_sets_the_model_in_use_aside(trained):
    prepared, detector, scores = trained
    session = Session.seeded(prepared, detector, scores)
    trained_run, study = session.run, session.study
    study.comparison = compare(session.prepared, ["iforest"], progress=None)
    restored = session.restore(bundle_bytes(detector, prepared.context(), Threshold(2.5, "manual", "by hand")), "model.zip")
    assert session.study is study and study.comparison is not None and study.set_aside is trained_run
    assert "one click on Compare, Train or Inspect" in restored.note
    assert restored.study is study and "set aside" in restored.note
    assert session.use_set_aside() is trained_run  # one click back
    session.choose("status", ["normal"], None, 3)
    other = session.restore(bundle_bytes(detector, prepared.context()), "model.zip")  # saved on another split: that split, anew
    assert session.study is not study and session.study.comparison is None and other.study is session.study


def test_a_restored_model_back_with_its_table_is_not_set_aside_as_itself(trained):
    prepared, detector, scores = trained
    session = Session.seeded(prepared)
    session.restore(bundle_bytes(detector, prepared.context()), "model.zip")
    session.set_table(load_sample("heartbeats.csv"))
    session.set_table(load_sample("machine_sensors.csv"))  # the restored model comes back with its table: nothing replaced it
    assert session.run.origin == "restored" and session.scored_run is not None and session.study.set_aside is None


def test_a_restored_model_on_another_choice_says_so_and_comes_back_with_its_own(trained):
    prepared, detector, scores = trained
    session = Session.seeded(prepared)
    run = session.restore(bundle_bytes(detector, prepared.context(), Threshold(2.5, "manual", "by hand")), "model.zip")
    session.choose("status", ["normal"], None, 5)  # another split: rows it was trained on would be among the test rows
    assert session.scored_run is None and session.run.detector is run.detector
    assert "split seed 0" in session.run.unscored and "columns" not in session.run.unscored
    assert session.notices["bundle"][0] == "warning" and "split seed 0" in session.notices["bundle"][1]
    session.choose("status", ["normal"], None, 0)  # the saved choice again: scored again, threshold kept
    assert session.scored_run is not None and session.run.threshold.value == 2.5
    np.testing.assert_array_equal(session.run.scores["test"].scores, scores["test"].scores)
    assert session.notices["bundle"][0] == "success"


def test_a_compared_model_used_again_comes_back_with_its_hand_set_threshold_and_settings(trained):
    prepared, detector, scores = trained
    session = Session.seeded(prepared, detector, scores)
    session.study.comparison = compare(session.prepared, ["lof", "iforest"], progress=None)
    lof = session.study.comparison[0]
    session.use_result(lof, "compared").set_threshold(2.0)
    session.run.widgets.values["thr_part"] = "test"
    session.use_set_aside()  # back to the trained autoencoder …
    assert session.run.detector is detector
    again = session.use_result(lof, "compared")  # … and to the compared one: as the user left it
    assert again.threshold.value == 2.0 and again.threshold.rule == "manual" and again.widgets.values["thr_part"] == "test"
    other = session.use_result(session.study.comparison[1], "compared")
    assert other.threshold == other.default_threshold
    session.study.comparison = compare(session.prepared, ["lof"], progress=None)  # a new comparison: new models, their own thresholds
    fresh = session.use_result(session.study.comparison[0], "compared")
    assert fresh.threshold == fresh.default_threshold and len(session.study.used_results) == 1


def test_each_model_keeps_its_own_page_settings(trained):
    prepared, detector, scores = trained
    session = Session.seeded(prepared, detector, scores)
    session.run.widgets.values["thr_part"] = "test"
    first = session.run
    session.start_training(begin_training(session.prepared, {"epochs": 1}))
    session.study.training.trainer_.run()
    second = session.finish_training()
    assert second.widgets.values == {} and second.widgets.tag != first.widgets.tag


def test_a_split_that_is_replaced_cancels_the_training_begun_ahead_for_it(trained, monkeypatch):
    import gc

    from ui import warmup

    monkeypatch.setattr(warmup, "start", lambda *a, **k: None)  # no warm-up thread in this test
    prepared, detector, scores = trained
    session = Session.seeded(prepared, detector, scores)
    session.run = None  # the split is then held by the workspace alone
    session.study.train_ahead()
    ahead = session.study.ahead
    session.workspace.study = None  # what every transition to another split or table does to the old one
    gc.collect()
    assert ahead.cancelled
    ahead.thread.join()
    assert ahead.take(ahead.params or {}) is None


def test_the_data_page_begins_nothing_ahead_for_a_split_that_has_its_model_in_use(trained):
    prepared, detector, scores = trained
    session = Session.seeded(prepared, detector, scores)
    session.train_ahead_from_defaults()
    assert session.study.ahead is None
