import numpy as np
import pandas as pd
import pytest

from core.errors import DataError
from core.split import make_split
from core.target import class_key, default_features, make_target, validate_features


def test_numeric_labels_match_whatever_their_spelling():
    f = pd.DataFrame({"x": range(6), "label": [1.0, 0.0, 1.0, 1.0, 0.0, 1.0]})
    t = make_target(f, "label", ["1"])
    assert t.y.tolist() == [0, 1, 0, 0, 1, 0]  # 1 = anomaly even though the file's 1.0 is normal
    assert class_key(1.0) == class_key("1") == class_key(1)


def test_several_normal_classes_and_text_labels():
    f = pd.DataFrame({"x": range(4), "nsp": ["a", "b", "c", "a"]})
    assert make_target(f, "nsp", ["a", "b"]).y.tolist() == [0, 0, 1, 0]


def test_no_label_means_no_y():
    t = make_target(pd.DataFrame({"x": [1, 2]}), None)
    assert t.y is None and not t.has_labels


@pytest.mark.parametrize(
    "label, normal, fragment",
    [("one", ["a"], "only one class"), ("two", ["zzz"], "does not occur"), ("two", ["a", "b"], "Every class"), ("two", [], "at least one normal"), ("nope", ["a"], "no column")],
)
def test_bad_label_choices_raise(label, normal, fragment):
    f = pd.DataFrame({"x": range(4), "one": ["a"] * 4, "two": ["a", "b", "a", "b"]})
    with pytest.raises(DataError, match=fragment):
        make_target(f, label, normal)


def test_missing_labels_raise():
    f = pd.DataFrame({"x": range(3), "l": ["a", None, "b"]})
    with pytest.raises(DataError, match="empty cell"):
        make_target(f, "l", ["a"])


def test_default_features_skip_label_empty_and_free_text():
    f = pd.DataFrame({"n": range(30), "cat": ["a", "b"] * 15, "id": [f"row{i}" for i in range(30)], "empty": [None] * 30, "label": [0, 1] * 15})
    assert default_features(f, "label") == ["n", "cat"]


def test_feature_validation_errors():
    f = pd.DataFrame({"t": ["a", "b"], "empty": [np.nan, np.nan], "n": [1, 2]})
    with pytest.raises(DataError, match="None of the chosen features is numeric"):
        validate_features(f, ["t"], None)
    with pytest.raises(DataError, match="entirely empty"):
        validate_features(f, ["empty", "n"], None)
    with pytest.raises(DataError, match="No feature"):
        validate_features(f, [], None)


def test_split_is_stratified_seeded_and_disjoint():
    y = np.r_[np.zeros(900, int), np.ones(100, int)]
    s = make_split(1000, y, seed=3)
    assert len(s.train) == 600 and len(s.val) == 200 and len(s.test) == 200
    assert len(np.intersect1d(s.train, s.test)) == 0 and len(np.intersect1d(s.val, s.test)) == 0
    assert y[s.test].sum() == 20 and y[s.val].sum() == 20
    assert np.array_equal(s.test, make_split(1000, y, seed=3).test)
    assert not np.array_equal(s.test, make_split(1000, y, seed=4).test)


def test_too_few_normal_training_rows_raise():
    y = np.r_[np.zeros(10, int), np.ones(40, int)]
    with pytest.raises(DataError, match="normal rows are left"):
        make_split(50, y)
