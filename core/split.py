"""A seeded, stratified train / validation / test split of row positions.

The split is drawn here with NumPy, exactly as scikit-learn's ``train_test_split``
draws it (``ShuffleSplit`` / ``StratifiedShuffleSplit`` on a ``RandomState(seed)``;
``tests/test_target_split.py`` checks the two agree row for row). Owning the few lines
keeps scikit-learn's import (about a second, with SciPy) off the Data page's first
view, and a bundle's split, rebuilt from its seed, no longer depends on the installed
scikit-learn version.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil
from typing import Optional

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

    def part_of(self, position: int) -> Optional[str]:
        """Which part a row (0-based position in the file) belongs to: "train", "val" or "test" (None: in none)."""
        for name, rows in (("train", self.train), ("val", self.val), ("test", self.test)):
            if np.any(rows == position):
                return name
        return None


def make_split(
    n_rows: int,
    y: np.ndarray | None = None,
    fractions: tuple[float, float, float] = (0.6, 0.2, 0.2),
    seed: int = 0,
) -> Split:
    """Split ``n_rows`` row positions, stratified on ``y`` when given."""
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
        train, rest = train_test_split(positions, rest_f, seed, stratify)
    if val_f == 0 or test_f == 0:
        val, test = (rest, rest[:0]) if test_f == 0 else (rest[:0], rest)
    else:
        strat_rest = stratify[rest] if stratify is not None and np.bincount(stratify[rest]).min() >= 2 else None
        val, test = train_test_split(rest, test_f / rest_f, seed, strat_rest)
    split = Split(np.sort(train), np.sort(val), np.sort(test), seed)
    return _checked(split, y)


def train_test_split(items: np.ndarray, test_size: float, seed: int, stratify: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``sklearn.model_selection.train_test_split(items, test_size=…, random_state=seed, stratify=…)``,
    the same rows in the same order; raises ValueError where it does (the caller words it)."""
    n = len(items)
    if not 0 < test_size < 1:
        raise ValueError(f"test_size={test_size} should be either positive and smaller than the number of samples {n} or a float in the (0, 1) range")
    n_test = ceil(test_size * n)
    n_train = n - n_test
    if n_train == 0:
        raise ValueError(f"With n_samples={n}, test_size={test_size} and train_size=None, the resulting train set will be empty. "
                         "Adjust any of the aforementioned parameters.")
    rng = np.random.RandomState(seed)
    if stratify is None:
        permutation = rng.permutation(n)
        return items[permutation[n_test:]], items[permutation[:n_test]]
    classes, y_indices, class_counts = np.unique(stratify, return_inverse=True, return_counts=True)
    if class_counts.min() < 2:
        raise ValueError(f"The least populated classes in y have only 1 member, which is too few. The minimum number of groups for any class "
                         f"cannot be less than 2. Classes with too few members are: {classes[class_counts < 2].tolist()}")
    if n_train < len(classes):
        raise ValueError(f"The train_size = {n_train} should be greater or equal to the number of classes = {len(classes)}")
    if n_test < len(classes):
        raise ValueError(f"The test_size = {n_test} should be greater or equal to the number of classes = {len(classes)}")
    class_indices = np.split(np.argsort(y_indices, kind="stable"), np.cumsum(class_counts)[:-1])
    n_i = _approximate_mode(class_counts, n_train, rng)
    t_i = _approximate_mode(class_counts - n_i, n_test, rng)
    train: list = []
    test: list = []
    for i, count in enumerate(class_counts):
        shuffled = class_indices[i].take(rng.permutation(count), mode="clip")
        train.extend(shuffled[: n_i[i]])
        test.extend(shuffled[n_i[i]: n_i[i] + t_i[i]])
    return items[rng.permutation(train)], items[rng.permutation(test)]


def _approximate_mode(class_counts: np.ndarray, n_draws: int, rng: np.random.RandomState) -> np.ndarray:
    """Rows to draw from each class so that the draw keeps the class shares; ties broken by ``rng``
    (scikit-learn's ``_approximate_mode``)."""
    continuous = class_counts / class_counts.sum() * n_draws
    floored = np.floor(continuous)
    need_to_add = int(n_draws - floored.sum())
    if need_to_add > 0:
        remainder = continuous - floored
        for value in np.sort(np.unique(remainder))[::-1]:
            (inds,) = np.where(remainder == value)
            add_now = min(len(inds), need_to_add)
            floored[rng.choice(inds, size=add_now, replace=False)] += 1
            need_to_add -= add_now
            if need_to_add == 0:
                break
    return floored.astype(int)


def _checked(split: Split, y: np.ndarray | None) -> Split:
    normal_train = int((y[split.train] == 0).sum()) if y is not None else len(split.train)
    if normal_train < MIN_NORMAL_TRAIN_ROWS:
        raise DataError(
            f"Only {normal_train} normal rows are left for training (at least {MIN_NORMAL_TRAIN_ROWS} are needed). "
            "Add more normal rows, mark more classes as normal, or give the training part a larger share."
        )
    return split
