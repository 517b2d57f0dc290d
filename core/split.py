"""A seeded, stratified train / validation / test split of row positions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.errors import DataError

MIN_NORMAL_TRAIN_ROWS = 20


@dataclass(frozen=True)
class Split:
    """Row positions of each part. The network trains on normal train rows only;
    validation rows drive early stopping and label-using threshold rules; test rows
    are what is reported."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    seed: int

    def part(self, name: str) -> np.ndarray:
        return {"train": self.train, "val": self.val, "validation": self.val, "test": self.test}[name]


def make_split(
    n_rows: int,
    y: np.ndarray | None = None,
    fractions: tuple[float, float, float] = (0.6, 0.2, 0.2),
    seed: int = 0,
) -> Split:
    """Split ``n_rows`` row positions, stratified on ``y`` when given."""
    from sklearn.model_selection import train_test_split  # here, not at import: the Data page loads this module

    train_f, val_f, test_f = fractions
    if min(fractions) < 0 or abs(train_f + val_f + test_f - 1) > 1e-6 or train_f <= 0:
        raise DataError(f"Split fractions must be non-negative and sum to 1 (got {fractions}).")
    needed = int(np.ceil(MIN_NORMAL_TRAIN_ROWS / train_f))
    if n_rows < needed:
        raise DataError(
            f"The table has {n_rows} data row(s); at least {needed} are needed so that {MIN_NORMAL_TRAIN_ROWS} normal rows are left for training. "
            "Load a table with more rows."
        )
    positions = np.arange(n_rows)
    stratify = y if y is not None and np.bincount(y).min() >= 3 else None
    rest_f = val_f + test_f
    if rest_f == 0:
        train, rest = positions, positions[:0]
    else:
        train, rest = train_test_split(positions, test_size=rest_f, random_state=seed, stratify=stratify)
    if val_f == 0 or test_f == 0:
        val, test = (rest, rest[:0]) if test_f == 0 else (rest[:0], rest)
    else:
        strat_rest = stratify[rest] if stratify is not None and np.bincount(stratify[rest]).min() >= 2 else None
        val, test = train_test_split(rest, test_size=test_f / rest_f, random_state=seed, stratify=strat_rest)
    split = Split(np.sort(train), np.sort(val), np.sort(test), seed)
    return _checked(split, y)


def _checked(split: Split, y: np.ndarray | None) -> Split:
    normal_train = int((y[split.train] == 0).sum()) if y is not None else len(split.train)
    if normal_train < MIN_NORMAL_TRAIN_ROWS:
        raise DataError(
            f"Only {normal_train} normal rows are left for training (at least {MIN_NORMAL_TRAIN_ROWS} are needed). "
            "Add more normal rows, mark more classes as normal, or give the training part a larger share."
        )
    return split
