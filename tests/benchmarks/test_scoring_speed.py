"""Scoring a large CSV: 1,000,000 rows × 20 features, read → preprocess → predict → write.

Prints rows/s, the ratio to one bare call of the Keras model on the same
(preprocessed) array, and the command line's peak memory (its own process).
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from core.bundle import save_bundle
from core.detector import AutoencoderDetector
from core.scoring import score_csv
from tests.conftest import ROOT

pytestmark = pytest.mark.benchmark
N_ROWS, N_FEATURES = 1_000_000, 20


def _write_big_csv(path, rng) -> pd.DataFrame:
    latent = rng.normal(size=(N_ROWS, 3))
    x = latent @ rng.normal(size=(3, N_FEATURES)) + rng.normal(0, 0.1, (N_ROWS, N_FEATURES))
    frame = pd.DataFrame(x.astype(np.float32), columns=[f"f{i}" for i in range(N_FEATURES)])
    frame["site"] = rng.choice(["north", "south", "=cmd()"], N_ROWS)
    pacsv.write_csv(pa.Table.from_pandas(frame, preserve_index=False), path)
    return frame


def test_score_a_million_rows(tmp_path):
    rng = np.random.default_rng(0)
    src = tmp_path / "big.csv"
    frame = _write_big_csv(src, rng)
    features = [f"f{i}" for i in range(N_FEATURES)]
    detector = AutoencoderDetector(epochs=3).fit(frame[features].iloc[:20_000])
    model_path = tmp_path / "model.zip"
    save_bundle(detector, model_path, {})

    x = detector.transform_features(frame[features])
    detector.model_(x[:1000])
    t0 = time.perf_counter()
    detector.model_(x, training=False)
    t_bare = time.perf_counter() - t0
    t0 = time.perf_counter()
    detector.model_.predict(x, verbose=0)
    t_default_predict = time.perf_counter() - t0

    codes = detector._network_outputs(x)[1]
    t0 = time.perf_counter()
    detector._neighbour_distance(codes)
    t_neighbours = time.perf_counter() - t0

    t0 = time.perf_counter()
    summary = score_csv(detector, src, tmp_path / "out.csv")
    t_score = time.perf_counter() - t0
    assert summary["rows"] == N_ROWS

    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "core", "score", str(model_path), str(src), "--out", str(tmp_path / "cli.csv")],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    t_cli = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    assert proc.returncode == 0, proc.stderr
    out_head = (tmp_path / "out.csv").read_text().splitlines()[:3]
    print(f"\n{N_ROWS:,} rows × {N_FEATURES} features: score_csv {t_score:.1f} s ({N_ROWS / t_score:,.0f} rows/s); "
          f"bare Keras call {t_bare:.2f} s ({N_ROWS / t_bare:,.0f} rows/s), score_csv / bare = {t_score / t_bare:.1f}×; "
          f"model.predict at batch 32: {t_default_predict:.1f} s; code-neighbour part alone {t_neighbours:.1f} s ({t_neighbours / t_score:.0%} of score_csv); command line (start-up included) {t_cli:.1f} s, peak RSS {peak_mb:,.0f} MB")
    print("  " + "\n  ".join(out_head))
