"""Each page through Streamlit's AppTest, with the expensive state seeded once.

Widgets whose values outlive a page visit carry their owner's tag in their key, so
tests find them by label."""

import json
import re

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.pipeline import begin_training, load_sample, prepare, score_all
from tests.conftest import ROOT
from ui.session import Session

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
        _, prepared, detector, scores = state
        at.session_state["session"] = Session.seeded(prepared, detector, scores)
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, at.exception
    return at


def session(at) -> Session:
    return at.session_state["session"]


def widget(at, kind: str, label: str):
    """The one widget of ``kind`` whose label is ``label``."""
    found = [w for w in getattr(at, kind) if w.label == label]
    assert len(found) == 1, f"{len(found)} {kind} labelled {label!r}: {[w.label for w in getattr(at, kind)]}"
    return found[0]


def plotly_values(values) -> list[float]:
    """Plotly 6+ sends numeric arrays as base64 typed arrays."""
    if isinstance(values, dict) and "bdata" in values:
        import base64

        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=np.dtype(values["dtype"])).tolist()
    return list(values)


def shown(text: str) -> str:
    """Text as the reader sees it: Markdown escapes and invisible link breaks removed."""
    return re.sub(r"\\(.)", r"\1", str(text)).replace("\u200b", "")


def texts(at) -> str:
    return " ".join(shown(el.value) for el in list(at.markdown) + list(at.info) + list(at.success) + list(at.error) + list(at.warning) + list(at.caption))


def errors(at) -> list[str]:
    return [shown(e.value) for e in at.error]


def test_app_opens_on_a_sample_with_a_label_chosen_ready_to_train():
    at = app()
    assert session(at).table.name == "machine_sensors.csv"
    assert widget(at, "selectbox", "Label column").value == "status"
    assert widget(at, "multiselect", "Normal class(es)").value == ["normal"]
    assert "Ready to train" in texts(at)


def test_rows_per_class_is_a_table_whose_roles_follow_the_normal_classes_and_no_chart_is_drawn():
    at = app()
    classes = next(d.value for d in at.dataframe if list(d.value.columns) == ["class", "role", "rows", "share"])
    assert classes.set_index("class")["role"].to_dict() == {"normal": "normal", "bearing_fault": "anomaly", "overheat": "anomaly", "sensor_drift": "anomaly"}
    assert classes["rows"].sum() == session(at).table.shape[0] and abs(classes["share"].sum() - 1) < 1e-9
    assert not at.get("plotly_chart")  # a chart would load Plotly's 4.7 MB script on the first view
    widget(at, "multiselect", "Normal class(es)").set_value(["normal", "overheat"])
    at.run()
    classes = next(d.value for d in at.dataframe if list(d.value.columns) == ["class", "role", "rows", "share"])
    assert set(classes[classes["role"] == "normal"]["class"]) == {"normal", "overheat"}


def test_malformed_upload_shows_an_error_and_keeps_the_previous_table():
    at = app()
    before = session(at).table.sha256
    at.file_uploader(key="data_upload").set_value(("broken.csv", b"only_one_column\n1\n2\n", "text/csv"))
    at.run()
    assert not at.exception
    assert any("Could not use 'broken" in e and "one column" in e for e in errors(at))
    assert session(at).table.sha256 == before and session(at).prepared is not None


def test_a_csv_with_one_data_row_is_refused_with_a_message_and_the_sidebar_stays():
    at = app()
    at.file_uploader(key="data_upload").set_value(("one.csv", b"a,b,label\n1,2,x\n", "text/csv"))
    at.run()
    assert not at.exception, at.exception
    assert any("Could not use 'one" in e and "data row" in e for e in errors(at))
    assert session(at).table.name == "machine_sensors.csv"
    assert any("Dataset" in m.value for m in at.sidebar.markdown)


def test_label_with_every_class_normal_keeps_the_last_valid_choice():
    at = app()
    widget(at, "multiselect", "Normal class(es)").set_value(["normal", "bearing_fault", "overheat", "sensor_drift"])
    at.run()
    assert any("Every class" in e for e in errors(at))
    assert session(at).prepared.target.normal_classes == ("normal",)


def test_a_refused_choice_is_said_once_and_not_after_it_is_fixed():
    """The refusal was also kept as a warning drawn above the table, before the next choice was checked: it showed
    twice while the choice was refused, and once more, stale, after it was fixed."""
    at = app()
    widget(at, "multiselect", "Normal class(es)").set_value(["normal", "bearing_fault", "overheat", "sensor_drift"])
    at.run()
    said = [e for e in errors(at) if "Every class" in e] + [w.value for w in at.warning if "Every class" in w.value]
    assert len(said) == 1, said
    widget(at, "multiselect", "Normal class(es)").set_value(["normal", "bearing_fault"])
    at.run()
    assert not at.exception and not any("Every class" in e for e in errors(at) + [w.value for w in at.warning])
    assert any(x.value.startswith("Ready to train") for x in at.success)


def id_table(n: int = 200) -> bytes:
    rng = np.random.default_rng(0)
    lines = ["id,const,a,b,label"] + [f"row-{i},7,{rng.normal():.4f},{rng.normal():.4f},{'bad' if i % 10 == 0 else 'ok'}" for i in range(n)]
    return "\n".join(lines).encode()


def test_columns_left_out_of_the_features_are_listed_with_the_reason():
    at = app()
    at.file_uploader(key="data_upload").set_value(("ids.csv", id_table(), "text/csv"))
    at.run()
    assert not at.exception, at.exception
    note = next(c.value for c in at.caption if "Left out by default" in c.value)
    assert "'id' (identifier-like: unique text per row)" in note and "'const' (constant)" in note
    assert list(session(at).prepared.features) == ["a", "b"]


def test_an_identifier_column_added_back_as_a_feature_is_refused_by_name():
    at = app()
    at.file_uploader(key="data_upload").set_value(("ids.csv", id_table(), "text/csv"))
    at.run()
    widget(at, "multiselect", "Feature columns").set_value(["id", "a", "b"])
    at.run()
    assert not at.exception, at.exception
    assert any("'id'" in e for e in errors(at))
    assert list(session(at).prepared.features) == ["a", "b"]


def test_no_label_mode_leaves_the_label_out_of_the_features_and_speaks_of_training_rows():
    at = app()
    widget(at, "selectbox", "Label column").set_value("(no label)")
    at.run()
    assert not at.exception, at.exception
    features = widget(at, "multiselect", "Feature columns").value
    assert "status" not in features
    assert session(at).prepared.target.label is None and "status" not in session(at).prepared.features
    assert "every training row" in texts(at) and "normal training rows" not in texts(at)


def test_train_page_trains_from_the_form_and_names_the_architecture_in_the_summary():
    at = app("pages/train.py")
    widget(at, "number_input", "Epochs (most)").set_value(3)
    at.run()
    at.button(key="train_start").click()
    at.run()
    assert not at.exception, at.exception
    run = session(at).run
    assert run.detector.epochs_run_ == 3 and len(run.detector.history_["loss"]) == 3
    assert [m.label for m in at.metric][:4] == ["Epochs run", "Best validation loss", "Training time", "Parameters"]
    assert session(at).study.training is None
    summary = texts(at)
    assert "dense autoencoder" in summary and "Score:" in summary
    assert any("dense autoencoder" in m.value for m in at.sidebar.markdown)


def test_the_train_page_trains_an_ensemble_network_by_network_and_shows_each_networks_losses():
    at = app("pages/train.py")
    widget(at, "number_input", "Epochs (most)").set_value(2)
    widget(at, "number_input", "Networks").set_value(3)
    at.run()
    assert at.button(key="train_start").label == "Train 3 dense autoencoders (an ensemble)"
    at.button(key="train_start").click()
    at.run()
    assert not at.exception, at.exception
    run = session(at).run
    assert run.kind == "ensemble" and [m.random_state for m in run.detector.members_] == [0, 1000, 2000]
    assert [m.epochs_run_ for m in run.detector.members_] == [2, 2, 2]
    assert [m.label for m in at.metric][:4] == ["Networks", "Epochs run", "Training time", "Parameters"]
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]
    assert [t for t in titles if t.startswith("Network ")] == [f"Network {i} of 3: loss per epoch (normal rows)" for i in (1, 2, 3)]
    assert "the mean of 3 dense autoencoders' scores" in texts(at)
    assert any("AE ensemble of 3 dense networks, trained here" in shown(m.value) for m in at.sidebar.markdown)
    for page in ("pages/threshold.py", "pages/inspect.py", "pages/score.py", "pages/compare.py", "pages/data.py"):
        at.switch_page(page)
        at.run()
        assert not at.exception and not errors(at), (page, at.exception, errors(at))


def test_the_train_page_draws_its_empty_loss_chart_before_training_starts():
    """So the browser has Plotly's script when the first point arrives (the Data page draws no Plotly chart)."""
    at = app("pages/train.py")
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert len(charts) == 1 and "Loss per epoch" in charts[0]["layout"]["title"]["text"]
    assert all(not t.get("y") for t in charts[0]["data"])


def test_train_settings_survive_a_visit_to_another_page():
    at = app("pages/train.py")
    widget(at, "selectbox", "Architecture").set_value("sparse")
    at.run()
    widget(at, "number_input", "Epochs (most)").set_value(7)
    at.run()
    at.switch_page("pages/data.py")
    at.run()
    at.switch_page("pages/train.py")
    at.run()
    assert not at.exception, at.exception
    assert widget(at, "selectbox", "Architecture").value == "sparse"
    assert widget(at, "number_input", "Epochs (most)").value == 7
    assert at.button(key="train_start").label == "Train the sparse autoencoder"


def test_a_browser_that_lost_the_train_widgets_state_would_show_the_values_the_server_holds():
    """A click on a page link while a typed value was committed redrew the Train page in the browser without its
    widgets' state: it showed each widget's default (epochs 1, batch 1, hidden sizes empty, the first scaler) and sent
    them back with the next click. Each kept widget's default is now the value it holds."""
    at = app("pages/train.py")
    widget(at, "number_input", "Epochs (most)").set_value(260)
    at.run()
    widget(at, "selectbox", "Scaler").set_value("quantile")
    at.run()
    at.run()  # a later run, in which the values come from the browser, not from the server
    assert not at.exception, at.exception
    assert widget(at, "number_input", "Epochs (most)").proto.default == 260
    scaler = widget(at, "selectbox", "Scaler")
    assert scaler.options[scaler.proto.default] == "quantile"
    assert widget(at, "text_input", "Hidden sizes").proto.default == widget(at, "text_input", "Hidden sizes").value != ""
    assert not at.warning, [w.value for w in at.warning]  # no "set via Session State and a default" warning


def test_train_settings_the_user_changed_survive_a_new_choice_of_normal_classes():
    at = app("pages/train.py")
    widget(at, "text_input", "Hidden sizes").set_value("16, 8")
    at.run()
    widget(at, "number_input", "Epochs (most)").set_value(20)
    at.run()
    default_batch = widget(at, "number_input", "Batch size").value
    at.switch_page("pages/data.py")
    at.run()
    normal = widget(at, "multiselect", "Normal class(es)")
    normal.set_value(list(normal.value) + ["sensor_drift"])  # another split: the model goes, the settings stay
    at.run()
    at.switch_page("pages/train.py")
    at.run()
    assert not at.exception, at.exception
    assert widget(at, "text_input", "Hidden sizes").value == "16, 8" and widget(at, "number_input", "Epochs (most)").value == 20
    assert widget(at, "number_input", "Batch size").value == default_batch  # untouched: the new split's default


def test_threshold_page_without_a_model_points_to_train():
    at = app("pages/threshold.py")
    assert any("Train a model first" in i.value for i in at.info)


def control_data(at) -> dict:
    """What the live threshold control was sent (it draws itself in the browser)."""
    return json.loads(at.get("bidi_component")[0].proto.json)


def metric_table_values(at) -> dict:
    """The Metrics tab's table: each metric's value at the threshold in use."""
    table = next(d.value for d in at.dataframe if "95 % interval" in d.value.columns)
    return table["value"].to_dict()


def test_the_metrics_tab_gives_each_metric_once_with_its_interval_and_its_change_from_the_default(trained_state):
    at = app("pages/threshold.py", trained_state)
    run = session(at).run
    assert not [m for m in at.metric if m.label == "Precision"]  # the live control shows the values; no second row of them
    table = next(d.value for d in at.dataframe if "95 % interval" in d.value.columns)
    conf = run.scores["val"].curve.at(run.threshold.value)
    assert table.loc["Precision", "value"] == f"{conf.metrics()['precision']:.3f}"
    low, high = (float(v) for v in table.loc["Recall", "95 % interval"].split(" – "))
    assert low <= conf.metrics()["recall"] <= high
    assert table.loc["MCC", "95 % interval"] == "–"  # no interval is computed for it


def test_the_control_shows_the_exact_threshold_in_use_after_a_typed_value(trained_state):
    at = app("pages/threshold.py", trained_state)
    run = session(at).run
    assert control_data(at)["value"] == run.threshold.value
    before = metric_table_values(at)
    low = float(np.quantile(trained_state[3]["val"].scores, 0.5)) + 1e-7  # between two cut points
    widget(at, "number_input", "Exact value").set_value(low)
    at.run()
    assert not at.exception
    after = metric_table_values(at)
    assert after["Precision"] != before["Precision"]
    assert run.threshold.value == pytest.approx(low, rel=1e-12)
    assert control_data(at)["value"] == run.threshold.value
    assert f"{run.threshold.value:.6g}" in texts(at)


def test_one_live_sentence_says_the_rule_and_gives_the_same_shares_as_the_cells_and_the_report(trained_state):
    from core.plots import confusion_figure
    from ui.threshold_control import display_texts

    at = app("pages/threshold.py", trained_state)
    run = session(at).run
    assert not [m for m in at.markdown if m.value.startswith("Flag a row")]  # no second sentence that lags during a drag
    conf = run.scores["val"].curve.at(run.threshold.value)
    cells = display_texts(conf)  # what the control shows, bit for bit (pinned in Chromium by test_threshold_control)
    assert f"{cells['fp_share']} of normal rows flagged (false alarms: {cells['fp_count']})" in cells["detail"]
    assert f"{cells['tp_share']} of anomalies caught ({cells['tp_count']} of {conf.tp + conf.fn:,})" in cells["detail"]
    figure_text = " ".join(" ".join(row) for row in confusion_figure(conf).data[0].text)  # the report's matrix
    assert f"{cells['fp_count']} ({cells['fp_share']} of actual normal)" in figure_text


def test_jump_to_a_rule_moves_the_threshold(trained_state):
    at = app("pages/threshold.py", trained_state)
    widget(at, "selectbox", "Jump to a rule").set_value("percentile:95")
    at.button(key="thr_apply").click()
    at.run()
    expected = np.percentile(trained_state[2].decision_scores_, 95)
    assert session(at).run.threshold.value == pytest.approx(expected)
    assert control_data(at)["value"] == session(at).run.threshold.value
    assert any("rule: 95th percentile of training scores (percentile:95, as the command line names it)" in c.value for c in at.caption)


def test_threshold_choices_survive_a_visit_to_another_page(trained_state):
    at = app("pages/threshold.py", trained_state)
    widget(at, "radio", "Rows shown").set_value("test")
    widget(at, "toggle", "Log-scale scores").set_value(False)
    at.run()
    at.switch_page("pages/data.py")
    at.run()
    at.switch_page("pages/threshold.py")
    at.run()
    assert widget(at, "radio", "Rows shown").value == "test"
    assert widget(at, "toggle", "Log-scale scores").value is False


def test_threshold_page_without_labels_explains_the_missing_matrix():
    table = load_sample("machine_sensors.csv")
    prepared = prepare(table, None, seed=0, features=["rpm", "power_kw", "flow_lpm", "motor_temp_c"])
    detector = begin_training(prepared, {"epochs": 2})
    detector.trainer_.run()
    detector.end_fit()
    at = app("pages/threshold.py", (table, prepared, detector, score_all(detector, prepared)))
    assert any("no confusion matrix" in i.value for i in at.info)
    assert not [m for m in at.metric if m.label in ("Rows flagged", "Share flagged")]  # the live control shows them, once
    assert control_data(at)["labelled"] is False
    rules = widget(at, "selectbox", "Jump to a rule").options
    assert "Max F1 on validation rows" not in rules and "99th percentile of the training scores" in rules  # no rule that needs labels
    assert any("the **test rows** it flags" in m.value for m in at.markdown)  # a report to download, of what can be known
    assert widget(at, "selectbox", "Jump to a rule").value == detector.threshold_rule_ == "percentile:99"  # opens on the rule in use


def test_score_page_scores_an_upload_like_the_session_model_and_gives_a_drift_verdict(trained_state):
    at = app("pages/score.py", trained_state)
    raw = (ROOT / "sample_data" / "machine_sensors.csv").read_bytes()
    at.file_uploader(key="score_upload").set_value(("new.csv", raw, "text/csv"))
    at.run()
    assert not at.exception, at.exception
    detector = trained_state[2]
    expected = detector.decision_function(trained_state[0].frame)
    np.testing.assert_array_equal(session(at).run.cache["scored"]["scores"], expected)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Rows scored"] == "3,000"
    assert any("The 200 highest-scoring of the 3,000 rows; the download below has every row." in c.value for c in at.caption)
    assert metrics["Rows flagged"] == f"{int((expected > detector.threshold_).sum()):,}"
    assert any("Kolmogorov" in el.value for el in list(at.success) + list(at.warning))
    widget(at, "toggle", "Check against the label column 'status'").set_value(True)
    at.run()
    assert "Precision" in [m.label for m in at.metric]
    assert any("the table the model was trained on" in w.value for w in at.warning)  # the same bytes: the check flatters it
    at.file_uploader(key="score_upload").set_value(("new.csv", raw.replace(b"\n", b"\r\n"), "text/csv"))  # other bytes, the same rows
    at.run()
    assert not any("the table the model was trained on" in w.value for w in at.warning)


def test_the_review_band_set_on_the_threshold_page_is_counted_and_marked_on_the_score_page(trained_state):
    at = app("pages/threshold.py", trained_state)
    widget(at, "toggle", "Use a review band").set_value(True)
    at.run()
    assert not at.exception, at.exception
    run = session(at).run
    low, threshold = run.review_from, run.threshold.value
    assert low is not None and low < threshold
    at.switch_page("pages/score.py")
    at.run()
    raw = (ROOT / "sample_data" / "machine_sensors.csv").read_bytes()
    at.file_uploader(key="score_upload").set_value(("new.csv", raw, "text/csv"))
    at.run()
    assert not at.exception, at.exception
    scores = session(at).run.cache["scored"]["scores"]
    in_band = int(((scores > low) & (scores <= threshold)).sum())
    assert in_band > 0 and {m.label: m.value for m in at.metric}["Rows for review"] == f"{in_band:,}"
    assert any(f"review from {low:.6g}" in m.value for m in at.sidebar.markdown)  # said beside the threshold wherever it is named
    charts = [c for c in at.get("plotly_chart")]
    assert sum(f"review from {low:.6g}" in c.proto.spec for c in charts) == 2  # on the score histogram and the drift chart
    top = at.dataframe[0].value
    assert "for_review" in top.columns and (top["for_review"] == ((top["anomaly_score"] > low) & (top["anomaly_score"] <= threshold))).all()
    run.set_threshold(low, "by_hand", "by hand", set_on="val")  # the threshold moved to the band's start: no band left
    at.run()
    assert run.review_from is None and "Rows for review" not in [m.label for m in at.metric]
    assert any("starts at or above the threshold now" in c.value for c in at.caption)
    assert any(f"review band idle (it starts at {low:.6g})" in m.value for m in at.sidebar.markdown)
    at.switch_page("pages/threshold.py")
    at.run()
    assert not at.exception, at.exception
    assert any("is now at or below where the band starts" in w.value for w in at.warning)
    assert run.widgets.get("band_low") == low  # said, not moved: the band is back where it was once the threshold is
    run.set_threshold(threshold, "by_hand", "by hand", set_on="val")
    at.run()
    assert run.review_from == low and widget(at, "select_slider", "Lower threshold (review from here)").value == low
    run.set_threshold(low, "by_hand", "by hand", set_on="val")
    at.run()
    at.button(key="band_restart").click()
    at.run()
    assert run.review_from is not None and run.review_from < low  # started below the threshold again, at the default share


def test_score_page_names_the_missing_columns(trained_state):
    at = app("pages/score.py", trained_state)
    at.file_uploader(key="score_upload").set_value(("few.csv", b"rpm,power_kw\n1,2\n3,4\n", "text/csv"))
    at.run()
    assert any("lacks column(s)" in e and "'flow_lpm'" in e for e in errors(at))
    assert "scored" not in session(at).run.cache


def test_a_score_error_goes_with_its_file_and_a_one_class_batch_is_checked_for_what_it_can_say(trained_state):
    at = app("pages/score.py", trained_state)
    at.file_uploader(key="score_upload").set_value(("few.csv", b"rpm,power_kw\n1,2\n3,4\n", "text/csv"))
    at.run()
    assert any("Could not score 'few.csv'" in e for e in errors(at))
    at.switch_page("pages/threshold.py")
    at.run()
    at.switch_page("pages/score.py")
    at.run()  # the uploader is empty again: the error about its earlier file is not shown above another result
    assert not any("few.csv" in e for e in errors(at))
    frame = trained_state[0].frame
    normal_only = frame[frame["status"] == "normal"].head(300).to_csv(index=False).encode()
    at.file_uploader(key="score_upload").set_value(("normal.csv", normal_only, "text/csv"))
    at.run()
    widget(at, "toggle", "Check against the label column 'status'").set_value(True)
    at.run()
    assert not at.exception and not errors(at), errors(at)
    assert any("All 300 labelled rows are normal" in c.value and "of 300 flagged" in c.value for c in at.caption), [c.value for c in at.caption]


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
    run = session(at).run
    assert run.threshold.value == 2.5 and run.origin == "restored"
    assert session(at).prepared.target.label == "status"
    np.testing.assert_array_equal(run.scores["test"].scores, trained_state[3]["test"].scores)
    at.switch_page("pages/threshold.py")
    at.run()
    assert not at.exception and control_data(at)["value"] == 2.5
    assert any("Threshold in use: 2.5 " in c.value for c in at.caption)


def test_a_review_band_saved_with_the_model_comes_back_on_the_threshold_and_score_pages(trained_state):
    from core.bundle import bundle_bytes
    from core.thresholds import Threshold

    _, prepared, detector, scores = trained_state
    low = float(np.quantile(scores["val"].scores, 0.5))  # between the grid's steps: kept where it was saved
    raw = bundle_bytes(detector, prepared.context(), Threshold(detector.threshold_, "manual", "chosen by hand", review_from=low))
    at = app()
    at.file_uploader(key="data_bundle").set_value(("model.zip", raw, "application/zip"))
    at.run()
    assert session(at).run.review_from == low
    at.switch_page("pages/threshold.py")
    at.run()
    assert not at.exception, at.exception
    assert widget(at, "toggle", "Use a review band").value and widget(at, "select_slider", "Lower threshold (review from here)").value == low
    assert session(at).run.review_from == low  # the page drew the band without moving it
    at.switch_page("pages/score.py")
    at.run()
    at.file_uploader(key="score_upload").set_value(("new.csv", (ROOT / "sample_data" / "machine_sensors.csv").read_bytes(), "text/csv"))
    at.run()
    new = session(at).run.cache["scored"]["scores"]
    in_band = int(((new > low) & (new <= detector.threshold_)).sum())
    assert {m.label: m.value for m in at.metric}["Rows for review"] == f"{in_band:,}"


def test_a_damaged_bundle_changes_nothing():
    at = app()
    before = session(at).table.sha256
    at.file_uploader(key="data_bundle").set_value(("model.zip", b"not a zip", "application/zip"))
    at.run()
    assert any("Could not restore 'model" in e and "Nothing in this session was changed" in e for e in errors(at))
    assert session(at).table.sha256 == before and session(at).run is None and session(at).prepared is not None


def test_inspect_page_explains_the_top_row_and_filters_by_outcome(trained_state):
    at = app("pages/inspect.py", trained_state)
    assert not at.exception, at.exception
    scores = trained_state[3]
    top = int(scores["val"].positions[np.argmax(scores["val"].scores)]) + 1
    assert at.subheader[0].value.startswith(f"Row {top}:")
    widget(at, "multiselect", "Outcome").set_value(["FN"])
    at.run()
    assert not at.exception, at.exception
    frame = at.dataframe[0].value
    assert set(frame["outcome"]) <= {"FN"}


def test_inspect_survives_switching_rows_and_searching_a_label(trained_state):
    at = app("pages/inspect.py", trained_state)
    widget(at, "radio", "Rows shown").set_value("test")
    at.run()
    assert not at.exception, at.exception
    widget(at, "text_input", "Search (row number or label)").set_value("overheat")
    at.run()
    assert not at.exception, at.exception
    assert set(at.dataframe[0].value["status"]) == {"overheat"}


def test_contributions_chart_axis_is_the_share_its_bars_are_labelled_with(trained_state):
    at = app("pages/inspect.py", trained_state)
    figure = json.loads(next(c for c in at.get("plotly_chart") if "Which features" in c.proto.spec).proto.spec)
    bar = figure["data"][0]
    assert [f"{v:.0%}" for v in plotly_values(bar["x"])] == list(bar["text"])
    assert figure["layout"]["xaxis"]["tickformat"] == ".0%"


def test_confusion_cell_button_opens_inspect_filtered(trained_state):
    at = app("pages/threshold.py", trained_state)
    at.button(key="thr_inspect_FP").click()
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Inspect"
    assert widget(at, "multiselect", "Outcome").value == ["FP"]


def test_compare_shows_the_model_in_use_and_hands_a_baseline_to_the_other_pages(trained_state):
    at = app("pages/compare.py", trained_state)
    widget(at, "multiselect", "Detectors").set_value(["ae:dense", "iforest", "pca"])
    widget(at, "number_input", "Most epochs per autoencoder").set_value(3)
    at.form_submit_button[0].click()
    at.run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert set(table["detector"]) == {"AE dense", "Isolation Forest", "PCA reconstruction", "dense autoencoder (trained)"}
    assert list(table.loc[table["in use"] != "", "detector"]) == ["dense autoencoder (trained)"]
    assert table["AP (validation)"].is_monotonic_decreasing and table["best"].iloc[0].startswith("★")
    assert any("validation rows" in el.value for el in list(at.info) + list(at.warning))
    widget(at, "selectbox", "Model for the Threshold, Inspect and Score pages").set_value("Isolation Forest")
    at.button(key="compare_use").click()
    at.run()
    assert type(session(at).run.detector).__name__ == "IsolationForestDetector" and session(at).run.origin == "compared"
    at.switch_page("pages/threshold.py")
    at.run()
    assert not at.exception, at.exception
    at.switch_page("pages/inspect.py")
    at.run()
    assert not at.exception and any("baseline" in i.value for i in at.info)
    # a baseline's rows and scores are still there to look at: the top row, with its score as the Threshold page has it
    val = session(at).run.scores["val"]
    top = int(np.argmax(val.scores))
    assert at.subheader[0].value.startswith(f"Row {int(val.positions[top]) + 1}: score {val.scores[top]:.4g}")
    widget(at, "number_input", "…or type a row number (as in the file, 1 to 3,000)").set_value(int(session(at).prepared.split.train[0]) + 1)
    at.run()  # a training row, scored by the baseline itself
    assert not at.exception, at.exception
    assert "not among the shown rows" in " ".join(c.value for c in at.caption)


def test_an_ensemble_chosen_on_compare_is_scored_thresholded_inspected_saved_and_restored(trained_state):
    at = app("pages/compare.py", trained_state)
    widget(at, "multiselect", "Detectors").set_value(["ae:ensemble", "knn"])
    widget(at, "number_input", "Most epochs per autoencoder").set_value(3)
    at.form_submit_button[0].click()
    at.run()
    table = at.dataframe[0].value
    ensemble_row = table[table["detector"] == "AE ensemble"]
    assert ensemble_row["kind"].iloc[0] == "autoencoder" and (ensemble_row["score reads"].iloc[0].startswith("each network: ")
                                                                 or ensemble_row["score reads"].iloc[0].count("; network ") == 2)  # three networks' choices
    widget(at, "selectbox", "Model for the Threshold, Inspect and Score pages").set_value("AE ensemble")
    at.button(key="compare_use").click()
    at.run()
    run = session(at).run
    assert type(run.detector).__name__ == "AutoencoderEnsemble" and run.kind == "ensemble"
    for page in ("pages/threshold.py", "pages/inspect.py", "pages/score.py", "pages/train.py"):
        at.switch_page(page)
        at.run()
        assert not at.exception and not errors(at), (page, at.exception, errors(at))
    at.switch_page("pages/inspect.py")
    at.run()
    captions = " ".join(c.value for c in at.caption)
    assert "the mean of its networks' scores, network 1 " in captions and "network 3 " in captions, captions  # explained, network by network
    assert any(s.value == "The latent space of the first network" for s in at.subheader)
    run.set_threshold(1.5)
    from core.bundle import bundle_bytes

    restored = session(at).restore(bundle_bytes(run.detector, run.bundle_context(), run.threshold), "ensemble.zip")
    assert restored.kind == "ensemble" and restored.threshold.value == 1.5
    np.testing.assert_allclose(restored.scores["test"].scores, run.scores["test"].scores)


def use_isolation_forest_on_compare(at) -> None:
    """On the Compare page: compare Isolation Forest alone, then put it in use."""
    widget(at, "multiselect", "Detectors").set_value(["iforest"])
    at.form_submit_button[0].click()
    at.run()
    widget(at, "selectbox", "Model for the Threshold, Inspect and Score pages").set_value("Isolation Forest")
    at.button(key="compare_use").click()
    at.run()


def test_using_a_baseline_sets_the_trained_model_aside_and_one_click_puts_it_back_as_it_was(trained_state):
    at = app("pages/compare.py", trained_state)
    trained = session(at).run
    trained.set_threshold(1.2345)  # a threshold set by hand must survive the round trip
    use_isolation_forest_on_compare(at)
    assert not at.exception, at.exception
    assert session(at).run.origin == "compared" and session(at).study.set_aside is trained
    # the click's own run already draws the table with the new model in use and the old one set aside
    detectors = set(at.dataframe[0].value["detector"])
    assert "dense autoencoder (trained, set aside)" in detectors
    table = at.dataframe[0].value
    assert list(table.loc[table["in use"] != "", "detector"]) == ["Isolation Forest"]  # the compared model now in use, marked
    assert any(x.value == "Isolation Forest is now the model in use." for x in at.success)
    at.switch_page("pages/train.py")
    at.run()
    at.button(key="train_back").click()
    at.run()
    assert not at.exception, at.exception
    assert session(at).run is trained and trained.threshold.value == 1.2345 and session(at).study.set_aside is None
    assert not any(b.key == "train_back" for b in at.button)
    at.switch_page("pages/compare.py")
    at.run()  # the picker still names Isolation Forest: the page says what is in use instead
    assert "In use now: dense autoencoder, trained here." in [c.value for c in at.caption]
    assert not any("is now the model in use" in x.value for x in at.success)


def test_the_threshold_page_during_a_paused_training_says_so_and_links_back_to_train():
    at = app()
    study = session(at).study
    session(at).start_training(study.begin_training({**study.form_defaults(), "epochs": 2}))
    at.switch_page("pages/threshold.py")
    at.run()
    assert not at.exception, at.exception
    assert any("A training is under way" in i.value for i in at.info) and not any("Train a model first" in i.value for i in at.info)


def test_the_data_page_marks_a_refused_choice_as_the_last_valid_one_and_warns_when_anomalies_are_not_rare():
    at = app()
    widget(at, "multiselect", "Normal class(es)").set_value(["normal", "bearing_fault", "overheat", "sensor_drift"])  # refused
    at.run()
    assert at.error and not at.success
    assert any(i.value.startswith("Still ready to train with the last valid choice") for i in at.info)
    widget(at, "multiselect", "Normal class(es)").set_value(["overheat"])  # 50 normal rows against 2,950 anomalies
    at.run()
    assert not at.exception, at.exception
    assert any("an anomaly detector expects them to be rare" in w.value for w in at.warning)
    assert any(x.value.startswith("Ready to train") for x in at.success)
    widget(at, "multiselect", "Normal class(es)").set_value(["normal"])
    at.run()
    assert not any("expects them to be rare" in w.value for w in at.warning)


def test_a_page_that_stops_early_still_shows_the_session_in_the_sidebar():
    at = app("pages/threshold.py")
    assert any("Train a model first" in i.value for i in at.info)
    sidebar_text = " ".join(m.value for m in at.sidebar.markdown)
    assert "**Dataset**" in sidebar_text and "sensors" in sidebar_text and "**Model**" in sidebar_text


def test_a_new_split_says_which_model_or_training_it_dropped():
    at = app()
    study = session(at).study
    session(at).start_training(study.begin_training({**study.form_defaults(), "epochs": 2}))
    widget(at, "number_input", "Split seed").set_value(7)
    at.run()
    assert not at.exception, at.exception
    notes = [i.value for i in at.info if "was dropped" in i.value]
    assert notes and notes[0].startswith("The training in progress (epoch 0 of 2 done) was dropped")
    widget(at, "number_input", "Split seed").set_value(8)  # nothing was trained on seed 7: nothing to say
    at.run()
    assert not any("was dropped" in i.value for i in at.info)


def test_compare_then_another_sample_leaves_no_comparison_behind(trained_state):
    at = app("pages/compare.py", trained_state)
    widget(at, "multiselect", "Detectors").set_value(["iforest"])
    at.form_submit_button[0].click()
    at.run()
    at.switch_page("pages/data.py")
    at.run()
    at.selectbox(key="data_sample").set_value("heartbeats.csv")
    at.run()
    at.button(key="data_load_sample").click()
    at.run()
    at.switch_page("pages/compare.py")
    at.run()
    assert not at.exception, at.exception
    assert session(at).table.name == "heartbeats.csv" and session(at).run is None
    assert not any(b.key == "compare_use" for b in at.button)
    at.switch_page("pages/inspect.py")
    at.run()
    assert not at.exception and any("Train a model first" in i.value for i in at.info)


def test_random_search_ranks_trials_by_validation_ap():
    at = app("pages/compare.py")
    widget(at, "number_input", "Trials").set_value(2)
    widget(at, "number_input", "Most epochs per trial").set_value(2)
    at.form_submit_button[1].click()
    at.run()
    assert not at.exception, at.exception
    table = at.dataframe[-1].value
    assert len(table) == 2 and table["AP (validation)"].is_monotonic_decreasing


def test_the_best_trial_put_in_use_without_a_comparison_offers_the_trained_model_back(trained_state):
    at = app("pages/compare.py", trained_state)
    trained = session(at).run
    widget(at, "number_input", "Trials").set_value(1)
    widget(at, "number_input", "Most epochs per trial").set_value(1)
    at.form_submit_button[1].click()  # the search, with no comparison run
    at.run()
    at.button(key="search_use").click()
    at.run()
    assert session(at).run.origin == "searched"
    at.button(key="compare_back").click()
    at.run()
    assert not at.exception, at.exception
    assert session(at).run is trained


def test_the_train_page_begins_the_forms_training_ahead_and_the_click_uses_it():
    at = app("pages/train.py")
    widget(at, "number_input", "Code size").set_value(3)
    at.run()
    widget(at, "number_input", "Epochs (most)").set_value(2)  # the length only: the same begun network serves
    at.run()
    study = session(at).study
    ahead = study.ahead
    assert ahead is not None and ahead.params["code_size"] == 3
    ahead.thread.join()
    begun = ahead._detector  # built and traced, waiting for the click
    assert begun is not None
    at.button(key="train_start").click()
    at.run()
    assert not at.exception, at.exception
    assert session(at).run.detector is begun and study.ahead is None and begun.epochs_run_ == 2
    at.run()  # the form still describes the model in use: nothing is begun again
    assert study.ahead is None


def test_the_data_page_begins_the_train_forms_default_training_and_the_train_page_keeps_it():
    at = app()
    study = session(at).study
    ahead = study.ahead
    assert ahead is not None
    assert ahead._known.wait(120)
    at.switch_page("pages/train.py")
    at.run()
    assert not at.exception, at.exception
    assert study.ahead is ahead and ahead.params == study.form_defaults()


def test_a_train_page_reached_before_the_data_pages_training_knows_its_parameters_keeps_it(monkeypatch):
    from ui import session as state

    monkeypatch.setattr(state, "DATA_PAGE_AHEAD_DELAY", 60.0)  # the Data page's training stays pending throughout
    at = app()
    study = session(at).study
    ahead = study.ahead
    try:
        at.switch_page("pages/train.py")
        at.run()
        assert not at.exception, at.exception
        assert ahead.params is None and study.ahead is ahead
    finally:
        ahead.cancel()


def test_a_table_scored_by_a_model_now_set_aside_is_said_to_stay_with_that_model(trained_state):
    at = app("pages/score.py", trained_state)
    raw = (ROOT / "sample_data" / "machine_sensors.csv").read_bytes()
    at.file_uploader(key="score_upload").set_value(("new.csv", raw, "text/csv"))
    at.run()
    trained = session(at).run
    assert trained.cache.get("scored") is not None
    at.switch_page("pages/compare.py")
    at.run()
    use_isolation_forest_on_compare(at)
    at.switch_page("pages/score.py")
    at.run()
    assert not at.exception, at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "'new\\.csv' was scored by dense autoencoder" in captions and "now set aside" in captions  # the name is shown as plain text


def test_a_table_scored_by_a_model_used_from_compare_before_is_said_to_stay_with_that_model(trained_state):
    raw = (ROOT / "sample_data" / "machine_sensors.csv").read_bytes()
    at = app("pages/compare.py", trained_state)
    widget(at, "multiselect", "Detectors").set_value(["iforest", "knn"])
    at.form_submit_button[0].click()
    at.run()

    def use(name: str) -> None:
        at.switch_page("pages/compare.py")
        at.run()
        widget(at, "selectbox", "Model for the Threshold, Inspect and Score pages").set_value(name)
        at.button(key="compare_use").click()
        at.run()
        at.switch_page("pages/score.py")
        at.run()

    use("Isolation Forest")
    at.file_uploader(key="score_upload").set_value(("first.csv", raw, "text/csv"))
    at.run()
    assert session(at).run.cache.get("scored") is not None
    at.file_uploader(key="score_upload").set_value(None)
    use("kNN distance")
    assert not at.exception, at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "'first\\.csv' was scored by Isolation Forest, used from the Compare page before" in captions, captions


def test_the_row_chosen_on_inspect_is_still_chosen_after_visiting_another_page(trained_state):
    at = app("pages/inspect.py", trained_state)
    val = session(at).run.scores["val"]
    chosen = int(val.positions[int(np.argmin(val.scores))]) + 1  # the lowest-scored row: never the top row shown by default
    widget(at, "number_input", "…or type a row number (as in the file, 1 to 3,000)").set_value(chosen)
    at.run()
    assert at.subheader[0].value.startswith(f"Row {chosen}:")
    at.switch_page("pages/threshold.py")
    at.run()
    at.switch_page("pages/inspect.py")
    at.run()
    assert not at.exception, at.exception
    assert at.subheader[0].value.startswith(f"Row {chosen}:"), at.subheader[0].value


def test_each_row_number_typed_on_inspect_is_explained_in_turn(trained_state):
    """The box's key followed the last typed row, so every second number typed went into a box that was replaced."""
    at = app("pages/inspect.py", trained_state)
    for row in (100, 200, 300, 7):
        widget(at, "number_input", "…or type a row number (as in the file, 1 to 3,000)").set_value(row)
        at.run()
        assert not at.exception, at.exception
        assert at.subheader[0].value.startswith(f"Row {row}:"), (row, at.subheader[0].value)


def test_a_row_number_outside_the_file_is_said_in_words_and_the_row_shown_stays(trained_state):
    at = app("pages/inspect.py", trained_state)
    box = "…or type a row number (as in the file, 1 to 3,000)"
    widget(at, "number_input", box).set_value(7)
    at.run()
    for outside in (3001, 0, -4):
        widget(at, "number_input", box).set_value(outside)
        at.run()
        assert not at.exception, at.exception
        assert at.subheader[0].value.startswith("Row 7:"), (outside, at.subheader[0].value)
        assert [w.value for w in at.warning] == [f"There is no row {outside:,}: the file's rows are numbered 1 to 3,000. Still showing row 7."]
    widget(at, "number_input", box).set_value(9)
    at.run()
    assert at.subheader[0].value.startswith("Row 9:") and not at.warning


def test_a_threshold_page_that_stops_early_leaves_the_threshold_in_the_sidebar(trained_state):
    """The Threshold page shows the threshold itself, so the sidebar leaves it out there; a page that stopped before
    showing it (a restored model with no scored rows of this choice) left it nowhere on screen."""
    from core.bundle import bundle_bytes
    from core.thresholds import Threshold

    at = app(None, trained_state)
    _, prepared, detector, _ = trained_state
    session(at).restore(bundle_bytes(detector, prepared.context(), Threshold(2.5, "manual", "by hand")), "model.zip")
    session(at).choose("status", ["normal"], None, 5)  # another split: the model has no scored rows of it
    at.switch_page("pages/threshold.py")
    at.run()
    assert not at.exception and any("no scored rows" in i.value for i in at.info)
    assert any("**Threshold** 2.5 (set by hand)" in m.value for m in at.sidebar.markdown), [m.value for m in at.sidebar.markdown]


def test_the_train_and_compare_pages_give_one_reason_why_conv1d_and_lstm_are_not_offered(trained_state):
    reasons = []
    for page in ("pages/train.py", "pages/compare.py"):
        at = app(page, trained_state)
        found = [c.value[c.value.index("Conv1d and LSTM"):] for c in at.caption if "Conv1d and LSTM" in c.value]
        assert len(found) == 1, page
        reasons.append(found[0])
    assert reasons[0] == reasons[1] and "this table is not one: " in reasons[0]
