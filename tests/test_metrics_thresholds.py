import numpy as np
import pytest
from sklearn.metrics import average_precision_score, confusion_matrix, f1_score, matthews_corrcoef, roc_auc_score

from core.errors import DataError
from core.metrics import ThresholdCurve
from core.thresholds import choose_threshold, cost_per_1000


@pytest.fixture
def scored():
    rng = np.random.default_rng(0)
    y = (rng.random(2000) < 0.1).astype(int)
    s = rng.normal(size=2000) + 1.5 * y
    s[:50] = np.round(s[:50], 1)  # some ties
    return s, y


def test_lookup_matches_sklearn_confusion_matrix(scored):
    s, y = scored
    curve = ThresholdCurve(s, y)
    for t in np.quantile(s, [0.0, 0.1, 0.5, 0.9, 0.97]) + [0, 1e-9, 0, 0, 0]:
        c = curve.at(t)
        tn, fp, fn, tp = confusion_matrix(y, (s > t).astype(int), labels=[0, 1]).ravel()
        assert (c.tn, c.fp, c.fn, c.tp) == (tn, fp, fn, tp)
        m = c.metrics()
        assert m["f1"] == pytest.approx(f1_score(y, s > t, zero_division=0))
        assert m["mcc"] == pytest.approx(matthews_corrcoef(y, s > t))


def test_auc_and_average_precision_match_sklearn(scored):
    s, y = scored
    curve = ThresholdCurve(s, y)
    assert curve.roc_auc == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert curve.average_precision == pytest.approx(average_precision_score(y, s), abs=1e-12)


def test_cuts_run_from_flag_all_to_flag_none(scored):
    s, y = scored
    c = ThresholdCurve(s, y).cuts()
    assert c["tp"][0] == y.sum() and c["fp"][0] == (y == 0).sum()
    assert c["tp"][-1] == 0 and c["fp"][-1] == 0
    assert np.all(np.diff(c["threshold"]) > 0)


def test_unlabelled_curve_counts_flags_only():
    c = ThresholdCurve(np.array([1.0, 2.0, 3.0, 4.0])).at(2.5)
    assert c.flagged == 2 and c.tp == 0
    with pytest.raises(ValueError):
        ThresholdCurve(np.array([1.0, 2.0])).roc()


def test_label_free_rules_on_a_hand_case():
    e = np.arange(1, 101, dtype=float)  # 1..100
    assert choose_threshold("percentile:99", e).value == pytest.approx(np.percentile(e, 99))
    assert choose_threshold("mean_std:1", e).value == pytest.approx(e.mean() + e.std())
    assert choose_threshold("max_train", e).value == 100
    assert choose_threshold("contamination:0.1", e).value == pytest.approx(np.percentile(e, 90))
    assert choose_threshold("auto", e).rule == "percentile:99"


def test_label_rules_on_a_hand_case():
    # normals at 1,2,3,4; anomalies at 3.5, 5, 6. Best F1 cuts between 3 and 3.5.
    s = np.array([1, 2, 3, 4, 3.5, 5, 6.0])
    y = np.array([0, 0, 0, 0, 1, 1, 1])
    e = np.array([1.0, 2.0])
    t = choose_threshold("max_f1", e, s, y)
    assert t.value == pytest.approx(3.25) and t.rule == "max_f1"
    assert choose_threshold("auto", e, s, y).rule == "max_f1"
    assert choose_threshold("youden", e, s, y).value == pytest.approx(3.25)
    assert choose_threshold("recall:1", e, s, y).value == pytest.approx(3.25)  # highest threshold still catching all
    assert choose_threshold("precision:1", e, s, y).value == pytest.approx(4.5)  # lowest threshold with no false alarm
    # A miss costs 100, a false alarm 1: flag everything above 3.25 (1 false alarm) rather than miss one.
    assert choose_threshold("cost:1:100", e, s, y).value == pytest.approx(3.25)
    # A false alarm costs 100: cut at 4.5 and miss 3.5 instead.
    assert choose_threshold("cost:100:1", e, s, y).value == pytest.approx(4.5)


def test_cost_curve_by_hand():
    s = np.array([1.0, 2.0, 3.0, 4.0])
    y = np.array([0, 1, 0, 1])
    thresholds, cost = cost_per_1000(ThresholdCurve(s, y), cost_fp=1, cost_fn=10)
    # flag all: FPR 1, FNR 0 -> 1000 * (1 * 1 * 0.5) = 500
    assert cost[0] == pytest.approx(500)
    # flag none: FNR 1 -> 1000 * 10 * 0.5 = 5000
    assert cost[-1] == pytest.approx(5000)


def test_label_rule_without_labels_is_a_data_error():
    with pytest.raises(DataError, match="needs labelled validation rows"):
        choose_threshold("max_f1", np.array([1.0, 2.0]))
    with pytest.raises(DataError, match="Unknown threshold rule"):
        choose_threshold("bogus", np.array([1.0]))


def test_max_f1_prefers_a_broad_plateau_to_a_lone_spike():
    # 2,000 validation rows: one cut has F1 a bit above a long plateau only by luck.
    rng = np.random.default_rng(1)
    normal = rng.normal(0, 1, 1900)
    anomalies = rng.normal(4, 1, 100)
    s = np.r_[normal, anomalies]
    y = np.r_[np.zeros(1900, int), np.ones(100, int)]
    from core.thresholds import smoothed
    curve = ThresholdCurve(s, y)
    f1 = curve.metric_curves()["f1"]
    chosen = choose_threshold("max_f1", np.zeros(3), s, y)
    i = int(np.searchsorted(curve.cuts()["threshold"], chosen.value))
    assert smoothed(f1)[i] == smoothed(f1).max()
    assert f1[i] >= f1.max() - 0.05


def test_a_batch_is_checked_against_its_label_on_the_labelled_rows_and_one_kind_says_what_it_can():
    import pandas as pd

    from core.evaluation import check_against_label

    frame = pd.DataFrame({"status": ["ok", "ok", None, "bad", "ok", "bad"]})
    scores = np.array([0.1, 0.9, 5.0, 2.0, 0.2, 0.5])
    check = check_against_label(frame, "status", ("ok",), scores, 0.8)
    assert (check.confusion.tp, check.confusion.fn, check.confusion.fp, check.confusion.tn) == (1, 1, 1, 2)  # the unlabelled row left out
    assert "Compared on 5 labelled rows" in check.sentence and "1 row(s) with an empty 'status'" in check.sentence
    only_normal = check_against_label(frame.iloc[[0, 1, 4]], "status", ("ok",), scores[[0, 1, 4]], 0.8)
    assert only_normal.confusion is None and "false-alarm rate" in only_normal.sentence and "1 of 3 flagged, 0.333" in only_normal.sentence
    only_bad = check_against_label(frame.iloc[[3, 5]], "status", ("ok",), scores[[3, 5]], 0.8)
    assert only_bad.confusion is None and "recall" in only_bad.sentence and "1 of 2 flagged" in only_bad.sentence
    assert check_against_label(frame.iloc[[2]], "status", ("ok",), scores[[2]], 0.8).sentence.startswith("Every cell of 'status' is empty")
    assert check_against_label(frame.iloc[[0]], "status", ("ok",), scores[[0]], 0.8).sentence.startswith("The one labelled row is normal, so precision")


def test_rows_of_a_class_the_models_table_did_not_have_are_named_and_counted_in_the_label_check():
    import pandas as pd

    from core.evaluation import check_against_label

    frame = pd.DataFrame({"status": ["ok", "bad", "**weird**", "**weird**", "ok"]})
    scores = np.array([0.1, 2.0, 0.2, 3.0, 0.3])
    check = check_against_label(frame, "status", ("ok",), scores, 0.8, classes=["ok", "bad"])
    assert (check.confusion.tp, check.confusion.fn) == (2, 1)  # still anomalies: every class but the normal ones is
    assert "2 row(s) have a class the model's table did not have ('**weird**')" in check.sentence and "1 of them are flagged" in check.sentence
    assert "did not have" not in check_against_label(frame, "status", ("ok",), scores, 0.8).sentence  # classes unknown: nothing said


def test_a_rules_code_is_said_in_words_for_the_sidebar_and_an_unknown_code_is_shown_as_it_is():
    from core.thresholds import rule_words

    assert rule_words("cost:1:10") == "lowest expected cost, false alarm 1, miss 10"
    assert rule_words("percentile:99") == "99th percentile of training scores"
    assert rule_words("manual") == "set by hand" and rule_words("max_f1") == "best F1 on validation rows"
    assert rule_words("something:new") == "something:new"
