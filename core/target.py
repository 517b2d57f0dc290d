"""Which column is the label and which of its values are normal.

Whatever the file uses, the library works with ``y`` where 1 = anomaly and
0 = normal (PyOD's convention).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from core.data import MAX_NAMES_SHOWN, name_list, numeric_columns
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
        raise DataError(f"There is no column '{label}'. Choose one of: {name_list(frame.columns)}.")
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
            f"Normal class {name_list(unknown)} does not occur in '{label}'. "
            f"Its classes are: {name_list(counts.index)}."
        )
    if set(normal_keys) == set(counts.index):
        raise DataError(
            f"Every class of '{label}' is marked normal, so there are no anomalies to find. Leave at least one class out."
        )
    keys = frame[label].map(class_key)
    y = (~keys.isin(normal_keys)).to_numpy(dtype=np.int8)
    return Target(label=label, normal_classes=normal_keys, y=y)


#: Why a column is not a default feature; validate_features says the same when one is chosen.
IDENTIFIER = "identifier-like: unique text per row"
CONSTANT = "constant"
ALL_MISSING = "all missing (entirely empty)"
#: Column names that usually hold a label (compared lower-cased, stripped).
LABEL_NAMES = ("label", "labels", "class", "classes", "target", "status", "y", "outcome", "outlier", "anomaly", "is_anomaly",
               "fraud", "is_fraud", "attack", "fault", "diagnosis", "nsp", "rhythm", "category", "result")


@dataclass(frozen=True)
class FeatureChoice:
    """The default features of a table and, for every other column, why it is left out."""

    features: tuple[str, ...]
    excluded: dict[str, str]


def _exclusion(series: pd.Series, is_numeric: bool) -> str | None:
    """Why one column cannot be a feature (None when it can): one pass over its values."""
    if is_numeric:
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        finite = values[~np.isnan(values)]
        if finite.size == 0:
            return ALL_MISSING
        return CONSTANT if finite.min() == finite.max() else None
    present = series.dropna()
    if present.empty:
        return ALL_MISSING
    levels = present.nunique()
    if levels == 1:
        return CONSTANT
    if levels == len(present) and levels > MAX_ONE_HOT_LEVELS:
        return IDENTIFIER
    if levels > MAX_ONE_HOT_LEVELS:
        return f"too many text levels ({levels} > {MAX_ONE_HOT_LEVELS})"
    return None


def feature_choice(frame: pd.DataFrame, label: str | None) -> FeatureChoice:
    """Default features (numbers, and text with at most 20 levels) and the reason for each column left out.

    Linear in the table: the dtypes are looked up once and each column is read once.
    """
    numeric = set(numeric_columns(frame))
    label_like = set(likely_label_columns(frame))
    features, excluded = [], {}
    for column in frame.columns:
        if column == label:
            continue
        why = "looks like a label column: as a feature it would leak the answer" if column in label_like else _exclusion(frame[column], column in numeric)
        if why is None:
            features.append(column)
        else:
            excluded[column] = why
    return FeatureChoice(tuple(features), excluded)


def default_features(frame: pd.DataFrame, label: str | None) -> list[str]:
    """All columns but the label that could be features: numeric ones, and text ones with few values."""
    return list(feature_choice(frame, label).features)


def likely_label_columns(frame: pd.DataFrame) -> list[str]:
    """Columns that look like a label (a conventional name and 2–50 levels): leave them out of the
    default features when training without a label."""
    found = []
    for column in frame.columns:
        if str(column).strip().lower() in LABEL_NAMES and 2 <= frame[column].nunique() <= 50:
            found.append(column)
    return found


def validate_features(frame: pd.DataFrame, features: Sequence[str], label: str | None) -> list[str]:
    """Check the chosen feature columns, raising :class:`DataError` with the fix.

    A chosen column that training would drop (all missing, constant, an
    identifier, too many text levels) is refused here, by name and reason, so
    nothing is dropped without a word.
    """
    features = list(features)
    if not features:
        raise DataError("No feature columns are chosen. Choose at least one numeric column as a feature.")
    missing = [f for f in features if f not in frame.columns]
    if missing:
        raise DataError(f"Feature column(s) not in the table: {name_list(missing)}. Choose columns of this table.")
    if label is not None and label in features:
        raise DataError(f"The label column '{label}' cannot also be a feature. Remove it from the features.")
    numeric = set(numeric_columns(frame))
    unusable = {f: why for f in features if (why := _exclusion(frame[f], f in numeric)) is not None}
    if unusable:
        said = "; ".join(f"{str(f)!r}: {why}" for f, why in list(unusable.items())[:MAX_NAMES_SHOWN])
        more = f" … and {len(unusable) - MAX_NAMES_SHOWN:,} more" if len(unusable) > MAX_NAMES_SHOWN else ""
        raise DataError(f"These feature column(s) cannot be used ({said}{more}). Remove them from the features.")
    if not any(f in numeric for f in features):
        raise DataError(
            "None of the chosen features is numeric. Text columns are one-hot encoded only beside at least one numeric column: choose one, "
            "or check that numbers use '.' (or ',' with ';' separators) as the decimal mark."
        )
    return features
