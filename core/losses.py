"""Reconstruction losses, element by element, in NumPy.

Keras reduces each loss to a mean over the feature axis; these keep the feature
axis so that a row's error splits into per-feature contributions that sum back
to the row's score.
"""

from __future__ import annotations

import numpy as np

LOSSES = {"mse": "mse", "mae": "mae", "msle": "msle", "bce": "binary_crossentropy"}
#: Losses defined on values in [0, 1]: they need a scaler whose values lie there (minmax, quantile).
UNIT_LOSSES = ("msle", "bce")
_EPS = 1e-7


def keras_loss(name: str) -> str:
    """The Keras loss identifier for one of our loss names."""
    return LOSSES[name]


def elementwise_loss(name: str, x: np.ndarray, reconstruction: np.ndarray) -> np.ndarray:
    """Loss per cell, same shape as ``x``; its row mean equals Keras's per-row loss."""
    if name in ("mse", "mae"):  # the difference in float64 straight from float32 inputs, then in place
        diff = np.subtract(x, reconstruction, dtype=np.float64)
        return np.multiply(diff, diff, out=diff) if name == "mse" else np.abs(diff, out=diff)
    x = np.asarray(x, dtype=np.float64)
    r = np.asarray(reconstruction, dtype=np.float64)
    if name == "msle":
        return (np.log1p(np.maximum(x, _EPS)) - np.log1p(np.maximum(r, _EPS))) ** 2
    if name == "bce":
        x = np.clip(x, 0.0, 1.0)
        r = np.clip(r, _EPS, 1 - _EPS)
        return -(x * np.log(r) + (1 - x) * np.log(1 - r))
    raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}")
