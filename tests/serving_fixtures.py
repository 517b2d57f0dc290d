"""A tiny bundle for the serving, Spark and MLflow tests: trained once per test module."""

from __future__ import annotations

import atexit
import functools
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import ROOT

SAMPLE = ROOT / "sample_data" / "machine_sensors.csv"


@functools.lru_cache(maxsize=1)
def shared_bundle() -> Path:
    """One small bundle per test process, for every serving, Spark and MLflow test (read-only)."""
    folder = Path(tempfile.mkdtemp(prefix="anomaly-lab-serving-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return train_bundle(folder)


def train_bundle(folder: Path, epochs: int = 3) -> Path:
    """A small autoencoder on the machine sample (text column 'machine', label 'status')."""
    from core import pipeline
    from core.bundle import save_bundle

    result = pipeline.train_from_csv(SAMPLE, label="status", normal=["normal"], seed=0, params={"epochs": epochs})
    path = Path(folder) / "model.zip"
    save_bundle(result.detector, path, result.context)
    return path


def banded_bundle(bundle: Path, dest: Path) -> tuple[Path, float]:
    """``bundle`` saved again as the app saves a review band: from the median training score below the threshold."""
    from dataclasses import replace

    import numpy as np

    from core.bundle import bundle_bytes, load_bundle

    detector, context = load_bundle(bundle)
    below = detector.decision_scores_[detector.decision_scores_ <= detector.threshold_]
    low = float(np.median(below))
    Path(dest).write_bytes(bundle_bytes(detector, context, replace(detector.fitted_threshold, review_from=low)))
    return Path(dest), low


@contextmanager
def running_server(app) -> Iterator[str]:
    """``app`` on uvicorn in a thread, on a free port of 127.0.0.1; yields its base URL."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
