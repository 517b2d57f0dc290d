"""Exact nearest reference codes for many rows at once, by a grid of candidate lists.

Why: on a million rows the k-d tree query of the code-neighbour part was the
largest stage of scoring (tests/benchmarks/test_scoring_speed.py). Codes are 2-4
numbers, so space can be cut into cells: for each cell the tree is asked once for
the ``M`` reference codes nearest its centre, and every row in the cell is
measured against those ``M`` only, in vectorised NumPy.

Exactness: a reference code outside a cell's list is at least ``reach`` (the
``M``-th distance) from the centre ``c``, so at least ``reach - |q - c|`` from a
row ``q``. When the row's ``k``-th nearest candidate is closer than that (with a
margin for rounding), no code outside the list can be among its ``k`` nearest
(a tie would not change the distances). Rows that fail the test (far from the
codes, or in a sparse cell) ask the tree. Squared distances are summed in the
k-d tree's own order (left to right, for up to 4 dimensions), so the distances
are the tree's bit for bit: a row scores the same alone or in any batch.
"""

from __future__ import annotations

import threading
from typing import Any, Optional

import numpy as np

#: Code widths the grid serves (the k-d tree sums squared differences left to right up to 4 dimensions).
GRID_DIMENSIONS = (2, 3, 4)
#: Cells in the grid (filled lazily: only cells that rows fall into are ever asked of the tree).
GRID_CELLS = 1 << 16
#: Reference codes kept per cell.
CELL_CANDIDATES = 24
#: The grid box covers these quantiles of the reference codes along their principal axes; rows beyond
#: fall into the border cells, where the exactness test sends most of them to the tree.
BOX_QUANTILE = 0.005
#: Rows measured at once (arrays of rows × candidates stay in the cache).
QUERY_ROWS = 16_384
#: Relative margin of the exactness test, far above the rounding of the distances it compares.
MARGIN = 1e-9


class CodeGrid:
    """Cells over the reference codes, each with its ``M`` nearest reference codes (see the module docstring)."""

    def __init__(self, reference: np.ndarray, tree: Any, k: int) -> None:
        self.reference = np.asarray(reference, dtype=np.float64)
        self.tree = tree
        self.k = k
        self.m = min(len(self.reference), max(CELL_CANDIDATES, 3 * k))
        self.mean = self.reference.mean(axis=0)
        # Principal axes: a box along them holds correlated codes in far fewer cells.
        _, _, vt = np.linalg.svd(self.reference - self.mean, full_matrices=False)
        self.rotation = vt.T
        z = (self.reference - self.mean) @ self.rotation
        self.low = np.quantile(z, BOX_QUANTILE, axis=0)
        extent = np.maximum(np.quantile(z, 1 - BOX_QUANTILE, axis=0) - self.low, 1e-12)
        dims = len(extent)
        self.side = float((np.prod(extent) / GRID_CELLS) ** (1 / dims))
        while True:  # codes flat along an axis give few cells there: widen the cells until the grid holds at most 2 × GRID_CELLS
            self.shape = tuple(int(n) for n in np.clip(np.ceil(extent / self.side), 1, GRID_CELLS))
            if np.prod(self.shape, dtype=np.float64) <= 2 * GRID_CELLS:
                break
            self.side *= 1.25
        cells = int(np.prod(self.shape))
        self.known = np.zeros(cells, dtype=bool)
        #: Per cell and dimension, the candidates' coordinates, stored as float32 when the codes are
        #: float32 values (exact: float32 widens to float64 without rounding) to halve the memory read.
        exact32 = np.array_equal(self.reference.astype(np.float32).astype(np.float64), self.reference)
        self.coordinates = np.zeros((dims, cells, self.m), dtype=np.float32 if exact32 else np.float64)
        self.reach = np.zeros(cells, dtype=np.float64)
        self.centres = np.zeros((dims, cells), dtype=np.float64)
        self._lock = threading.Lock()

    @classmethod
    def build(cls, reference: np.ndarray, tree: Any, k: int) -> Optional["CodeGrid"]:
        """A grid, or None where it cannot help (other code widths, too few or non-finite codes)."""
        reference = np.asarray(reference, dtype=np.float64)
        if reference.ndim != 2 or reference.shape[1] not in GRID_DIMENSIONS or len(reference) <= 4 * max(k, CELL_CANDIDATES):
            return None
        if not np.isfinite(reference).all():
            return None
        return cls(reference, tree, k)

    def _cells(self, query: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", over="ignore"):
            scaled = ((query - self.mean) @ self.rotation - self.low) / self.side
            scaled = np.nan_to_num(scaled, nan=0.0, posinf=0.0, neginf=0.0)
            index = np.clip(np.floor(scaled), 0, np.asarray(self.shape) - 1).astype(np.intp)
        return np.ravel_multi_index(tuple(index.T), self.shape)

    def _fill(self, cells: np.ndarray) -> None:
        """Ask the tree for the candidates of the cells not yet known (once per cell; threads share the grid)."""
        if self.known[cells].all():
            return
        with self._lock:
            new = np.unique(cells[~self.known[cells]])
            if not len(new):
                return
            index = np.stack(np.unravel_index(new, self.shape), axis=1)
            centres = (self.low + (index + 0.5) * self.side) @ self.rotation.T + self.mean
            distances, neighbours = self.tree.query(centres, k=self.m, workers=-1)  # every core: the other batch waits on the lock
            neighbours = np.asarray(neighbours, dtype=np.intp).reshape(len(new), self.m)
            for j in range(len(self.coordinates)):
                self.coordinates[j, new] = self.reference[neighbours, j]
                self.centres[j, new] = centres[:, j]
            self.reach[new] = np.asarray(distances).reshape(len(new), self.m)[:, -1]
            self.known[new] = True

    def distances(self, query: np.ndarray) -> np.ndarray:
        """Distances from each row of ``query`` (float64) to its ``k`` nearest reference codes, nearest first."""
        out = np.empty((len(query), self.k), dtype=np.float64)
        for start in range(0, len(query), QUERY_ROWS):
            rows = query[start:start + QUERY_ROWS]
            out[start:start + len(rows)] = self._distances(rows)
        return out

    def _distances(self, query: np.ndarray) -> np.ndarray:
        cells = self._cells(query)
        self._fill(cells)
        squared = None
        to_centre = None
        for j in range(len(self.coordinates)):  # the tree's order: ((d0² + d1²) + d2²) + d3²
            diff = np.take(self.coordinates[j], cells, axis=0).astype(np.float64)  # take: rows at once, then widen
            np.subtract(query[:, j:j + 1], diff, out=diff)
            diff *= diff
            squared = diff if squared is None else np.add(squared, diff, out=squared)
            offset = query[:, j] - self.centres[j, cells]
            offset *= offset
            to_centre = offset if to_centre is None else np.add(to_centre, offset, out=to_centre)
        if self.m > self.k:
            squared = np.partition(squared, self.k - 1, axis=1)[:, :self.k]
        squared.sort(axis=1)
        distances = np.sqrt(squared)
        with np.errstate(invalid="ignore"):
            to_centre = np.sqrt(to_centre)
            kth = distances[:, -1]
            reach = self.reach[cells]
            exact = kth + to_centre + MARGIN * (kth + to_centre + reach) < reach
        unsure = np.flatnonzero(~exact)
        if len(unsure):
            distances[unsure] = np.asarray(self.tree.query(query[unsure], k=self.k)[0]).reshape(len(unsure), self.k)
        return distances
