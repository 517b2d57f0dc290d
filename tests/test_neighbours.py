"""The blocked nearest-code search equals brute force and scikit-learn's search."""

import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from core.neighbours import nearest_distances


def _codes(seed: int, n: int, d: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)


@pytest.mark.parametrize("k", [1, 5, 40])
def test_nearest_distances_equal_brute_force_across_block_edges(k):
    queries, reference = _codes(0, 257, 6), _codes(1, 40, 6)
    brute = np.sort(np.sqrt(((queries[:, None, :].astype(np.float64) - reference[None].astype(np.float64)) ** 2).sum(-1)), axis=1)[:, :k]
    # 7 rows per block: many blocks and a ragged last one
    np.testing.assert_allclose(nearest_distances(queries, reference, k, block_cells=7 * 40), brute, rtol=1e-9, atol=1e-9)


def test_nearest_distances_equal_sklearn_nearest_neighbors():
    queries, reference = _codes(2, 3000, 8), _codes(3, 5000, 8)
    expected, _ = NearestNeighbors(n_neighbors=5).fit(reference).kneighbors(queries)
    np.testing.assert_allclose(nearest_distances(queries, reference, 5), expected, rtol=1e-6, atol=1e-6)


def test_a_reference_row_is_its_own_nearest_at_distance_zero():
    reference = _codes(4, 300, 4) * 1000  # large norms: the expansion must not leave a negative or noisy self-distance
    distances = nearest_distances(reference, reference, 2)
    assert np.all(distances[:, 0] < 1e-3) and np.all(distances[:, 1] > distances[:, 0])


def test_k_outside_the_reference_rows_is_refused():
    with pytest.raises(ValueError, match="between 1 and the 3 reference rows"):
        nearest_distances(_codes(5, 4, 2), _codes(6, 3, 2), 4)
