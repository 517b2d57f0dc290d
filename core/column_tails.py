"""The "tails" part of the autoencoder's score: how far into its own column's tails each value of a row lies
among the normal training values (the rarer side), averaged over the columns.

Distribution-free, like ECOD; unlike ECOD, a value past every normal value keeps rising with its distance, so such
rows still rank among themselves. :func:`column_tails` is the definition; :class:`TailsTable` is how scoring reads it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Quantile levels kept per column for the "tails" part (all values when fewer normal training rows):
#: 1,001 levels gave the same test ROC-AUC as 5,000 sorted values to ±0.001 on the six public sets.
TAIL_LEVELS = 1001
#: At most this many reference numbers in all (fewer levels for a wide table: 2,000,000 float32 are 10.7 MB of
#: base64, so a bundle stays far below core.bundle.MAX_JSON_BYTES even at core.data.MAX_COLUMNS columns).
MAX_TAIL_NUMBERS = 2_000_000
#: Quantiles are read from at most this many rows (a seeded sample beyond; min and max from all of them).
MAX_QUANTILE_ROWS = 100_000


def value_reference(values: np.ndarray, seed: int = 0) -> np.ndarray:
    """Each column's sorted normal training values, or quantiles of them with the exact min and max: TAIL_LEVELS,
    fewer when the table is so wide that the reference would pass MAX_TAIL_NUMBERS (never under 101). Quantiles
    are read from the order statistics of at most MAX_QUANTILE_ROWS rows (a seeded sample beyond): one sort per
    column, where ``np.quantile`` with hundreds of levels took 6.5 s on 1,500 rows × 5,000 columns."""
    values = np.asarray(values, dtype=np.float32)
    levels = min(TAIL_LEVELS, max(101, MAX_TAIL_NUMBERS // max(values.shape[1], 1)))
    if len(values) <= levels:
        return np.sort(values, axis=0)
    sample = values
    if len(values) > MAX_QUANTILE_ROWS:
        sample = values[np.sort(np.random.default_rng(seed).choice(len(values), MAX_QUANTILE_ROWS, replace=False))]
    ordered = np.sort(sample, axis=0).astype(np.float64)
    position = np.linspace(0.0, len(ordered) - 1, levels)
    low = np.floor(position).astype(np.intp)
    high = np.minimum(low + 1, len(ordered) - 1)
    share = (position - low)[:, None]
    reference = ordered[low] * (1 - share) + ordered[high] * share
    reference[0], reference[-1] = values.min(axis=0), values.max(axis=0)
    return reference.astype(np.float32)


def _extension(reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column, the slope of the surprise beyond the largest and beyond the smallest reference value: along the
    line through the 99th (1st) percentile and the extreme (on fewer than 199 rows, a point 2 values in), with a run of at least a tenth of the column's spread
    (1 when the column never varied), so one column cannot outweigh every other."""
    n = len(reference)
    bottom, top = reference[0].astype(np.float64), reference[-1].astype(np.float64)
    spread = top - bottom
    floor = np.where(spread > 0, 0.1 * spread, 1.0)
    share = max(0.01, 2.0 / (n + 1))  # the 99th percentile, or a point at least 2 reference values in on few rows
    rise = np.log((n + 1) * share)  # log(n + 1) − log(1 / share) ≥ log 2: past the extremes the surprise always rises
    inner_low, inner_high = np.quantile(reference, [share, 1.0 - share], axis=0).astype(np.float64)
    return rise / np.maximum(top - inner_high, floor), rise / np.maximum(inner_low - bottom, floor)


def _inside(reference: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Each cell's −log share of its column's reference values at or beyond it on the rarer side (rows × columns;
    no extension past the extremes)."""
    n, n_columns = reference.shape
    surprise = np.log(n + 1) - np.log(np.arange(n + 1) + 1.0)  # −log((count + 1) / (n + 1)) for count = 0 … n
    out = np.empty((len(values), n_columns))
    for j in range(n_columns):
        ref = np.ascontiguousarray(reference[:, j], dtype=np.float32)
        col = np.asarray(values[:, j], dtype=np.float32)
        out[:, j] = np.maximum(surprise[n - np.searchsorted(ref, col, side="left")], surprise[np.searchsorted(ref, col, side="right")])
    return out


def column_tails(reference: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Mean over columns of how far into its column's tails (the rarer side) each value lies among ``reference``.

    Distribution-free like ECOD: −log of the share of reference values at or beyond the value on its rarer side,
    so a value as rare as 1 in 100 normal training values counts ~4.6 in any column, whatever its scale or skew.
    Beyond the extremes it keeps rising (:func:`_extension`), so rows past every normal value rank by how far past.
    This is the exact definition; scoring reads it from :class:`TailsTable`.
    """
    n, n_columns = reference.shape
    part = _inside(reference, values)
    up, down = _extension(reference)
    x = np.asarray(values, dtype=np.float32).astype(np.float64)
    bottom, top = reference[0].astype(np.float64), reference[-1].astype(np.float64)
    part = np.where(x > top, np.log(n + 1) + up * (x - top), part)
    part = np.where(x < bottom, np.log(n + 1) + down * (bottom - x), part)
    return part.mean(axis=1) if n_columns else np.zeros(len(values))


#: Points of the grid on which :class:`TailsTable` tabulates each column's surprise between its extremes, and the
#: most table cells in all (a wide table gets fewer points a column: 8,000,000 float32 are 32 MB).
TAILS_GRID = 4096
MAX_TABLE_CELLS = 8_000_000


@dataclass
class TailsTable:
    """:func:`column_tails` read from a table: each column's surprise at ``TAILS_GRID`` + 1 evenly spaced values
    between its extremes, a value taking the nearest point's. A binary search per cell took 3.5 s on a million
    rows × 23 columns; a table read is a few vectorised passes. Both extremes are grid points, so a column of a
    few repeated values (one-hot, counts at the ends) reads exactly; elsewhere a value may read its neighbour's step,
    which is poor where many reference values crowd into one step: the lowest tenth of a strongly skewed column, and
    a value many rows share inside the range (an integer count), found in review; see the README."""

    bottom: np.ndarray
    step: np.ndarray
    table: np.ndarray  # columns × (points + 1), one row per column, float32
    top: np.ndarray
    log_n: float
    up: np.ndarray
    down: np.ndarray
    points: int = TAILS_GRID
    #: Rows read at once: a chunk's float32 passes stay in cache.
    CHUNK = 16384

    def __post_init__(self) -> None:
        self._scale = (1.0 / self.step).astype(np.float32)
        self._shift = (0.5 - self.bottom / self.step).astype(np.float32)
        self._top32, self._bottom32 = self.top.astype(np.float32), self.bottom.astype(np.float32)

    @classmethod
    def build(cls, reference: np.ndarray) -> "TailsTable":
        bottom, top = reference[0].astype(np.float64), reference[-1].astype(np.float64)
        points = min(TAILS_GRID, max(256, MAX_TABLE_CELLS // max(reference.shape[1], 1) - 1))
        step = np.where(top > bottom, (top - bottom) / points, 1.0)
        grid = bottom[None, :] + np.arange(points + 1)[:, None] * step[None, :]
        grid[-1] = top
        table = _inside(reference, grid.astype(np.float32)).T  # every grid point lies within its column's extremes
        up, down = _extension(reference)
        return cls(bottom, step, table.astype(np.float32), top, float(np.log(len(reference) + 1)), up, down, points)

    def __call__(self, values: np.ndarray) -> np.ndarray:
        """Each row's tails part (mean over its columns), in chunks that stay in cache."""
        values = np.asarray(values)
        if values.shape[1] == 0:
            return np.zeros(len(values))
        out = np.empty(len(values))
        for start in range(0, len(values), self.CHUNK):
            out[start:start + self.CHUNK] = self.per_column(values[start:start + self.CHUNK]).mean(axis=1, dtype=np.float64)
        return out

    def per_column(self, values: np.ndarray) -> np.ndarray:
        """Each cell's surprise in its column (rows × columns, float32 passes in place)."""
        x = np.asarray(values, dtype=np.float32)
        grid = np.multiply(x, self._scale)
        grid += self._shift  # (x − bottom) / step + 0.5: the nearest point, as truncation of a non-negative number is its floor
        low, high = (grid.min(), grid.max()) if grid.size else (0.5, 0.5)
        np.clip(grid, 0, self.points, out=grid)
        index = grid.astype(np.int32)
        index += (np.arange(x.shape[1]) * (self.points + 1)).astype(np.int32)
        part = self.table.ravel()[index]
        if low < 0.5 or high > self.points + 0.5:  # some value may lie beyond its column's normal extremes
            rows, cols = np.nonzero((x > self._top32) | (x < self._bottom32))
            beyond = x[rows, cols].astype(np.float64)
            part[rows, cols] = self.log_n + np.where(beyond > self.top[cols], self.up[cols] * (beyond - self.top[cols]),
                                                     self.down[cols] * (self.bottom[cols] - beyond))
        return part
