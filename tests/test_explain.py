import numpy as np
import pytest

from core.explain import explain_row, feature_importance, filter_rows, is_sequence, latent_points, outcomes, per_feature_errors, row_table
from core.registry import fit_on_split
from core.pipeline import load_sample, prepare, score_all


def _trained(sample, label, epochs=8, **params):
    prepared = prepare(load_sample(sample), label, ["normal"], seed=0)
    detector = fit_on_split(prepared, "ae:dense", {"epochs": epochs, **params})
    return detector, prepared, score_all(detector, prepared)


@pytest.fixture(scope="module")
def machine():
    return _trained("machine_sensors.csv", "status")


def test_outcomes_name_each_cell():
    y = np.array([1, 0, 1, 0])
    assert outcomes(y, np.array([1, 1, 0, 0])).tolist() == ["TP", "FP", "FN", "TN"]
    assert outcomes(None, np.array([1, 0])).tolist() == ["flagged", "passed"]


def test_row_table_is_sorted_and_points_to_file_rows(machine):
    detector, prepared, parts = machine
    table = row_table(prepared, parts["val"], detector.threshold_)
    assert table["anomaly_score"].is_monotonic_decreasing
    first = table.iloc[0]
    assert prepared.table.frame["status"].iloc[first["row"] - 1] == first["status"]
    fn = filter_rows(table, ["FN"])
    assert set(fn["outcome"]) <= {"FN"}
    hit = filter_rows(table, list(table["outcome"].unique()), str(first["row"]))
    assert first["row"] in hit["row"].tolist()


def test_explained_row_is_in_file_units_and_its_contributions_sum_to_its_error(machine):
    detector, prepared, parts = machine
    position = int(parts["test"].positions[0])
    ex = explain_row(detector, prepared, position)
    row = prepared.table.frame.iloc[position]
    for name in ("rpm", "motor_temp_c"):
        assert ex.original[name] == pytest.approx(row[name], rel=1e-5)
    assert ex.reconstruction.index.tolist() == ex.original.index.tolist()
    assert ex.contributions.iloc[0] == ex.contributions.max()
    error = detector.reconstruction_error(prepared.table.frame.iloc[[position]])[0]
    assert ex.contributions.sum() == pytest.approx(error, rel=1e-6)


def test_feature_importance_ranks_the_planted_fault_features(machine):
    detector, prepared, parts = machine
    importance = feature_importance(per_feature_errors(detector, parts["test"]), parts["test"].y)
    assert importance["anomalous rows"].is_monotonic_decreasing
    # faults were planted on vibration, temperatures, pressure and flow; rpm carries none
    top = importance.index[:5].tolist()
    assert any(name.startswith(("vibration", "motor_temp", "bearing_temp", "pressure", "flow", "oil")) for name in top)
    assert importance.loc["rpm", "ratio"] < importance["ratio"].max()


def test_latent_points_use_the_code_or_its_pcs_and_subsample(machine):
    detector, prepared, parts = machine
    points = latent_points(detector, prepared, parts["val"], max_points=100)
    assert len(points.frame) == 100 and points.subsampled_from == len(parts["val"].positions)
    assert points.axes[0].startswith("PC 1") and set(points.frame["label"]) <= {"normal", "anomaly"}
    two = _trained("machine_sensors.csv", "status", epochs=2, code_size=2)
    p2 = latent_points(two[0], two[1], two[2]["val"])
    assert p2.axes == ("code 1", "code 2") and p2.subsampled_from is None
    codes = two[0].encode(two[1].rows("val"))
    np.testing.assert_allclose(p2.frame[["x", "y"]].to_numpy(), codes, rtol=1e-6)


def test_signals_are_recognised_as_sequences(machine):
    detector, prepared, _ = machine
    assert not is_sequence(prepared, detector)
    heart = _trained("heartbeats.csv", "rhythm", epochs=1)
    assert is_sequence(heart[1], heart[0])


def test_a_row_explanation_adds_up_its_score_and_names_its_rarest_values_when_the_score_reads_the_tails_part():
    from core import AutoencoderDetector
    from core.explain import explain_row
    from core.pipeline import prepare
    from core.data import Table
    from tests.conftest import planted

    X, y = planted(n_normal=300, n_anomaly=10, seed=6)
    X["label"] = y
    X.loc[0, "f2"] = X["f2"].max() * 10  # far past every value of the column
    prepared = prepare(Table(X, "planted.csv", "0" * 64), "label", ["0"], [c for c in X.columns if c != "label"], seed=0)
    det = AutoencoderDetector(epochs=3, score="combined", random_state=0).fit(prepared.rows("train"), prepared.labels("train"))
    explanation = explain_row(det, prepared, 0)
    assert set(explanation.parts) == {"reconstruction", "latent", "neighbours", "tails"}
    assert abs(sum(explanation.parts.values()) - explanation.score) < 1e-6 * max(1.0, explanation.score)
    name, how = explanation.rarest(1)[0]
    assert name == "f2" and how == "beyond every normal training value"


def test_overall_rarity_per_feature_is_shown_only_when_the_score_reads_the_tails_part_and_finds_the_planted_column():
    from core import AutoencoderDetector
    from core.data import Table
    from core.explain import feature_importance, per_feature_rarity
    from core.pipeline import prepare, score_part
    from tests.conftest import planted

    X, y = planted(n_normal=400, n_anomaly=40, seed=7)
    X.loc[y == 1, "f5"] = X["f5"].max() * 4  # the anomalies lie far out in one column
    X["label"] = y
    prepared = prepare(Table(X, "planted.csv", "0" * 64), "label", ["0"], [c for c in X.columns if c != "label"], seed=0)
    with_tails = AutoencoderDetector(epochs=3, score="combined", random_state=0).fit(prepared.rows("train"), prepared.labels("train"))
    shown = score_part(with_tails, prepared, "test")
    rarity = per_feature_rarity(with_tails, prepared, shown)
    assert list(rarity.columns) == [c for c in X.columns if c != "label"] and len(rarity) == len(shown.positions)
    assert feature_importance(rarity, shown.y).index[0] == "f5"
    plain_loss = AutoencoderDetector(epochs=3, score="reconstruction", random_state=0).fit(prepared.rows("train"), prepared.labels("train"))
    assert per_feature_rarity(plain_loss, prepared, score_part(plain_loss, prepared, "test")) is None
