"""Reading the tails part of a million rows: the table against a binary search per cell, in the same process.

Prints seconds and their ratio for columns of several shapes (normal, one-hot, strongly skewed both ways,
counts many rows share), and checks the table gave the same numbers as the search.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from core.column_tails import TailsTable, column_tails, value_reference

pytestmark = pytest.mark.benchmark
N_ROWS = 1_000_000


def _columns(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.column_stack([rng.normal(size=(n, 14)), rng.integers(0, 2, (n, 3)), rng.lognormal(0, 2, (n, 2)),
                            -rng.lognormal(0, 2, (n, 2)), rng.poisson(3, (n, 2))]).astype(np.float32)


def _best_of(rounds: int, fn) -> tuple[float, np.ndarray]:
    best, out = np.inf, None
    for _ in range(rounds):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def test_the_tails_table_against_a_binary_search_per_cell():
    rng = np.random.default_rng(0)
    reference = value_reference(_columns(rng, 20_000))
    rows = _columns(rng, N_ROWS) * np.float32(1.05)  # a few values past the normal extremes
    build, table = _best_of(3, lambda: TailsTable.build(reference))
    read, by_table = _best_of(3, lambda: table(rows))
    search, by_search = _best_of(1, lambda: column_tails(reference, rows))
    print(f"\n{N_ROWS:,} rows × {rows.shape[1]} columns: table built in {build:.3f} s, read in {read:.2f} s; "
          f"binary search per cell {search:.2f} s; ratio {search / read:.1f}")
    assert np.allclose(by_table, by_search, rtol=1e-6, atol=1e-5)
