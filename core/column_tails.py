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


#: Cells of the grid on which :class:`TailsTable` lays out each column between its extremes, and the most table
#: entries in all (a wide table gets fewer cells a column: 8,000,000 float32 are 32 MB).
TAILS_GRID = 16384
MAX_TABLE_CELLS = 8_000_000
#: Square roots a column's grid may be laid out through (0: the values themselves; 3: their eighth root, close to a
#: log scale), the one that leaves the fewest reference values in crowded cells chosen per column.
MAX_ROOTS = 3
#: Largest layout scale: a column spanning a few subnormal numbers would otherwise overflow float32 (its values
#: then share a few cells and are searched).
MAX_SCALE = 1e30


def _rooted(x: np.ndarray, origin: np.ndarray, sign: np.ndarray, roots: np.ndarray) -> np.ndarray:
    """The values the layout spreads evenly (float32): for a column with roots,
    sign · ((sign · (x − origin))⁺)^(1/2^roots); else the value itself (``x`` as given when no column has roots)."""
    x = np.asarray(x, dtype=np.float32)
    skewed = np.flatnonzero(roots)
    if not len(skewed):
        return x
    t = x.copy()
    u = t[:, skewed]
    u -= origin[skewed]
    u *= sign[skewed]
    np.maximum(u, 0, out=u)
    for level in range(1, MAX_ROOTS + 1):
        deeper = np.flatnonzero(roots[skewed] >= level)
        if len(deeper) == len(skewed):
            np.sqrt(u, out=u)
        elif len(deeper):
            u[:, deeper] = np.sqrt(u[:, deeper])
    u *= sign[skewed]
    t[:, skewed] = u
    return t


def _layout(x: np.ndarray, origin: np.ndarray, sign: np.ndarray, roots: np.ndarray, scale: np.ndarray,
            shift: np.ndarray, cells: int) -> np.ndarray:
    """Each value's cell (int32, rows × columns): :func:`_rooted`, then scaled onto 0 … cells − 1. Every step is a
    correctly rounded float32 operation (subtract, multiply, square root, clip, truncate), so the layout is monotone
    in x and the same bit for bit whenever it is computed: the table's cells hold exactly the reference values that
    scoring places there."""
    t = np.multiply(_rooted(x, origin, sign, roots), scale, dtype=np.float32)  # a new array: the caller's x is untouched
    t += shift
    np.clip(t, 0, cells - 1, out=t)
    index = t.astype(np.int32)
    np.maximum(index, 0, out=index)  # a NaN stays NaN through clip and truncates to a negative number: cell 0, searched
    return index


@dataclass
class TailsTable:
    """:func:`column_tails` read exactly from a table, a few vectorised passes where a binary search per cell took
    3.8 s on a million rows × 23 columns.

    Each column is laid out on ``cells`` even cells between its extremes (through square roots for a skewed column,
    so its crowded end spreads out). The surprise only changes at reference values, so a cell holding at most one
    distinct reference value has three possible answers (below it, at it, above it), tabulated; a value reads its
    cell's first reference value and then one of the three. A cell crowded with several distinct values is marked,
    and only values falling in one are searched; so are the answers only values past the extremes can reach, which
    then rise as in :func:`column_tails`. An
    earlier table read the nearest grid point's surprise instead, which a review found wrong by up to 5.5 in a cell
    (the crowded end of a skewed column, an integer value many rows share); this one agrees with the definition
    to float rounding."""

    reference: np.ndarray  # the sorted reference values (levels × columns), searched in crowded cells
    origin: np.ndarray
    sign: np.ndarray
    roots: np.ndarray
    scale: np.ndarray
    shift: np.ndarray
    first: np.ndarray  # columns × cells: each cell's smallest reference value (+inf in an empty cell)
    table: np.ndarray  # columns × cells × 3: the surprise below, at and above it (NaN: crowded, or past the extremes)
    log_n: float
    up: np.ndarray
    down: np.ndarray
    cells: int = TAILS_GRID
    #: Rows read at once: a chunk's passes stay in cache.
    CHUNK = 16384

    def __post_init__(self) -> None:
        self.bottom, self.top = self.reference[0].astype(np.float64), self.reference[-1].astype(np.float64)
        self._bottom32, self._top32 = self.reference[0], self.reference[-1]
        self._offset = (np.arange(self.reference.shape[1]) * self.cells).astype(np.int32)

    @classmethod
    def build(cls, reference: np.ndarray) -> "TailsTable":
        with np.errstate(over="ignore", invalid="ignore"):  # a column spanning more than float32's range lays out at ±inf
            return cls._build(np.ascontiguousarray(reference, dtype=np.float32))

    @classmethod
    def _build(cls, reference: np.ndarray) -> "TailsTable":
        n, n_columns = reference.shape
        cells = min(TAILS_GRID, max(64, MAX_TABLE_CELLS // (4 * max(n_columns, 1))))
        bottom, top = reference[0], reference[-1]
        right_skewed = (top - np.median(reference, axis=0)) >= (np.median(reference, axis=0) - bottom)
        origin = np.where(right_skewed, bottom, top).astype(np.float32)
        sign = np.where(right_skewed, 1.0, -1.0).astype(np.float32)
        best, roots = None, np.zeros(n_columns, dtype=np.int8)
        for level in range(MAX_ROOTS + 1):
            trial = np.full(n_columns, level, dtype=np.int8)
            scale, shift = _fit_scale(reference, origin, sign, trial, cells)
            crowded = _crowded_share(reference, _layout(reference, origin, sign, trial, scale, shift, cells))
            if best is None:
                best = crowded
            else:
                better = crowded < best - 0.01  # a root only where it clearly spreads the crowd
                roots[better], best = level, np.where(better, crowded, best)
        scale, shift = _fit_scale(reference, origin, sign, roots, cells)
        where = _layout(reference, origin, sign, roots, scale, shift, cells)
        surprise = np.log(n + 1) - np.log(np.arange(n + 1) + 1.0)
        first = np.full((n_columns, cells), np.inf, dtype=np.float32)
        table = np.empty((n_columns, cells, 3), dtype=np.float32)
        every = np.arange(cells)
        for j in range(n_columns):
            lo, hi = np.searchsorted(where[:, j], every, side="left"), np.searchsorted(where[:, j], every, side="right")
            column = reference[:, j]
            occupied = hi > lo
            first[j, occupied] = column[lo[occupied]]
            crowded = occupied & (column[np.maximum(hi - 1, 0)] != column[np.minimum(lo, n - 1)])
            for k, (left, right) in enumerate(((lo, lo), (lo, hi), (hi, hi))):
                table[j, :, k] = np.maximum(surprise[n - left], surprise[right])
            table[j, crowded] = np.nan
            table[j, :where[0, j]] = np.nan  # cells only values past the extremes reach (when the scale was capped)
            table[j, where[-1, j] + 1:] = np.nan
        columns = np.arange(n_columns)
        table[columns, where[0], 0] = np.nan  # below the smallest reference value (its cell's first): past the extremes
        table[columns, where[-1], 2] = np.nan  # above the largest (its cell's only value unless the cell is crowded)
        up, down = _extension(reference)
        return cls(reference, origin, sign, roots, scale, shift, first, table, float(np.log(n + 1)), up, down, cells)

    def __call__(self, values: np.ndarray) -> np.ndarray:
        """Each row's tails part (mean over its columns), in chunks that stay in cache."""
        values = np.asarray(values)
        if values.shape[1] == 0:
            return np.zeros(len(values))
        out = np.empty(len(values))
        for start in range(0, len(values), self.CHUNK):
            x = np.asarray(values[start:start + self.CHUNK], dtype=np.float32)
            part = self._read(x)
            mean = part.mean(axis=1, dtype=np.float64)
            if np.isnan(mean).any():  # some value lies in a crowded cell or past the extremes
                mean = self._settle(x, part).mean(axis=1, dtype=np.float64)
            out[start:start + self.CHUNK] = mean
        return out

    def per_column(self, values: np.ndarray) -> np.ndarray:
        """Each cell's surprise in its column (rows × columns)."""
        x = np.asarray(values, dtype=np.float32)
        return self._settle(x, self._read(x))

    def _read(self, x: np.ndarray) -> np.ndarray:
        """Each cell's surprise as tabulated: NaN where the value lies in a crowded cell or past the extremes."""
        with np.errstate(over="ignore", invalid="ignore"):  # a value near float32's limit lays out at ±inf: an end cell
            index = _layout(x, self.origin, self.sign, self.roots, self.scale, self.shift, self.cells)
        index += self._offset
        first = np.take(self.first.ravel(), index)  # np.take: about 40 % faster than fancy indexing here
        index *= 3
        index += x > first
        index += x >= first
        return np.take(self.table.ravel(), index)

    def _settle(self, x: np.ndarray, part: np.ndarray) -> np.ndarray:
        """``part`` with its NaN cells filled in place: past the extremes along :func:`_extension`, in a crowded
        cell by a binary search of the column's reference values."""
        rows, cols = np.nonzero(np.isnan(part))
        if not len(rows):
            return part
        value = x[rows, cols]
        far = (value > self._top32[cols]) | (value < self._bottom32[cols])
        if far.any():
            r, c, v = rows[far], cols[far], value[far].astype(np.float64)
            with np.errstate(over="ignore"):  # past float32's largest number the part reads inf
                part[r, c] = self.log_n + np.where(v > self.top[c], self.up[c] * (v - self.top[c]), self.down[c] * (self.bottom[c] - v))
        rows, cols = rows[~far], cols[~far]
        order = np.argsort(cols, kind="stable")
        rows, cols = rows[order], cols[order]
        starts = np.flatnonzero(np.r_[True, cols[1:] != cols[:-1]]) if len(cols) else np.empty(0, dtype=np.intp)
        for a, b in zip(starts, np.r_[starts[1:], len(cols)]):
            j = cols[a]
            part[rows[a:b], j] = _inside(self.reference[:, j:j + 1], x[rows[a:b], j:j + 1])[:, 0]
        return part


def _fit_scale(reference: np.ndarray, origin: np.ndarray, sign: np.ndarray, roots: np.ndarray,
               cells: int) -> tuple[np.ndarray, np.ndarray]:
    """Scale and shift that map each column's laid-out extremes onto 0 and ``cells`` (a constant column: all 0)."""
    ends = _rooted(reference[[0, -1]], origin, sign, roots).astype(np.float64)
    width = ends[1] - ends[0]
    scale = np.where(width > 0, np.minimum(cells / np.where(width > 0, width, 1.0), MAX_SCALE), 0.0)
    return scale.astype(np.float32), (-ends[0] * scale).astype(np.float32)


def _crowded_share(reference: np.ndarray, where: np.ndarray) -> np.ndarray:
    """Per column, the share of reference values lying in a cell with more than one distinct value."""
    distinct_step = np.diff(reference, axis=0) != 0
    same_cell = np.diff(where, axis=0) == 0
    shared = distinct_step & same_cell  # two neighbouring distinct values in one cell
    touched = np.zeros(reference.shape, dtype=bool)
    touched[1:] |= shared
    touched[:-1] |= shared
    return touched.mean(axis=0)
