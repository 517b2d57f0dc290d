"""Exact k nearest reference codes by blocked matrix products, without a tree.

Codes are short (a few to a few dozen units) and the reference set is capped
(``MAX_REFERENCE_CODES``), so brute force as ``||a||² + ||b||² − 2ab`` is one
BLAS call per block of rows and beats scikit-learn's tree search many times over
at a million rows. Blocks bound the memory: a block holds at most
``BLOCK_CELLS`` squared distances. Results equal scikit-learn's brute-force
search within float tolerance (``tests/test_neighbours.py``).
"""

from __future__ import annotations

import numpy as np

#: Squared distances held at once (float64: 8 bytes each, so 64 MB per block).
BLOCK_CELLS = 8_000_000


def nearest_distances(queries: np.ndarray, reference: np.ndarray, k: int, block_cells: int = BLOCK_CELLS) -> np.ndarray:
    """Euclidean distances from each query row to its ``k`` nearest reference rows, nearest first.

    Computed in float64 from float32 inputs (as scikit-learn does), so the
    expansion's cancellation cannot turn a tiny distance negative or noisy;
    negatives from rounding are clipped to 0.
    """
    reference = np.asarray(reference, dtype=np.float64)
    queries = np.asarray(queries, dtype=np.float64)
    n_ref = len(reference)
    if not 1 <= k <= n_ref:
        raise ValueError(f"k must be between 1 and the {n_ref} reference rows (got {k}).")
    ref_sq = np.einsum("ij,ij->i", reference, reference)
    ref_t = np.ascontiguousarray(reference.T)
    rows = max(1, block_cells // n_ref)
    out = np.empty((len(queries), k))
    for start in range(0, len(queries), rows):
        q = queries[start:start + rows]
        d2 = q @ ref_t
        d2 *= -2.0
        d2 += ref_sq
        d2 += np.einsum("ij,ij->i", q, q)[:, None]
        if k < n_ref:
            idx = np.argpartition(d2, k - 1, axis=1)[:, :k]
            d2 = np.take_along_axis(d2, idx, axis=1)
        d2.sort(axis=1)
        out[start:start + len(q)] = d2[:, :k]
    np.maximum(out, 0.0, out=out)
    return np.sqrt(out, out=out)
