"""Each page through Streamlit's AppTest, with the expensive state seeded once."""

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.pipeline import begin_training, load_sample, prepare, score_all
from tests.conftest import ROOT

APP = str(ROOT / "app.py")


@pytest.fixture(scope="module")
def trained_state():
    table = load_sample("machine_sensors.csv")
    prepared = prepare(table, "status", ["normal"], seed=0)
    detector = begin_training(prepared, {"epochs": 15})
    detector.trainer_.run()
    detector.end_fit()
    return table, prepared, detector, score_all(detector, prepared)


def app(page: str | None = None, state=None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    if state is not None:
        table, prepared, detector, scores = state
        at.session_state["table"] = table
        at.session_state["prepared"] = prepared
        at.session_state["prepared_key"] = (table.sha256, "status", ("normal",), tuple(prepared.features), 0)
        at.session_state["choice"] = {"label": "status", "normal": ["normal"], "features": list(prepared.features), "seed": 0}
        at.session_state["detector"] = detector
        at.session_state["scores"] = scores
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, at.exception
    return at


def texts(at) -> str:
    return " ".join(str(el.value) for el in list(at.markdown) + list(at.info) + list(at.success) + list(at.error) + list(at.caption))


def test_app_opens_on_a_sample_with_a_label_chosen_ready_to_train():
    at = app()
    assert at.session_state["table"].name == "machine_sensors.csv"
    assert at.selectbox[1].value == "status"  # [0] is the sample picker
    assert at.multiselect[0].value == ["normal"]
    assert "Ready to train" in texts(at)


def test_malformed_upload_shows_an_error_and_keeps_the_previous_table():
    at = app()
    before = at.session_state["table"].sha256
    at.file_uploader(key="data_upload").set_value(("broken.csv", b"only_one_column\n1\n2\n", "text/csv"))
    at.run()
    assert not at.exception
    assert any("Could not use 'broken.csv'" in e.value and "one column" in e.value for e in at.error)
    assert at.session_state["table"].sha256 == before
    assert "prepared" in at.session_state


def test_label_with_one_normal_class_left_keeps_the_last_valid_choice():
    at = app()
    at.multiselect[0].set_value(["normal", "bearing_fault", "overheat", "sensor_drift"])
    at.run()
    assert any("Every class" in e.value for e in at.error)
    assert at.session_state["prepared"].target.normal_classes == ("normal",)


def test_train_page_trains_from_the_form_and_keeps_a_summary():
    at = app("pages/train.py")
    at.number_input(key="train_epochs").set_value(3)
    at.form_submit_button[0].click()
    at.run()
    assert not at.exception, at.exception
    det = at.session_state["detector"]
    assert det.epochs_run_ == 3 and len(det.history_["loss"]) == 3
    assert [m.label for m in at.metric][:4] == ["Epochs run", "Best validation loss", "Training time", "Parameters"]
    assert "training" not in at.session_state


def test_threshold_page_without_a_model_points_to_train():
    at = app("pages/threshold.py")
    assert any("Train a model first" in i.value for i in at.info)


def test_threshold_number_input_moves_metrics_and_slider(trained_state):
    at = app("pages/threshold.py", trained_state)
    detector = trained_state[2]
    assert at.session_state["threshold"] == pytest.approx(detector.threshold_)
    before = {m.label: m.value for m in at.metric}
    low = float(np.quantile(trained_state[3]["val"].scores, 0.5))
    at.number_input(key="thr_num").set_value(low)
    at.run()
    assert not at.exception
    after = {m.label: m.value for m in at.metric}
    assert after["Precision"] != before["Precision"]
    assert at.session_state["threshold"] == pytest.approx(low)
    assert at.select_slider(key="thr").value == pytest.approx(low, rel=0.05)


def test_jump_to_a_rule_moves_the_threshold(trained_state):
    at = app("pages/threshold.py", trained_state)
    at.selectbox(key="thr_rule").set_value("percentile:95")
    at.button(key="thr_apply").click()
    at.run()
    expected = np.percentile(trained_state[2].decision_scores_, 95)
    assert at.session_state["threshold"] == pytest.approx(expected)


def test_threshold_page_without_labels_explains_the_missing_matrix():
    table = load_sample("machine_sensors.csv")
    prepared = prepare(table, None, seed=0, features=["rpm", "power_kw", "flow_lpm", "motor_temp_c"])
    detector = begin_training(prepared, {"epochs": 2})
    detector.trainer_.run()
    detector.end_fit()
    at = app("pages/threshold.py", (table, prepared, detector, score_all(detector, prepared)))
    assert any("no confusion matrix" in i.value for i in at.info)
    assert [m.label for m in at.metric] == ["Rows flagged", "Share flagged"]


def test_score_page_scores_an_upload_like_the_session_model(trained_state):
    at = app("pages/score.py", trained_state)
    raw = (ROOT / "sample_data" / "machine_sensors.csv").read_bytes()
    at.file_uploader(key="score_upload").set_value(("new.csv", raw, "text/csv"))
    at.run()
    assert not at.exception, at.exception
    detector = trained_state[2]
    expected = detector.decision_function(trained_state[0].frame)
    np.testing.assert_array_equal(at.session_state["scored"]["scores"], expected)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Rows scored"] == "3,000"
    assert metrics["Rows flagged"] == f"{int((expected > detector.threshold_).sum()):,}"
    at.toggle(key="score_use_label").set_value(True)
    at.run()
    assert "Precision" in [m.label for m in at.metric]


def test_score_page_names_the_missing_columns(trained_state):
    at = app("pages/score.py", trained_state)
    at.file_uploader(key="score_upload").set_value(("few.csv", b"rpm,power_kw\n1,2\n3,4\n", "text/csv"))
    at.run()
    assert any("lacks column(s)" in e.value and "'flow_lpm'" in e.value for e in at.error)
    assert "scored" not in at.session_state


def test_restoring_a_bundle_brings_back_model_threshold_and_choices(trained_state):
    from core.bundle import bundle_bytes
    from core.thresholds import Threshold

    _, prepared, detector, _ = trained_state
    raw = bundle_bytes(detector, prepared.context(), Threshold(2.5, "manual", "chosen by hand"))
    at = app()
    at.file_uploader(key="data_bundle").set_value(("model.zip", raw, "application/zip"))
    at.run()
    assert not at.exception, at.exception
    assert any("Restored the model" in s.value for s in at.success)
    assert at.session_state["threshold"] == 2.5
    assert at.session_state["prepared"].target.label == "status"
    np.testing.assert_array_equal(at.session_state["scores"]["test"].scores, trained_state[3]["test"].scores)
    at.switch_page("pages/threshold.py")
    at.run()
    assert not at.exception and any("exceeds **2.5**" in m.value for m in at.markdown)


def test_a_damaged_bundle_changes_nothing():
    at = app()
    before = at.session_state["table"].sha256
    at.file_uploader(key="data_bundle").set_value(("model.zip", b"not a zip", "application/zip"))
    at.run()
    assert any("Could not restore 'model.zip'" in e.value and "Nothing in this session was changed" in e.value for e in at.error)
    assert at.session_state["table"].sha256 == before and "detector" not in at.session_state and "prepared" in at.session_state


def test_inspect_page_explains_the_top_row_and_filters_by_outcome(trained_state):
    at = app("pages/inspect.py", trained_state)
    assert not at.exception, at.exception
    scores = trained_state[3]
    top = int(scores["val"].positions[np.argmax(scores["val"].scores)]) + 1
    assert at.subheader[0].value.startswith(f"Row {top}:")
    at.multiselect(key="inspect_outcomes").set_value(["FN"])
    at.run()
    assert not at.exception, at.exception
    frame = at.dataframe[0].value
    assert set(frame["outcome"]) <= {"FN"}


def test_confusion_cell_button_opens_inspect_filtered(trained_state):
    at = app("pages/threshold.py", trained_state)
    at.button(key="thr_inspect_FP").click()
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Inspect"
    assert at.multiselect(key="inspect_outcomes").value == ["FP"]


def test_compare_page_fits_candidates_and_hands_one_to_the_other_pages():
    at = app("pages/compare.py")
    at.multiselect(key="compare_keys").set_value(["ae:dense", "iforest", "pca"])
    at.number_input(key="compare_epochs").set_value(3)
    at.form_submit_button[0].click()
    at.run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert list(table["detector"]) == ["AE dense", "Isolation Forest", "PCA reconstruction"]
    assert table["ROC-AUC (test)"].between(0.5, 1.0).all()
    at.selectbox(key="compare_pick").set_value("Isolation Forest")
    at.button(key="compare_use").click()
    at.run()
    assert type(at.session_state["detector"]).__name__ == "IsolationForestDetector"
    at.switch_page("pages/threshold.py")
    at.run()
    assert not at.exception, at.exception
    assert any("Baselines cannot be saved" in c.value for c in at.caption)
    at.switch_page("pages/inspect.py")
    at.run()
    assert not at.exception and any("baseline" in i.value for i in at.info)


def test_random_search_ranks_trials_by_validation_ap():
    at = app("pages/compare.py")
    at.number_input(key="search_trials").set_value(2)
    at.number_input(key="search_epochs").set_value(2)
    at.form_submit_button[1].click()
    at.run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert len(table) == 2 and table["AP (validation)"].is_monotonic_decreasing
