import numpy as np

from core.compare import candidates, fit_candidate, random_search, sample_params
from core.pipeline import load_sample, prepare


def test_candidates_offer_sequence_models_only_for_signals():
    machine = candidates(prepare(load_sample("machine_sensors.csv"), "status", ["normal"]))
    heart = candidates(prepare(load_sample("heartbeats.csv"), "rhythm", ["normal"]))
    assert "ae:conv1d" not in machine and "ae:lstm" not in machine and "ae:dense" in machine
    assert "ae:conv1d" in heart and "ae:lstm" in heart
    assert {"iforest", "lof", "pca", "ocsvm"} <= set(machine)


def test_baseline_candidate_is_thresholded_on_validation_rows():
    prepared = prepare(load_sample("machine_sensors.csv"), "status", ["normal"])
    result = fit_candidate(prepared, "pca")
    assert result.detector.threshold_rule_ == "max_f1"
    assert result.parts["test"].curve.roc_auc > 0.5 and result.parts["val"].cell_error is None


def test_sampled_search_parameters_stay_in_the_space():
    rng = np.random.default_rng(0)
    for _ in range(50):
        p = sample_params(rng, n_inputs=13)
        assert p["code_size"] < 13 and p["hidden_sizes"][0] > p["code_size"]
        assert 1e-4 <= p["learning_rate"] <= 1e-2 and p["dropout"] in (0.0, 0.1, 0.2)


def test_random_search_returns_the_best_by_validation_ap():
    prepared = prepare(load_sample("machine_sensors.csv"), "status", ["normal"])
    table, best = random_search(prepared, n_trials=2, epochs=2, seed=1)
    assert best.parts["val"].curve.average_precision == table["AP (validation)"].max()


def test_the_leaderboard_names_a_baseline_that_beats_the_autoencoders_on_validation_rows_and_it_can_be_saved():
    from core.bundle import bundle_bytes, load_bundle
    from core.compare import compare
    from core.leaderboard import Entry, leaderboard

    prepared = prepare(load_sample("machine_sensors.csv"), "status", ["normal"])
    results = compare(prepared, ["ae:dense", "knn", "ecod"], epochs=1)  # one epoch: an undertrained autoencoder
    board = leaderboard([Entry(c.name, c.key.startswith("ae:"), c.parts, float(c.detector.threshold_)) for c in results])
    val_ap = {c.name: c.parts["val"].curve.average_precision for c in results}
    assert board.best == max(val_ap, key=val_ap.get)
    assert (board.best_baseline is not None) == (max(val_ap["kNN distance"], val_ap["ECOD"]) > val_ap["AE dense"])
    best = next(c for c in results if c.name == board.best)
    loaded, _ = load_bundle(bundle_bytes(best.detector))  # whichever won can be saved
    rows = prepared.rows("test")
    assert np.array_equal(loaded.decision_function(rows), best.detector.decision_function(rows))
