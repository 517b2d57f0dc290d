import json
import re
from html.parser import HTMLParser

import numpy as np
import pytest
from plotly.offline import get_plotlyjs

from core.evaluation import Costs, cost_view, evaluate, honest_comparison
from core.registry import fit_on_split
from core.pipeline import load_sample, prepare, score_all
from core.report import report_data, report_html, report_json
from core.thresholds import Threshold


@pytest.fixture(scope="module")
def session():
    prepared = prepare(load_sample("machine_sensors.csv"), "status", ["normal"], seed=0)
    detector = fit_on_split(prepared, "ae:dense", {"epochs": 10})
    return detector, prepared, score_all(detector, prepared)


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.remote, self.tags = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href") and value and re.match(r"^(https?:)?//", value):
                self.remote.append((tag, value))
            if tag == "link":
                self.remote.append((tag, dict(attrs)))


def test_report_parses_states_the_numbers_and_loads_nothing_remote(session):
    detector, prepared, parts = session
    threshold = Threshold(float(detector.threshold_), detector.threshold_rule_, detector.threshold_reason_)
    ev = evaluate(parts, threshold, "test", costs=Costs(1, 20), band_low=threshold.value / 2)
    page = report_html(detector, prepared, parts, ev)
    parser = _Collector()
    parser.feed(page)
    assert parser.remote == []
    assert "script" in parser.tags and parser.tags.count("html") == 1
    assert page.count(get_plotlyjs()[:300]) == 1  # Plotly's JavaScript embedded once
    c = ev.confusion
    for number in (f"{threshold.value:.6g}", f"{c.tn:,}", f"{c.fp:,}", f"{c.fn:,}", f"{c.tp:,}", prepared.table.sha256):
        assert number in page
    recall = ev.intervals["recall"]
    assert f"{recall.value:.3f} (95% CI {recall.low:.3f}–{recall.high:.3f})" in page
    assert "Review band" in page and "Costs" in page and "Validation against test" in page


def test_json_has_the_same_numbers(session):
    detector, prepared, parts = session
    threshold = Threshold(1.5, "manual", "by hand")
    ev = evaluate(parts, threshold, "val")
    data = json.loads(report_json(detector, prepared, ev))
    assert data["threshold"] == {"value": 1.5, "rule": "manual", "reason": "by hand"}
    c = parts["val"].curve.at(1.5)
    assert data["confusion"] == {"tn": c.tn, "fp": c.fp, "fn": c.fn, "tp": c.tp}
    assert data["metrics"]["recall"] == pytest.approx(c.metrics()["recall"])
    assert data["dataset"]["sha256"] == prepared.table.sha256 and data["versions"]["keras"]
    assert report_data(detector, prepared, ev)["evaluated_on"] == "validation rows"


def test_min_cost_threshold_matches_the_rule_and_honest_note(session):
    detector, prepared, parts = session
    view = cost_view(parts, Costs(1, 50), detector.threshold_)
    from core.evaluation import apply_rule
    assert view.best.value == pytest.approx(apply_rule(detector, parts, "cost:1:50").value)
    assert view.cost.min() == pytest.approx(view.cost[view.thresholds.searchsorted(view.best.value)])
    by_hand = honest_comparison(parts, Threshold(1.0, "manual", "x", set_on="test"), "test")
    assert by_hand.tuned_on_shown and "looking at the test rows" in by_hand.sentence
    chosen = honest_comparison(parts, Threshold(detector.threshold_, "max_f1", "x"), "test")
    assert not chosen.tuned_on_shown and "test rows played no part" in chosen.sentence


def test_a_hand_set_threshold_names_the_rows_it_was_set_on_not_the_rows_shown(session):
    _, _, parts = session
    on_val = honest_comparison(parts, Threshold(1.0, "manual", "x", set_on="val"), "test")
    assert "looking at the validation rows" in on_val.sentence and "the test rows are the honest estimate" in on_val.sentence
    assert not on_val.tuned_on_shown
    on_test = honest_comparison(parts, Threshold(1.0, "manual", "x", set_on="test"), "val")
    assert "looking at the test rows" in on_test.sentence and "the validation rows are the honest estimate" in on_test.sentence


@pytest.mark.parametrize("rule", ["gesd:0.05", "mad:3", "iqr:1.5"])
def test_an_outlier_test_on_the_validation_scores_names_them_as_the_rows_that_set_it(session, rule):
    """Not 'comes from normal training rows alone': the outlier tests judge the validation rows' scores (without labels)."""
    from core.evaluation import apply_rule

    detector, _, parts = session
    chosen = apply_rule(detector, parts, rule)
    assert chosen.set_on == "val"
    comparison = honest_comparison(parts, chosen, "val")
    assert "computed from the scores of the validation rows" in comparison.sentence and "the test rows are the honest estimate" in comparison.sentence
    assert "training rows alone" not in comparison.sentence and comparison.tuned_on_shown


def test_whether_the_tuned_rows_flatter_a_hand_set_threshold_is_read_from_their_numbers(session):
    _, _, parts = session
    verdicts = set()
    for t in np.quantile(parts["val"].scores, np.linspace(0.5, 0.995, 25)):
        comparison = honest_comparison(parts, Threshold(float(t), "manual", "x", set_on="val"), "val")
        flattered = round(comparison.validation["f1"], 3) - round(comparison.test["f1"], 3) > 0.005  # the figures the sentence shows
        assert ("here they do," in comparison.sentence) == flattered and ("here they do not" in comparison.sentence) != flattered
        verdicts.add(flattered)
    assert len(verdicts) == 2  # both verdicts were met on the way


def test_report_lists_only_the_parameters_its_architecture_reads(session):
    detector, prepared, parts = session
    threshold = Threshold(float(detector.threshold_), detector.threshold_rule_, detector.threshold_reason_)
    model = report_data(detector, prepared, evaluate(parts, threshold, "test"))["model"]
    assert detector.architecture == "dense"
    assert "dropout" in model and "hidden_sizes_used" in model
    assert not {"beta", "sparsity", "noise_std"} & set(model)


def test_the_html_report_shows_model_floats_to_six_digits_and_the_json_keeps_them_whole(session):
    detector, prepared, parts = session
    threshold = Threshold(float(detector.threshold_), detector.threshold_rule_, detector.threshold_reason_)
    ev = evaluate(parts, threshold, "test")
    seconds = report_data(detector, prepared, ev)["model"]["fit_seconds"]
    assert seconds == detector.fit_seconds_
    page = report_html(detector, prepared, parts, ev)
    assert f"<td>{seconds:.6g}</td>" in page and (f"<td>{seconds}</td>" not in page or str(seconds) == f"{seconds:.6g}")


def test_report_says_which_rows_the_band_and_costs_come_from(session):
    detector, prepared, parts = session
    threshold = Threshold(float(detector.threshold_), detector.threshold_rule_, detector.threshold_reason_)
    ev = evaluate(parts, threshold, "test", costs=Costs(1, 20), band_low=threshold.value / 2)
    page = report_html(detector, prepared, parts, ev)
    assert "Review band (on the test rows)" in page and "Costs (on the test rows)" in page
    data = report_data(detector, prepared, ev)
    assert data["review_band"]["rows"] == "test rows" and data["costs"]["rows"] == "test rows"


def test_report_of_a_baseline_has_no_training_history():
    from core.compare import fit_candidate

    prepared = prepare(load_sample("machine_sensors.csv"), "status", ["normal"], seed=0)
    result = fit_candidate(prepared, "iforest")
    threshold = Threshold(float(result.detector.threshold_), result.detector.threshold_rule_, result.detector.threshold_reason_)
    ev = evaluate(result.parts, threshold, "test")
    data = report_data(result.detector, prepared, ev)
    assert data["history"] is None and "fit_seconds" in data["model"]
    assert "Anomaly Lab report" in report_html(result.detector, prepared, result.parts, ev)


def test_the_report_of_an_ensemble_names_each_network_its_seed_epochs_parts_and_scale():
    from core.compare import fit_candidate

    prepared = prepare(load_sample("machine_sensors.csv"), "status", ["normal"], seed=0)
    result = fit_candidate(prepared, "ae:ensemble", epochs=2)
    det = result.detector
    ev = evaluate(result.parts, Threshold(float(det.threshold_), det.threshold_rule_, det.threshold_reason_), "test")
    data = json.loads(report_json(det, prepared, ev))
    networks = data["model"]["networks"]
    assert [n["random_state"] for n in networks] == [0, 1000, 2000] and [n["epochs_run"] for n in networks] == [2, 2, 2]
    assert [n["scale"] for n in networks] == pytest.approx(det.scales_) and all(n["score_parts_used"] for n in networks)
    assert "mean of 3 dense autoencoders" in data["model"]["anomaly_score"]
    assert len(data["history"]) == 3 and all(len(h["loss"]) == 2 for h in data["history"])  # each network's losses
    page = report_html(det, prepared, result.parts, ev)
    assert "1: random_state 0, epochs_run 2" in page and "3: random_state 2000" in page  # one line a network, not a Python list
    assert all(f"Network {i} of 3: loss per epoch" in page for i in (1, 2, 3))


def test_a_report_without_labels_states_the_rows_flagged_and_no_confusion_matrix():
    """Without a label nobody knows which rows are anomalies: a confusion matrix of all-normal rows would be invented."""
    prepared = prepare(load_sample("machine_sensors.csv"), None, seed=0)
    detector = fit_on_split(prepared, "ae:dense", {"epochs": 2})
    parts = score_all(detector, prepared)
    ev = evaluate(parts, detector.fitted_threshold, "test")
    data = report_data(detector, prepared, ev)
    flagged = int((parts["test"].scores > detector.threshold_).sum())
    assert data["flagged"] == {"rows": flagged, "of": len(parts["test"].scores), "share": flagged / len(parts["test"].scores)}
    assert not {"confusion", "metrics", "roc_auc", "average_precision"} & set(data)
    page = report_html(detector, prepared, parts, ev)
    assert f"{flagged:,} of {len(parts['test'].scores):,}" in page and "no confusion matrix" in page and "actual normal" not in page
