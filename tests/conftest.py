import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED_DATA = ROOT.parent / "shared" / "data"

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402


def planted(n_normal: int = 600, n_anomaly: int = 40, n_features: int = 8, seed: int = 0):
    """Normal rows on a 2-D manifold in 8 dimensions; anomalies off it."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n_normal + n_anomaly, 2))
    mixing = rng.normal(size=(2, n_features))
    x = latent @ mixing + rng.normal(0, 0.05, (n_normal + n_anomaly, n_features))
    x[n_normal:] += rng.normal(0, 1.5, (n_anomaly, n_features))
    y = np.r_[np.zeros(n_normal, int), np.ones(n_anomaly, int)]
    order = rng.permutation(len(y))
    frame = pd.DataFrame(x[order], columns=[f"f{i}" for i in range(n_features)])
    return frame, y[order]


@pytest.fixture(scope="session")
def planted_data():
    return planted()


@pytest.fixture(scope="session")
def fitted(planted_data):
    """One small detector trained once per test session."""
    from core.detector import AutoencoderDetector

    X, y = planted_data
    n = len(X)
    tr, va = slice(0, int(n * 0.6)), slice(int(n * 0.6), int(n * 0.8))
    det = AutoencoderDetector(epochs=40, random_state=1).fit(X.iloc[tr], y[tr], validation_data=(X.iloc[va], y[va]))
    return det, X, y


def pytest_configure(config):
    config.addinivalue_line("markers", "benchmark: slow measurements under tests/benchmarks (run with: make bench)")
    config.addinivalue_line("markers", "browser: drives the real app in headless Chromium")
    config.addinivalue_line("filterwarnings", "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")


def pytest_collection_modifyitems(config, items):
    """Benchmarks are skipped unless asked for with ``-m benchmark``."""
    if "benchmark" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="benchmark: run with make bench")
    for item in items:
        if "benchmark" in item.keywords:
            item.add_marker(skip)
