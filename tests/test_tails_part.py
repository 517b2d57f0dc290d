"""The "tails" part of the autoencoder's score: each value against its own column's normal training values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import AutoencoderDetector
from core.bundle import bundle_bytes, load_bundle
from core.errors import DataError
from core.column_tails import TAIL_LEVELS, TailsTable, column_tails, value_reference
from tests.conftest import planted


def test_a_value_beyond_every_normal_value_counts_more_the_further_out_it_lies():
    rng = np.random.default_rng(0)
    normal = rng.lognormal(size=(2000, 3))
    reference = value_reference(normal)
    inside = np.median(normal, axis=0, keepdims=True)
    beyond = normal.max(axis=0, keepdims=True) * 1.5
    further = normal.max(axis=0, keepdims=True) * 3
    below = normal.min(axis=0, keepdims=True) - 1
    score = column_tails(reference, np.vstack([inside, beyond, further, below]))
    assert score[0] < 1 < score[1] < score[2]
    assert score[3] > score[0]  # the lower tail counts as well as the upper one


def test_a_column_that_never_varied_cannot_make_one_value_outweigh_every_other():
    normal = np.column_stack([np.zeros(500), np.random.default_rng(1).normal(size=500)])
    score = column_tails(value_reference(normal), np.array([[1.0, 0.0], [0.0, 8.0]]))
    assert np.all(np.isfinite(score)) and score[0] < 20


def test_large_tables_keep_quantiles_with_the_exact_extremes():
    values = np.random.default_rng(2).normal(size=(5000, 2))
    reference = value_reference(values)
    assert reference.shape == (TAIL_LEVELS, 2)
    assert np.allclose(reference[0], values.min(axis=0)) and np.allclose(reference[-1], values.max(axis=0))


def _awkward_columns(rng: np.random.Generator, n: int) -> np.ndarray:
    """Columns where a nearest-point table went wrong (review): strong right and left skew, an integer count many
    rows share, a one-hot column, a constant column, and a plain normal one."""
    return np.column_stack([rng.lognormal(0, 2, n), -rng.lognormal(0, 2, n), rng.poisson(3, n), rng.integers(0, 2, n),
                            np.full(n, 7.0), rng.normal(size=n)]).astype(np.float32)


def test_the_table_scoring_reads_is_the_exact_definition_in_skewed_integer_one_hot_and_constant_columns():
    rng = np.random.default_rng(3)
    reference = value_reference(_awkward_columns(rng, 4000))
    rows = _awkward_columns(rng, 20000) * np.float32(1.3)  # inside, on shared values, and past both extremes
    rows[:50, 4] = [6.0, 7.0, 8.0, 7.0, 7.0] * 10
    table = TailsTable.build(reference)
    assert np.allclose(table.per_column(rows), _cells_exact(reference, rows), rtol=1e-6, atol=1e-5)  # float32 cells
    assert np.allclose(table(rows), column_tails(reference, rows), rtol=1e-6, atol=1e-5)


def _cells_exact(reference: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """column_tails cell by cell: each column alone, so the mean over one column is the cell."""
    return np.column_stack([column_tails(reference[:, [j]], rows[:, [j]]) for j in range(rows.shape[1])])


COLUMN_KINDS = {
    "lognormal": lambda rng, m: rng.lognormal(0, 3, m), "negative": lambda rng, m: -rng.lognormal(0, 2, m),
    "counts": lambda rng, m: rng.poisson(2, m), "few levels": lambda rng, m: rng.integers(0, 3, m) * 2.5,
    "normal": lambda rng, m: rng.normal(size=m), "huge range": lambda rng, m: rng.normal(size=m) * 10.0 ** rng.integers(-3, 30, m),
    "subnormal": lambda rng, m: rng.integers(-3, 4, m) * 1e-45, "constant": lambda rng, m: np.full(m, -2.5),
}


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_the_table_agrees_with_the_definition_on_any_columns(data):
    n = data.draw(st.integers(1, 1500), label="normal rows")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    kinds = data.draw(st.lists(st.sampled_from(sorted(COLUMN_KINDS)), min_size=1, max_size=4), label="columns")
    reference = value_reference(np.column_stack([COLUMN_KINDS[k](rng, n) for k in kinds]))
    odd = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 3e38, -3e38])
    rows = np.column_stack([np.concatenate([COLUMN_KINDS[k](rng, 300), reference[:, j], np.nextafter(reference[:, j], np.float32(np.inf)),
                                            np.nextafter(reference[:, j], np.float32(-np.inf)), odd]) for j, k in enumerate(kinds)]).astype(np.float32)
    with np.errstate(over="ignore"):
        exact = _cells_exact(reference, rows).astype(np.float32)  # cells are float32: past 3.4e38 they read inf
    assert np.allclose(TailsTable.build(reference).per_column(rows), exact, rtol=1e-6, atol=1e-5, equal_nan=True)


@pytest.fixture(scope="module")
def combined():
    X, y = planted(n_normal=300, n_anomaly=10, seed=6)
    return AutoencoderDetector(epochs=4, score="combined", random_state=2).fit(X, y), X


def test_a_detector_scoring_with_the_tails_part_saves_and_loads_with_identical_scores(combined):
    det, X = combined
    assert "tails" in det.score_parts_
    loaded, _ = load_bundle(bundle_bytes(det, {}))
    assert loaded.score_parts_ == det.score_parts_
    assert np.array_equal(loaded.decision_function(X), det.decision_function(X))


def test_a_bundle_from_before_the_tails_part_scores_with_its_three_parts(combined):
    det, X = combined
    state = det.get_state()
    for key in ("value_reference", "tails_scale"):
        state["score_stats"].pop(key)
    state["score_parts"] = ["reconstruction", "latent", "neighbours"]
    old = AutoencoderDetector.from_state(state, det.model_)
    parts = det.score_stats_.scaled_parts(*(lambda p: (p["cell_error"], p["codes"]))(det.score_parts(X)), ("reconstruction", "latent", "neighbours"))
    assert np.allclose(old.decision_function(X), sum(parts.values()))


def test_a_bundle_that_scores_with_tails_but_lost_their_reference_is_refused(combined):
    import json
    import zipfile
    from io import BytesIO

    det, _ = combined
    raw = BytesIO(bundle_bytes(det, {}))
    with zipfile.ZipFile(raw) as z:
        files = {n: z.read(n) for n in z.namelist()}
    name = next(n for n in files if n.endswith(".json"))
    meta = json.loads(files[name])
    meta["detector"]["score_stats"].pop("value_reference")
    files[name] = json.dumps(meta).encode()
    out = BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for n, data in files.items():
            z.writestr(n, data)
    with pytest.raises(DataError, match="tails part"):
        load_bundle(out.getvalue())


def test_a_bundle_keeps_the_reference_values_only_when_the_score_reads_them(combined):
    det, _ = combined
    state = det.get_state()
    assert "value_reference" in state["score_stats"]
    det.score_stats_.parts = ("reconstruction", "latent")
    try:
        assert "value_reference" not in det.get_state()["score_stats"]
    finally:
        det.score_stats_.parts = ("reconstruction", "latent", "neighbours", "tails")


def test_a_wide_table_keeps_fewer_levels_and_a_smaller_table_so_bundles_and_memory_stay_bounded():
    from core.column_tails import MAX_TABLE_CELLS, MAX_TAIL_NUMBERS

    values = np.random.default_rng(4).normal(size=(1500, 5000)).astype(np.float32)
    reference = value_reference(values)
    assert reference.size <= MAX_TAIL_NUMBERS and len(reference) >= 101
    assert np.allclose(reference[0], values.min(axis=0)) and np.allclose(reference[-1], values.max(axis=0))
    table = TailsTable.build(reference)
    assert table.table.size <= MAX_TABLE_CELLS
    rows = values[:50]
    assert np.abs(table(rows) - column_tails(reference, rows)).max() < 1e-5


def test_past_the_extremes_the_part_rises_even_on_few_normal_rows():
    for n in (5, 20, 60, 150, 2000):
        normal = np.random.default_rng(n).normal(size=(n, 1)).astype(np.float32)
        reference = value_reference(normal)
        top = float(normal.max())
        further = np.array([[top], [top + 0.5], [top + 2], [top + 10]], dtype=np.float32)
        for read in (column_tails(reference, further), TailsTable.build(reference)(further)):
            assert np.all(np.diff(read) > 0), (n, read)
