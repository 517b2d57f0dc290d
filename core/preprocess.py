"""Preprocessing fitted on normal training rows only and stored with the detector.

Keeping the statistics here (and in the bundle) means training and scoring
cannot drift apart. Everything is plain numbers so it saves as JSON, not pickle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from core.data import MISSING_TOKENS, name_list, numeric_columns
from core.errors import DataError
from core.target import MAX_ONE_HOT_LEVELS

SCALERS = ("minmax", "standard", "quantile", "yeo-johnson", "power")
#: Scalers whose output is unbounded z-score-like numbers (the network's output layer is then linear).
LINEAR_SCALERS = ("standard", "yeo-johnson", "power")
QUANTILE_KNOTS = 201
#: The "power" scaler Yeo-Johnson-transforms a column only when its training skewness exceeds this.
POWER_SKEW = 1.0
#: Scaled values are kept inside this band so one wild row cannot overflow the network.
CLIP = 1e4


def _numeric_values(frame: pd.DataFrame, column: str) -> np.ndarray:
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


@dataclass
class NumericColumn:
    """Imputation and scaling statistics of one numeric feature."""

    name: str
    median: float
    kind: str
    a: float = 0.0  # minmax: min; standard: mean
    b: float = 1.0  # minmax: max - min; standard: std
    knots: list[float] = field(default_factory=list)  # quantile: values
    probs: list[float] = field(default_factory=list)  # quantile: their probabilities
    lam: float = 1.0  # yeo-johnson: the power (a, b are then the transformed values' mean and std)

    def transform(self, values: np.ndarray) -> np.ndarray:
        x = np.where(np.isnan(values), self.median, values)
        if self.kind == "quantile":
            q, p = np.asarray(self.knots), np.asarray(self.probs)
            span = q[-1] - q[0]
            out = np.interp(x, q, p)
            out = np.where(x < q[0], p[0] - (q[0] - x) / span, out)
            out = np.where(x > q[-1], p[-1] + (x - q[-1]) / span, out)
        elif self.kind == "yeo-johnson":
            out = (yeo_johnson(x, self.lam) - self.a) / self.b
        else:
            out = (x - self.a) / self.b
        return np.clip(out, -CLIP, CLIP)

    def inverse(self, scaled: np.ndarray) -> np.ndarray:
        if self.kind == "quantile":
            q, p = np.asarray(self.knots), np.asarray(self.probs)
            span = q[-1] - q[0]
            out = np.interp(scaled, p, q)
            out = np.where(scaled < p[0], q[0] - (p[0] - scaled) * span, out)
            return np.where(scaled > p[-1], q[-1] + (scaled - p[-1]) * span, out)
        if self.kind == "yeo-johnson":
            return yeo_johnson_inverse(scaled * self.b + self.a, self.lam)
        return scaled * self.b + self.a


def yeo_johnson(x: np.ndarray, lam: float) -> np.ndarray:
    """The Yeo-Johnson power transform (defined for any sign; ``lam`` 1 is the identity)."""
    x = np.asarray(x, dtype=np.float64)
    pos = x >= 0
    out = np.empty_like(x)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        xp, xn = x[pos], x[~pos]
        out[pos] = np.log1p(xp) if abs(lam) < 1e-8 else (np.power(1 + xp, lam) - 1) / lam
        out[~pos] = -np.log1p(-xn) if abs(lam - 2) < 1e-8 else -(np.power(1 - xn, 2 - lam) - 1) / (2 - lam)
    return out


def yeo_johnson_inverse(y: np.ndarray, lam: float) -> np.ndarray:
    """The inverse of :func:`yeo_johnson` (values beyond the transform's range map to the nearest finite one)."""
    y = np.asarray(y, dtype=np.float64)
    pos = y >= 0
    out = np.empty_like(y)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        yp, yn = y[pos], y[~pos]
        out[pos] = np.expm1(yp) if abs(lam) < 1e-8 else np.power(np.maximum(yp * lam + 1, 0), 1 / lam) - 1
        out[~pos] = -np.expm1(-yn) if abs(lam - 2) < 1e-8 else 1 - np.power(np.maximum(1 - (2 - lam) * yn, 0), 1 / (2 - lam))
    return np.nan_to_num(out, nan=0.0)


def skewness(values: np.ndarray) -> float:
    """Sample skewness (0 for a constant column)."""
    d = values - values.mean()
    sd = np.sqrt(np.mean(d ** 2))
    return float(np.mean(d ** 3) / sd ** 3) if sd > 0 else 0.0


def _fit_numeric(name: str, values: np.ndarray, kind: str) -> NumericColumn:
    finite = values[~np.isnan(values)]
    with np.errstate(over="ignore", invalid="ignore"):
        column = _fit_statistics(name, finite, kind)
        stats = [column.median, column.a, column.b, *column.knots]
        span = (column.knots[-1] - column.knots[0]) if column.knots else column.b
        if not np.all(np.isfinite(stats)) or not np.isfinite(span):
            peak = float(np.max(np.abs(finite)))
            raise DataError(
                f"Column '{name}' has values up to {peak:.3g}, too large to scale (the statistics overflow). "
                "Divide the column by a power of ten, or leave it out of the features."
            )
    return column


def _fit_statistics(name: str, finite: np.ndarray, kind: str) -> NumericColumn:
    median = float(np.median(finite))
    if kind == "minmax":
        return NumericColumn(name, median, kind, a=float(finite.min()), b=float(np.ptp(finite)))
    if kind == "power":
        kind = "yeo-johnson" if abs(skewness(finite)) > POWER_SKEW else "standard"
    if kind == "standard":
        return NumericColumn(name, median, kind, a=float(finite.mean()), b=float(finite.std()))
    if kind == "yeo-johnson":
        return _fit_yeo_johnson(name, median, finite)
    probs = np.linspace(0.0, 1.0, QUANTILE_KNOTS)
    knots = np.quantile(finite, probs)
    # np.interp needs increasing knots: a repeated value gets the mean of its probabilities.
    uniq, inverse = np.unique(knots, return_inverse=True)
    mean_probs = np.bincount(inverse, weights=probs) / np.bincount(inverse)
    return NumericColumn(name, median, kind, knots=uniq.tolist(), probs=mean_probs.tolist())


def _fit_yeo_johnson(name: str, median: float, finite: np.ndarray) -> NumericColumn:
    """The power that makes the training values most normal (maximum likelihood), then z-scores of the result.

    A power that cannot be found, or that leaves the column without spread, falls back to plain z-scores.
    """
    from scipy.stats import yeojohnson_normmax

    try:
        with np.errstate(all="ignore"):
            lam = float(yeojohnson_normmax(finite))
    except (ValueError, FloatingPointError, RuntimeError):
        lam = float("nan")
    transformed = yeo_johnson(finite, lam) if np.isfinite(lam) else finite
    spread = float(transformed.std()) if np.all(np.isfinite(transformed)) else 0.0
    if not np.isfinite(lam) or not (spread > 0 and np.isfinite(spread)):
        return NumericColumn(name, median, "standard", a=float(finite.mean()), b=float(finite.std()))
    return NumericColumn(name, median, "yeo-johnson", a=float(transformed.mean()), b=spread, lam=lam)


@dataclass
class Preprocessor:
    """Turns table columns into the network's float32 matrix, and back for numeric columns.

    Parameters
    ----------
    scaler : "minmax" (to [0, 1] on training rows), "standard" (z-scores) or
        "quantile" (empirical CDF of the training rows, linear beyond their range),
        "yeo-johnson" (a power transform fitted per column to make it look normal, then
        z-scores) or "power" (Yeo-Johnson only on columns whose training skewness is
        beyond ±1, z-scores elsewhere: long tails are pulled in, so a value far out in a
        skewed column is not the only thing the network learns to rebuild).
    """

    scaler: str = "minmax"
    numeric: list[NumericColumn] = field(default_factory=list)
    categorical: dict[str, list[str]] = field(default_factory=dict)
    findings: list[str] = field(default_factory=list)
    feature_names: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)

    def fit(self, frame: pd.DataFrame, features: Sequence[str]) -> "Preprocessor":
        if self.scaler not in SCALERS:
            raise DataError(f"Unknown scaler {self.scaler!r}; choose one of {', '.join(SCALERS)}.")
        if len(frame) == 0:
            raise DataError("There are no training rows to fit the preprocessing on.")
        self.numeric, self.categorical, self.findings, self.dropped = [], {}, [], []
        self.feature_names = list(features)
        numeric = set(numeric_columns(frame))
        for name in features:
            if name in numeric:
                values = _numeric_values(frame, name)
                n_missing = int(np.isnan(values).sum())
                if n_missing == len(values):
                    self._drop(name, "it is empty in every training row")
                    continue
                finite = values[~np.isnan(values)]
                if finite.min() == finite.max():
                    self._drop(name, f"it is constant ({finite[0]:g}) in the normal training rows")
                    continue
                if n_missing:
                    self.findings.append(f"'{name}': {n_missing} missing training value(s) imputed with the median.")
                self.numeric.append(_fit_numeric(name, values, self.scaler))
            else:
                levels = frame[name].dropna().astype(str).unique()
                if len(levels) > MAX_ONE_HOT_LEVELS:
                    self._drop(name, f"it is text with {len(levels)} different values (at most {MAX_ONE_HOT_LEVELS} are one-hot encoded)")
                elif len(levels) < 2:
                    self._drop(name, "it has a single value in the normal training rows")
                else:
                    self.categorical[name] = sorted(levels.tolist())
        if not self.numeric and not self.categorical:
            raise DataError("No usable feature is left after dropping constant and empty columns. Choose other features.")
        return self

    def _drop(self, name: str, why: str) -> None:
        self.dropped.append(name)
        self.findings.append(f"Dropped feature '{name}': {why}.")

    @property
    def output_names(self) -> list[str]:
        names = [c.name for c in self.numeric]
        for name, levels in self.categorical.items():
            names += [f"{name}={level}" for level in levels]
        return names

    @property
    def groups(self) -> list[tuple[str, list[int]]]:
        """Each used input feature with the network columns it became."""
        groups, start = [], 0
        for column in self.numeric:
            groups.append((column.name, [start]))
            start += 1
        for name, levels in self.categorical.items():
            groups.append((name, list(range(start, start + len(levels)))))
            start += len(levels)
        return groups

    @property
    def used_features(self) -> list[str]:
        return [name for name, _ in self.groups]

    @property
    def required_columns(self) -> list[str]:
        return self.used_features

    def check_columns(self, frame: pd.DataFrame) -> None:
        missing = [c for c in self.required_columns if c not in frame.columns]
        if missing:
            raise DataError(
                f"The table lacks column(s) the model needs: {name_list(missing)}. "
                "Use a table with the same columns as the training data."
            )

    def not_numbers(self, frame: pd.DataFrame) -> list[str]:
        """One sentence per numeric feature with cells in ``frame`` that are text, not numbers nor empty.

        :meth:`transform` scores such a cell as missing (the training median), as training did; a
        user scoring a file must be told, since the row's score then ignores what the cell says.
        """
        notes = []
        for column in self.numeric:
            series = frame[column.name]
            if series.dtype.kind in "fiub":  # read as numbers: nothing to say
                continue
            text = series.astype("string").str.strip()
            bad = np.flatnonzero(np.isnan(_numeric_values(frame, column.name)) & ~(text.isna() | text.isin(MISSING_TOKENS)).to_numpy())
            if len(bad):
                first = str(series.iloc[bad[0]])
                first = first if len(first) <= 40 else first[:39] + "…"
                notes.append(f"{len(bad):,} cell(s) of '{column.name}' are not numbers (first in data row {bad[0] + 1:,}: '{first}'); "
                             f"they were scored as missing, that is as the training median {column.median:.6g}. Correct them in the file if those rows matter.")
        return notes

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        self.check_columns(frame)
        # Each column is written straight into the float32 result (rounded once, as a float64
        # matrix cast to float32 would be): no float64 copy of the whole table.
        width = len(self.numeric) + sum(len(levels) for levels in self.categorical.values())
        out = np.empty((len(frame), width), dtype=np.float32)
        at = 0
        for column in self.numeric:
            out[:, at] = column.transform(_numeric_values(frame, column.name))
            at += 1
        for name, levels in self.categorical.items():
            text = frame[name].astype(str).to_numpy()
            out[:, at:at + len(levels)] = text[:, None] == np.asarray(levels)[None, :]
            at += len(levels)
        return out

    def inverse_numeric(self, scaled: np.ndarray) -> pd.DataFrame:
        """Numeric columns of a network-space matrix back in the file's own units."""
        scaled = np.asarray(scaled, dtype=np.float64)
        data = {c.name: c.inverse(scaled[:, i]) for i, c in enumerate(self.numeric)}
        return pd.DataFrame(data)

    def to_dict(self) -> dict[str, Any]:
        return {
            "scaler": self.scaler,
            "numeric": [vars(c) for c in self.numeric],
            "categorical": self.categorical,
            "findings": self.findings,
            "feature_names": self.feature_names,
            "dropped": self.dropped,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Preprocessor":
        return cls(
            scaler=data["scaler"],
            numeric=[NumericColumn(**c) for c in data["numeric"]],
            categorical={k: list(v) for k, v in data["categorical"].items()},
            findings=list(data["findings"]),
            feature_names=list(data["feature_names"]),
            dropped=list(data["dropped"]),
        )
