"""Anomaly Lab's library: read a table, train an autoencoder detector, choose a threshold.

No Streamlit here: everything works from a notebook or the command line.
Heavy modules (Keras) load only when first used.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from core.errors import DataError  # noqa: E402

__all__ = ["DataError"]
