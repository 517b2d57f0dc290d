"""Anomaly Lab's library: read a table, train a detector, choose a threshold.

No Streamlit here: everything works from a notebook or the command line.
Heavy modules (Keras) load only when first used: ``core.AutoencoderDetector``
imports them on first access.
"""

import importlib
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from core.errors import DataError  # noqa: E402

#: Public name → module that defines it (imported on first access).
_LAZY = {
    "AutoencoderDetector": "core.detector",
    "AutoencoderEnsemble": "core.ensemble",
    "BaseDetector": "core.base",
    "IsolationForestDetector": "core.baselines",
    "LOFDetector": "core.baselines",
    "PCADetector": "core.baselines",
    "OneClassSVMDetector": "core.baselines",
    "KNNDetector": "core.baselines",
    "ECODDetector": "core.baselines",
    "DETECTORS": "core.registry",
    "make_detector": "core.registry",
    "fit_on_split": "core.registry",
}

__all__ = ["DataError", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'core' has no attribute {name!r}")
