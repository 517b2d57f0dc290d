"""The statistics behind the autoencoder's combined score, one small object.

Four parts, each scaled to average 1 on normal training rows: per-column
reconstruction error (each cell divided by its column's mean error), the
Mahalanobis distance of the code, the mean distance to the nearest normal
training codes, and how far into its own column's tails each value lies among
the normal training values. Which parts are added is ``parts``; ``select``
chooses them on labelled validation rows, but only when those hold enough
anomalies for the choice to mean something.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

import numpy as np

from core.column_tails import TailsTable, value_reference

#: The parts a combined score adds. "tails" reads the row's own values, not the network: a value far out in its
#: column's tail but along the normal pattern is rebuilt well by a network that extrapolates, and its code sits
#: among the extreme normal codes, so the three network parts can miss it (README, "The anomaly score").
SCORE_PARTS = ("reconstruction", "latent", "neighbours", "tails")
#: The parts of bundles saved before "tails" existed (and of detectors without its reference).
NETWORK_PARTS = SCORE_PARTS[:3]
#: Non-empty subsets of the parts, the largest first (all parts kept on ties).
PART_SUBSETS = tuple(sorted(
    (tuple(p for p, keep in zip(SCORE_PARTS, mask) if keep) for mask in np.ndindex(*(2,) * len(SCORE_PARTS)) if any(mask)),
    key=lambda subset: -len(subset),
))
#: The latent covariance is shrunk towards its diagonal by this much, so a
#: nearly flat direction of the code cannot make every distance explode.
LATENT_RIDGE = 1e-3
#: Normal training codes kept as neighbours (a seeded sample beyond this), and how many a row is measured against.
MAX_REFERENCE_CODES = 5000
CODE_NEIGHBOURS = 5
#: Rows from which the neighbour part is measured with the grid of :mod:`core.code_grid` (same distances, cheaper in bulk).
GRID_MIN_ROWS = 4096
#: ``select`` keeps all parts unless the validation rows hold at least this many anomalies
#: (1 = any; a larger floor is measured in tests/benchmarks/test_quality.py).
MIN_SELECTION_ANOMALIES = 1
#: How a row's cell errors become the reconstruction part: "mean" (each divided by its column's mean
#: training error, averaged) or "tail" (each one's −log survival among its column's training errors, averaged).
RECONSTRUCTION_PARTS = ("mean", "tail")


def tail_surprise(reference: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Mean over columns of −log of each cell error's survival among that column's sorted reference errors.

    An error as rare as 1 in 100 training errors counts ~4.6 in any column, whatever its scale or tail;
    beyond the largest reference error the survival falls exponentially, along the line through the
    99th percentile and the largest, so rows past every training error still rank by how far past.
    """
    n = len(reference)
    out = np.zeros(len(cells))
    for j in range(reference.shape[1]):
        ref = reference[:, j].astype(np.float64)
        col = cells[:, j].astype(np.float64)
        above = n - np.searchsorted(ref, col, side="left")
        q99, top = np.quantile(ref, 0.99), ref[-1]
        slope = (np.log(n + 1) - np.log(100)) / max(top - q99, 1e-12)
        out += np.where(col > top, np.log(n + 1) + slope * (col - top), -np.log((above + 1) / (n + 1)))
    return out / reference.shape[1]


def encode_array(array: np.ndarray) -> dict[str, Any]:
    """A float32 matrix as base64 (a quarter the size of a JSON list of numbers)."""
    data = np.ascontiguousarray(array, dtype="<f4")
    return {"shape": list(data.shape), "float32_base64": base64.b64encode(data.tobytes()).decode("ascii")}


def decode_array(stored: dict[str, Any]) -> np.ndarray:
    raw = base64.b64decode(stored["float32_base64"].encode("ascii"), validate=True)
    return np.frombuffer(raw, dtype="<f4").reshape(stored["shape"]).astype(np.float32)


def _code_tree(reference_codes: np.ndarray):
    """A k-d tree over the reference codes.

    SciPy's ``cKDTree`` answers the same exact Euclidean distances as scikit-learn's
    ``NearestNeighbors`` did (both in float64; equal in tests/test_detector.py), about
    twice as fast on one core and on every core with ``workers=-1``: on a million rows
    the neighbour part was the largest stage of scoring (tests/benchmarks/test_scoring_speed.py).
    Exact distances by blocked matrix products were measured slower at code sizes 3-4.
    """
    from scipy.spatial import cKDTree

    return cKDTree(np.asarray(reference_codes, dtype=np.float64))


def _nearest_distances(tree, codes: np.ndarray, k: int) -> np.ndarray:
    """Distances from each code (read as float32, as stored) to its ``k`` nearest reference codes, nearest first."""
    query = np.asarray(codes, dtype=np.float32).astype(np.float64)
    distances, _ = tree.query(query, k=k, workers=-1)
    return distances.reshape(len(query), k)


@dataclass
class ScoreStats:
    """Scales, code statistics, reference codes and the chosen parts of a combined score."""

    cell_error_scale: np.ndarray
    latent_mean: np.ndarray
    latent_precision: np.ndarray
    latent_scale: float
    reference_codes: Optional[np.ndarray] = None
    neighbour_scale: float = 1.0
    parts: tuple[str, ...] = NETWORK_PARTS
    selection: dict[str, float] = field(default_factory=dict)
    cell_reference: Optional[np.ndarray] = None  # "tail": each column's sorted training cell errors
    tail_scale: float = 1.0
    value_reference: Optional[np.ndarray] = None  # "tails" part: each column's sorted normal training values (or quantiles)
    tails_scale: float = 1.0
    _index: Any = field(default=None, repr=False, compare=False)
    _grid: Any = field(default=None, repr=False, compare=False)
    _tails: Optional[TailsTable] = field(default=None, repr=False, compare=False)

    @classmethod
    def fit(cls, cells: np.ndarray, codes: np.ndarray, seed: int, reconstruction: str = "mean",
            values: Optional[np.ndarray] = None) -> tuple["ScoreStats", np.ndarray]:
        """Statistics from normal training rows, and their own neighbour distances (self excluded).

        ``reconstruction="tail"`` keeps the sorted cell errors of the same rows kept as reference codes.
        ``values``: the rows as the network reads them, for the "tails" part (without them it is not offered).
        """
        mean = codes.mean(axis=0)
        cov = np.atleast_2d(np.cov(codes, rowvar=False))
        cov = (1 - LATENT_RIDGE) * cov + LATENT_RIDGE * np.diag(np.diag(cov)) + 1e-12 * np.eye(len(mean))
        stats = cls(np.maximum(cells.mean(axis=0), 1e-12), mean, np.linalg.pinv(cov), 1.0)
        stats.latent_scale = float(stats.latent_distance(codes).mean()) or 1.0
        rng = np.random.default_rng(seed)
        keep = np.arange(len(codes)) if len(codes) <= MAX_REFERENCE_CODES else np.sort(rng.choice(len(codes), MAX_REFERENCE_CODES, replace=False))
        stats.reference_codes = codes[keep].astype(np.float32)
        own = stats._training_neighbour_distance(codes, keep)
        stats.neighbour_scale = float(own.mean()) or 1.0
        if reconstruction == "tail":
            stats.cell_reference = np.sort(cells[keep], axis=0).astype(np.float32)
            stats.tail_scale = float(tail_surprise(stats.cell_reference, cells).mean()) or 1.0
        if values is not None and values.shape[1] > 0:
            stats.value_reference = value_reference(values, seed)
            stats.tails_scale = float(stats.tails(values).mean()) or 1.0
        stats.parts = stats.available_parts
        return stats, own

    @property
    def tails_table(self) -> TailsTable:
        """The table the tails part is read from, built from the reference values on first use."""
        if self._tails is None:
            self._tails = TailsTable.build(self.value_reference)
        return self._tails

    def tails(self, values: np.ndarray) -> np.ndarray:
        """The unscaled tails part of each row."""
        return self.tails_table(values)

    @property
    def available_parts(self) -> tuple[str, ...]:
        """Every part these statistics can compute ("tails" needs its reference values)."""
        return SCORE_PARTS if self.value_reference is not None else NETWORK_PARTS

    def latent_distance(self, codes: np.ndarray) -> np.ndarray:
        d = codes.astype(np.float64) - self.latent_mean
        return np.einsum("ij,jk,ik->i", d, self.latent_precision, d)

    def neighbour_distance(self, codes: np.ndarray) -> np.ndarray:
        """Mean distance from each code to its nearest normal training codes."""
        if len(codes) == 0:
            return np.empty(0)
        if self._index is None:
            self._index = _code_tree(self.reference_codes)
        k = min(CODE_NEIGHBOURS, len(self.reference_codes))
        if len(codes) >= GRID_MIN_ROWS:
            if self._grid is None:
                from core.code_grid import CodeGrid

                self._grid = CodeGrid.build(self.reference_codes, self._index, k) or False
            if self._grid:
                return self._grid.distances(np.asarray(codes, dtype=np.float32).astype(np.float64)).mean(axis=1)
        return _nearest_distances(self._index, codes, k).mean(axis=1)

    def _training_neighbour_distance(self, codes: np.ndarray, in_reference: np.ndarray) -> np.ndarray:
        """As :meth:`neighbour_distance`, but a training row kept as a neighbour does not count itself."""
        k = min(CODE_NEIGHBOURS, max(len(self.reference_codes) - 1, 1))
        distances = _nearest_distances(_code_tree(self.reference_codes), codes, min(k + 1, len(self.reference_codes)))
        is_reference = np.zeros(len(codes), bool)
        is_reference[in_reference] = True
        own_dropped = distances[:, 1:k + 1] if distances.shape[1] > 1 else distances
        return np.where(is_reference, own_dropped.mean(axis=1), distances[:, :k].mean(axis=1))

    def scaled_parts(self, cells: np.ndarray, codes: np.ndarray, parts: Sequence[str], neighbour: Optional[np.ndarray] = None,
                     values: Optional[np.ndarray] = None, tails: Optional[np.ndarray] = None) -> dict[str, np.ndarray]:
        """Each requested part, scaled to average 1 on normal training rows (``values``: the rows the network read;
        ``neighbour`` and ``tails``: those unscaled parts where the caller already has them)."""
        out = {}
        if "reconstruction" in parts and self.cell_reference is not None:
            out["reconstruction"] = tail_surprise(self.cell_reference, cells) / self.tail_scale
        elif "reconstruction" in parts:
            out["reconstruction"] = (cells / self.cell_error_scale).mean(axis=1)
        if "latent" in parts:
            out["latent"] = self.latent_distance(codes) / self.latent_scale
        if "neighbours" in parts:
            out["neighbours"] = (self.neighbour_distance(codes) if neighbour is None else neighbour) / self.neighbour_scale
        if "tails" in parts:
            if self.value_reference is None or (values is None and tails is None):
                raise ValueError("The tails part needs the statistics' reference values and the rows' values.")
            out["tails"] = (self.tails(values) if tails is None else tails) / self.tails_scale
        return out

    def combine(self, cells: np.ndarray, codes: np.ndarray, neighbour: Optional[np.ndarray] = None,
                values: Optional[np.ndarray] = None, tails: Optional[np.ndarray] = None) -> np.ndarray:
        return sum(self.scaled_parts(cells, codes, self.parts, neighbour, values, tails).values())

    def reads_tails_like(self, other: "ScoreStats") -> bool:
        """Whether both read the tails part from the same normal values (an ensemble's networks, from the same rows):
        then one computation of it serves both."""
        return (self.value_reference is not None and other.value_reference is not None
                and self.value_reference.shape == other.value_reference.shape and np.array_equal(self.value_reference, other.value_reference))

    def select(self, cells: np.ndarray, codes: np.ndarray, y: np.ndarray, values: Optional[np.ndarray] = None) -> tuple[str, ...]:
        """Keep the subset of parts with the best validation average precision (all parts on ties,
        and all parts when the validation rows hold fewer than ``MIN_SELECTION_ANOMALIES`` anomalies)."""
        from core.metrics import ThresholdCurve

        self.selection = {}
        y = np.asarray(y)
        available = self.available_parts
        if len(np.unique(y)) < 2 or int((y == 1).sum()) < MIN_SELECTION_ANOMALIES:
            self.parts = available
            return self.parts
        scaled = self.scaled_parts(cells, codes, available, values=values)
        best = None
        for subset in (s for s in PART_SUBSETS if set(s) <= set(available)):
            ap = float(ThresholdCurve(sum(scaled[p] for p in subset), y).average_precision)
            self.selection["+".join(subset)] = ap
            if best is None or ap > best[0]:
                best = (ap, subset)
        self.parts = best[1]
        return self.parts

    def to_dict(self) -> dict[str, Any]:
        out = {
            "latent_mean": self.latent_mean.tolist(),
            "latent_precision": self.latent_precision.tolist(),
            "cell_error_scale": self.cell_error_scale.tolist(),
            "latent_scale": self.latent_scale,
            "reference_codes": encode_array(self.reference_codes),
            "neighbour_scale": self.neighbour_scale,
        }
        if self.cell_reference is not None:
            out.update(cell_reference=encode_array(self.cell_reference), tail_scale=self.tail_scale)
        if self.value_reference is not None and "tails" in self.parts:  # kept only where the score reads it (d × 1,001 numbers)
            out.update(value_reference=encode_array(self.value_reference), tails_scale=self.tails_scale)
        return out

    @classmethod
    def from_dict(cls, stats: dict[str, Any], parts: Optional[Sequence[str]], selection: dict[str, Any]) -> "ScoreStats":
        """Statistics from a bundle; bundles from before the neighbour part scored reconstruction + latent."""
        has_neighbours = "reference_codes" in stats
        return cls(
            cell_error_scale=np.asarray(stats["cell_error_scale"], dtype=np.float64),
            latent_mean=np.asarray(stats["latent_mean"], dtype=np.float64),
            latent_precision=np.asarray(stats["latent_precision"], dtype=np.float64),
            latent_scale=float(stats["latent_scale"]),
            reference_codes=decode_array(stats["reference_codes"]) if has_neighbours else None,
            neighbour_scale=float(stats["neighbour_scale"]) if has_neighbours else 1.0,
            parts=tuple(parts) if parts is not None else (NETWORK_PARTS if has_neighbours else ("reconstruction", "latent")),
            selection={str(k): float(v) for k, v in selection.items()},
            cell_reference=decode_array(stats["cell_reference"]) if "cell_reference" in stats else None,
            tail_scale=float(stats.get("tail_scale", 1.0)),
            value_reference=decode_array(stats["value_reference"]) if "value_reference" in stats else None,
            tails_scale=float(stats.get("tails_scale", 1.0)),
        )
