"""The real public datasets of ../shared/data with their label and normal class."""

from __future__ import annotations

from core.data import read_table
from tests.conftest import SHARED_DATA

# name: (path, label column, normal classes, rows to keep by label (None = all), columns to drop)
DATASETS = {
    "ecg": ("ecg.csv", "col_140", ["1"], None, []),
    "cardio": ("odds/cardio.csv", "label", ["0"], None, []),
    "annthyroid": ("odds/annthyroid.csv", "label", ["0"], None, []),
    "mammography": ("odds/mammography.csv", "label", ["0"], None, []),
    "satimage-2": ("odds/satimage-2.csv", "label", ["0"], None, []),
    # NSP 1 (normal) against 2 and 3 (suspect, pathologic), as a user choosing "normal = 1" gets it.
    # (ODDS's cardio is this table with the suspect rows dropped, so 1 against 3 would repeat cardio.)
    # CLASS is dropped: it is a second label, derived from the same reading of the trace.
    "ctg": ("ctg/ctg.csv", "NSP", ["1"], None, ["CLASS"]),
}


def available() -> list[str]:
    return [name for name, spec in DATASETS.items() if (SHARED_DATA / spec[0]).exists()]


def load(name: str):
    """(table, label, normal classes, feature columns)."""
    path, label, normal, keep, drop = DATASETS[name]
    table = read_table(SHARED_DATA / path)
    if keep is not None:
        table.frame = table.frame[table.frame[label].isin(keep)].reset_index(drop=True)
    features = [c for c in table.frame.columns if c != label and c not in drop]
    return table, label, normal, features
