"""The grid of candidate codes answers exactly what the k-d tree (and brute force) answers, bit for bit."""

import numpy as np
import pytest
from scipy.spatial import cKDTree

import core.code_grid as code_grid
from core.code_grid import CodeGrid
from core.score_stats import GRID_MIN_ROWS


def _brute_force(reference: np.ndarray, query: np.ndarray, k: int) -> np.ndarray:
    squared = ((query[:, None, :] - reference[None, :, :]) ** 2).sum(axis=2)
    return np.sqrt(np.sort(squared, axis=1)[:, :k])


def _codes(rng, n: int, dims: int) -> np.ndarray:
    """Correlated float32 codes, as an encoder gives them."""
    return (rng.normal(size=(n, dims)) @ rng.normal(size=(dims, dims))).astype(np.float32).astype(np.float64)


@pytest.mark.parametrize("dims", [2, 3, 4])
def test_grid_distances_equal_the_trees_bit_for_bit_and_brute_force(dims):
    rng = np.random.default_rng(dims)
    reference = _codes(rng, 3000, dims)
    query = np.concatenate([_codes(rng, 20_000, dims), 40 * _codes(rng, 200, dims)])  # far rows: the tree answers
    tree = cKDTree(reference)
    grid = CodeGrid.build(reference, tree, 5)
    assert grid is not None
    got = grid.distances(query)
    assert np.array_equal(got, tree.query(query, k=5)[0])
    assert np.allclose(got, _brute_force(reference, query, 5), rtol=1e-12, atol=1e-12)


def test_grid_is_exact_with_duplicate_codes_and_ties():
    """Codes on an integer lattice, each present three times: many rows tie at the k-th distance."""
    rng = np.random.default_rng(1)
    lattice = rng.integers(-6, 7, size=(400, 3)).astype(np.float64)
    reference = np.concatenate([lattice, lattice, lattice])
    query = np.concatenate([lattice, rng.integers(-8, 9, size=(5000, 3)).astype(np.float64) + 0.5, rng.normal(0, 4, (5000, 3))])
    tree = cKDTree(reference)
    grid = CodeGrid.build(reference, tree, 5)
    got = grid.distances(query)
    assert np.array_equal(got, tree.query(query, k=5)[0])
    assert np.allclose(got, _brute_force(reference, query, 5), rtol=1e-12, atol=1e-12)
    assert (got[: len(lattice), :3] == 0).all()  # a code on a reference code: its three copies at distance 0


def test_rows_the_grid_cannot_vouch_for_go_to_the_tree(monkeypatch):
    """With a grid too coarse to vouch for any row, every answer still comes out exact (from the tree)."""
    monkeypatch.setattr(code_grid, "GRID_CELLS", 1)
    rng = np.random.default_rng(2)
    reference = _codes(rng, 2000, 3)
    query = _codes(rng, 3000, 3)
    tree = cKDTree(reference)
    asked = []
    original = tree.query

    class Spy:
        def query(self, x, k, **options):
            asked.append(len(x))
            return original(x, k=k, **options)

    grid = CodeGrid.build(reference, Spy(), 5)
    assert np.array_equal(grid.distances(query), original(query, k=5)[0])
    assert sum(asked) > 1  # the cell's candidates, then the rows it could not vouch for


def test_missing_and_infinite_codes_fail_as_the_tree_fails():
    rng = np.random.default_rng(3)
    reference = _codes(rng, 2000, 3)
    tree = cKDTree(reference)
    grid = CodeGrid.build(reference, tree, 5)
    for bad in (np.nan, np.inf, -np.inf):
        query = _codes(rng, 100, 3)
        query[7, 1] = bad
        with pytest.raises(ValueError, match="finite"):
            tree.query(query, k=5)
        with pytest.raises(ValueError, match="finite"):
            grid.distances(query)


@pytest.mark.parametrize("scales", [(1.0, 1e-9, 1e-5), (1.0, 0.0, 0.0), (1.0, 1.0, 0.0, 1e-7)])
def test_codes_flat_along_some_axes_keep_the_grid_small_and_exact(scales):
    rng = np.random.default_rng(6)
    reference = rng.normal(size=(3000, len(scales))) * np.asarray(scales)
    query = rng.normal(size=(5000, len(scales))) * np.asarray(scales)
    tree = cKDTree(reference)
    grid = CodeGrid.build(reference, tree, 5)
    assert len(grid.known) <= 2 * code_grid.GRID_CELLS
    assert np.array_equal(grid.distances(query), tree.query(query, k=5)[0])


def test_other_code_widths_and_tiny_references_use_the_tree_alone():
    rng = np.random.default_rng(4)
    assert CodeGrid.build(_codes(rng, 2000, 1), None, 5) is None
    assert CodeGrid.build(_codes(rng, 2000, 5), None, 5) is None
    assert CodeGrid.build(_codes(rng, 50, 3), None, 5) is None


def test_a_row_scores_the_same_alone_and_in_a_batch_large_enough_for_the_grid(fitted):
    det, X, _ = fitted
    rng = np.random.default_rng(5)
    big = X.sample(GRID_MIN_ROWS + 100, replace=True, random_state=0).reset_index(drop=True)
    big = big + rng.normal(0, 0.3, big.shape)
    in_batch = det.decision_function(big)
    assert det.score_stats_._grid  # the batch was measured on the grid
    alone = np.array([det.decision_function(big.iloc[[i]])[0] for i in range(0, len(big), 97)])
    assert np.array_equal(alone, in_batch[::97])
