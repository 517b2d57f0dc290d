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


def test_training_rows_above_the_cap_are_a_seeded_sample_said_in_words():
    from core.data import Table
    from core.pipeline import prepare

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=3000), "b": rng.normal(size=3000), "label": np.r_[np.zeros(2700, int), np.ones(300, int)]})
    table = Table(frame, "t.csv", "0" * 64)
    whole = prepare(table, "label", [0], seed=4)
    capped = prepare(table, "label", [0], seed=4, max_train_rows=500)
    again = prepare(table, "label", [0], seed=4, max_train_rows=500)
    assert whole.train_note is None and "500 of the 1,620 normal training rows" in capped.train_note
    assert len(capped.normal_rows("train")) == 500 and np.array_equal(capped.split.train, again.split.train)
    assert np.array_equal(capped.split.val, whole.split.val) and np.array_equal(capped.split.test, whole.split.test)
    assert set(capped.split.train) <= set(whole.split.train)


def test_feature_choice_says_why_each_column_is_left_out_and_validate_refuses_it():
    from core.target import feature_choice, likely_label_columns

    f = pd.DataFrame({"n": range(30), "cat": ["a", "b"] * 15, "id": [f"row{i}" for i in range(30)], "empty": [None] * 30,
                      "const": [1] * 30, "many": [f"v{i % 25}" for i in range(30)], "Status": ["ok", "bad"] * 15})
    choice = feature_choice(f, None)
    assert choice.features == ("n", "cat")
    assert choice.excluded == {"id": "identifier-like: unique text per row", "empty": "all missing (entirely empty)", "const": "constant",
                               "many": "too many text levels (25 > 20)", "Status": "looks like a label column: as a feature it would leak the answer"}
    assert "Status" not in feature_choice(f.assign(y=[0, 1] * 15), "y").features  # a second label column is left out beside the chosen one
    assert likely_label_columns(f) == ["Status"]
    with pytest.raises(DataError, match="'id': identifier-like"):
        validate_features(f, ["n", "id"], None)


def test_feature_choice_on_10000_columns_reads_each_column_once(monkeypatch):
    import core.target as target

    calls = []
    original = target.numeric_columns
    monkeypatch.setattr(target, "numeric_columns", lambda frame: calls.append(1) or original(frame))
    f = pd.DataFrame(np.arange(10_000 * 50, dtype=float).reshape(50, 10_000), columns=[f"c{i}" for i in range(10_000)])
    assert len(target.default_features(f, None)) == 10_000
    assert len(calls) == 1


def test_messages_list_at_most_ten_names():
    from core.preprocess import Preprocessor

    frame = pd.DataFrame({f"c{i}": np.arange(40.0) * (i + 1) for i in range(40)})
    pre = Preprocessor("standard").fit(frame, list(frame.columns))
    with pytest.raises(DataError) as err:
        pre.check_columns(frame[["c0"]])
    assert "… and 29 more" in str(err.value) and str(err.value).count("'c") == 10
    with pytest.raises(DataError, match="… and 30 more"):
        validate_features(frame, [f"x{i}" for i in range(40)], None)


def _sklearn_make_split(n_rows, y, seed):
    """The split as scikit-learn drew it before core.split owned the algorithm (bundles rebuild splits from seeds)."""
    from sklearn.model_selection import train_test_split

    positions = np.arange(n_rows)
    stratify = y if y is not None and np.bincount(y).min() >= 3 else None
    train, rest = train_test_split(positions, test_size=0.4, random_state=seed, stratify=stratify)
    strat_rest = stratify[rest] if stratify is not None and np.bincount(stratify[rest]).min() >= 2 else None
    val, test = train_test_split(rest, test_size=0.5, random_state=seed, stratify=strat_rest)
    return np.sort(train), np.sort(val), np.sort(test)


@pytest.mark.parametrize("n_rows, n_anomalies, seed", [(34, 0, 0), (40, 3, 1), (50, 4, 7), (101, 2, 3), (1000, 100, 3), (3000, 150, 0), (997, 1, 42), (640, 640 - 40, 5)])
@pytest.mark.parametrize("labelled", [True, False])
def test_split_rows_are_the_ones_scikit_learn_drew_for_the_same_seed(n_rows, n_anomalies, seed, labelled):
    y = np.random.default_rng(seed).permutation(np.r_[np.zeros(n_rows - n_anomalies, int), np.ones(n_anomalies, int)]) if labelled else None
    try:
        expected = _sklearn_make_split(n_rows, y, seed)
    except ValueError:
        return
    s = make_split(n_rows, y, seed=seed)
    for ours, theirs in zip((s.train, s.val, s.test), expected):
        assert np.array_equal(ours, theirs)


def test_train_test_split_matches_scikit_learn_in_order_too():
    from hypothesis import given, settings
    from hypothesis import strategies as hs
    from sklearn.model_selection import train_test_split as sk_split

    from core.split import train_test_split

    @settings(max_examples=150, deadline=None)
    @given(n=hs.integers(4, 400), shares=hs.lists(hs.integers(1, 50), min_size=1, max_size=4), seed=hs.integers(0, 2**31 - 1),
           test_size=hs.sampled_from([0.2, 0.25, 0.4, 0.5, 0.7]), stratified=hs.booleans())
    def check(n, shares, seed, test_size, stratified):
        items = np.arange(100, 100 + n)
        y = np.repeat(np.arange(len(shares)), np.maximum(1, np.round(np.array(shares) / sum(shares) * n)).astype(int))[:n]
        y = np.random.default_rng(seed).permutation(np.resize(y, n)) if stratified else None
        try:
            expected = sk_split(items, test_size=test_size, random_state=seed, stratify=y)
        except ValueError as exc:
            with pytest.raises(ValueError, match=str(exc).split(" ")[1]):
                train_test_split(items, test_size, seed, y)
            return
        got = train_test_split(items, test_size, seed, y)
        assert np.array_equal(got[0], expected[0]) and np.array_equal(got[1], expected[1])

    check()


def test_the_guessed_label_is_the_label_like_column_whose_largest_class_holds_most_rows():
    from core.pipeline import guess_label

    rng = np.random.default_rng(0)
    n = 500
    frame = pd.DataFrame({"x": rng.normal(size=n), "CLASS": rng.integers(1, 11, n),
                          "NSP": rng.choice([1, 2, 3], n, p=[0.78, 0.14, 0.08])})
    assert guess_label(frame) == "NSP"  # not CLASS, whose largest class holds ~10 % of the rows
    assert guess_label(frame.drop(columns="NSP")) == "CLASS"
    assert guess_label(frame[["x"]].assign(kind=rng.choice(["a", "b"], n))) == "kind"  # no conventional name: the last column


def test_each_row_is_found_in_the_one_part_of_the_split_that_holds_it():
    from core.split import Split

    split = Split(np.array([0, 3]), np.array([1]), np.array([2, 5]), seed=0)
    assert [split.part_of(p) for p in range(6)] == ["train", "val", "test", "train", None, "test"]
