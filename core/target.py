"""Which column is the label and which of its values are normal.

Whatever the file uses, the library works with ``y`` where 1 = anomaly and
0 = normal (PyOD's convention).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from core.data import numeric_columns
from core.errors import DataError

MAX_ONE_HOT_LEVELS = 20


def class_key(value: object) -> str:
    """A canonical text form of a label value, so that ``1``, ``1.0`` and ``"1"`` match."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    try:
        number = float(str(value).strip())
    except ValueError:
        return str(value).strip()
    if np.isfinite(number) and number == int(number):
        return str(int(number))
    return repr(number)


def class_counts(frame: pd.DataFrame, label: str) -> pd.Series:
    """Rows per class (canonical keys), most frequent first."""
    if label not in frame.columns:
        raise DataError(f"There is no column '{label}'. Choose one of: {', '.join(map(str, frame.columns))}.")
    keys = frame[label].dropna().map(class_key)
    return keys.value_counts()


@dataclass(frozen=True)
class Target:
    """The label column (or ``None``), the normal classes and ``y`` (1 = anomaly)."""

    label: str | None
    normal_classes: tuple[str, ...]
    y: np.ndarray | None

    @property
    def has_labels(self) -> bool:
        return self.y is not None


def make_target(frame: pd.DataFrame, label: str | None, normal: Iterable[object] = ()) -> Target:
    """Turn a label column and its normal values into ``y`` (1 = anomaly, 0 = normal).

    ``label=None`` means no labels: every row is treated as training material.
    """
    if label is None:
        return Target(label=None, normal_classes=(), y=None)
    counts = class_counts(frame, label)
    missing = int(frame[label].isna().sum())
    if missing:
        raise DataError(
            f"The label column '{label}' has {missing} empty cell(s). Fill them in, remove those rows, or choose another label column."
        )
    if len(counts) < 2:
        raise DataError(
            f"The label column '{label}' has only one class ({counts.index[0]!r}). "
            "A label needs at least two classes; choose another column or 'no label'."
        )
    normal_keys = tuple(dict.fromkeys(class_key(v) for v in normal))
    if not normal_keys:
        raise DataError(f"Choose at least one normal class of '{label}' (for example {counts.index[0]!r}).")
    unknown = [k for k in normal_keys if k not in counts.index]
    if unknown:
        raise DataError(
            f"Normal class {', '.join(map(repr, unknown))} does not occur in '{label}'. "
            f"Its classes are: {', '.join(map(repr, counts.index[:20]))}."
        )
    if set(normal_keys) == set(counts.index):
        raise DataError(
            f"Every class of '{label}' is marked normal, so there are no anomalies to find. Leave at least one class out."
        )
    keys = frame[label].map(class_key)
    y = (~keys.isin(normal_keys)).to_numpy(dtype=np.int8)
    return Target(label=label, normal_classes=normal_keys, y=y)


def default_features(frame: pd.DataFrame, label: str | None) -> list[str]:
    """All columns but the label that could be features (see :func:`feature_choice`)."""
    return feature_choice(frame, label).features


def validate_features(frame: pd.DataFrame, features: Sequence[str], label: str | None) -> list[str]:
    """Check the chosen feature columns, raising :class:`DataError` with the fix."""
    features = list(features)
    if not features:
        raise DataError("No feature columns are chosen. Choose at least one numeric column as a feature.")
    missing = [f for f in features if f not in frame.columns]
    if missing:
        raise DataError(f"Feature column(s) not in the table: {', '.join(map(repr, missing))}.")
    if label is not None and label in features:
        raise DataError(f"The label column '{label}' cannot also be a feature. Remove it from the features.")
    empty = [f for f in features if frame[f].isna().all()]
    if empty:
        raise DataError(f"Feature column(s) {', '.join(map(repr, empty))} are entirely empty. Remove them from the features.")
    numeric = set(numeric_columns(frame))
    wide = [f for f in features if f not in numeric and frame[f].nunique(dropna=True) > MAX_ONE_HOT_LEVELS]
    if wide:
        shown = ", ".join(f"'{f}' ({frame[f].nunique(dropna=True):,} levels)" for f in wide[:10]) + (f" and {len(wide) - 10} more" if len(wide) > 10 else "")
        raise DataError(
            f"Text column(s) {shown} have more than {MAX_ONE_HOT_LEVELS} distinct values, so they cannot be features "
            "(an identifier or free text says nothing the network can learn). Remove them from the features."
        )
    if not any(f in numeric for f in features):
        raise DataError(
            "None of the chosen features is numeric. An autoencoder needs numbers: choose numeric columns, "
            "or check that numbers use '.' (or ',' with ';' separators) as the decimal mark."
        )
    return features


# --- provisional (replaced by the reader issue's one-pass version on merge) ---
@dataclass(frozen=True)
class FeatureChoice:
    """The default features and, for every other column, why it is left out."""

    features: list[str]
    excluded: dict[str, str]


def feature_choice(frame: pd.DataFrame, label: str | None) -> FeatureChoice:
    features, excluded = [], {}
    numeric = set(numeric_columns(frame))
    for column in frame.columns:
        if column == label:
            continue
        values = frame[column]
        if values.isna().all():
            excluded[column] = "all missing"
        elif values.nunique(dropna=True) <= 1:
            excluded[column] = "constant"
        elif column in numeric:
            features.append(column)
        elif values.nunique(dropna=True) == values.notna().sum() and len(values) > MAX_ONE_HOT_LEVELS:
            excluded[column] = "identifier-like: unique text per row"
        elif values.nunique(dropna=True) > MAX_ONE_HOT_LEVELS:
            excluded[column] = f"too many text levels ({values.nunique(dropna=True):,} > {MAX_ONE_HOT_LEVELS})"
        else:
            features.append(column)
    return FeatureChoice(features, excluded)


def likely_label_columns(frame: pd.DataFrame) -> list[str]:
    names = ("label", "labels", "class", "target", "status", "y", "outlier", "anomaly", "nsp", "rhythm", "outcome")
    return [c for c in frame.columns if str(c).strip().lower() in names]
