"""Loading a 1,500,000 × 12 table: seconds and peak memory of ``read_table``, in a fresh process.

Targets (issue 13): at most 10 s and 2 GB peak RSS. Prints the numbers; asserts nothing about time.
Run: ``python -m pytest -m benchmark -s tests/benchmarks/test_memory.py`` or
``python -m tests.benchmarks.test_memory`` (same measurement).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.benchmark
N_ROWS, N_COLUMNS = 1_500_000, 12

MEASURE = r"""
import json, resource, sys, time, tracemalloc
sys.path.insert(0, sys.argv[2])
import numpy, pandas, pyarrow, pyarrow.csv  # imports outside the measurement
from core.data import read_table
from core.target import feature_choice
start_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t0 = time.perf_counter()
table = read_table(sys.argv[1], max_bytes=1 << 31)
t_read = time.perf_counter() - t0
t0 = time.perf_counter()
choice = feature_choice(table.frame, "label")
t_choice = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
frame_mb = table.frame.memory_usage(deep=True).sum() / 2**20
print(json.dumps({"rows": table.shape[0], "columns": table.shape[1], "read_s": t_read, "feature_choice_s": t_choice,
                  "rss_before_mb": start_rss, "peak_rss_mb": peak, "frame_mb": frame_mb}))
"""


def write_table(path: Path) -> float:
    """A 1.5 M × 12 CSV (11 float columns and a text label), written by Arrow; returns its size in MB."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(N_ROWS, N_COLUMNS - 1)).round(5), columns=[f"s{i}" for i in range(N_COLUMNS - 1)])
    frame["label"] = rng.choice(["normal", "fault"], N_ROWS, p=[0.95, 0.05])
    pacsv.write_csv(pa.Table.from_pandas(frame, preserve_index=False), path)
    return path.stat().st_size / 1e6


def measure(path: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", MEASURE, str(path), str(ROOT)], capture_output=True, text=True, timeout=600, check=True)
    return json.loads(out.stdout.strip().split("\n")[-1])


def test_load_one_and_a_half_million_rows(tmp_path):
    path = tmp_path / "big.csv"
    size = write_table(path)
    result = measure(path)
    assert result["rows"] == N_ROWS and result["columns"] == N_COLUMNS
    print(f"\n{N_ROWS:,} × {N_COLUMNS} CSV, {size:.0f} MB: read_table {result['read_s']:.1f} s (target ≤ 10 s), "
          f"peak RSS {result['peak_rss_mb']:,.0f} MB (target ≤ 2,048 MB; {result['rss_before_mb']:,.0f} MB after imports), "
          f"frame {result['frame_mb']:,.0f} MB, feature_choice {result['feature_choice_s']:.2f} s")


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        test_load_one_and_a_half_million_rows(Path(tmp))


def test_load_a_wide_table():
    """5,000 columns × 50 rows (the column limit): read and choose features, printed in seconds."""
    import time

    from core.data import read_table
    from core.target import feature_choice

    rows = np.random.default_rng(0).normal(size=(50, 5000)).round(4)
    raw = (",".join(f"c{i}" for i in range(5000)) + "\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n").encode()
    t0 = time.perf_counter()
    table = read_table(raw)
    t_read = time.perf_counter() - t0
    t0 = time.perf_counter()
    choice = feature_choice(table.frame, None)
    t_choice = time.perf_counter() - t0
    assert len(choice.features) == 5000
    print(f"\n5,000 columns × 50 rows ({len(raw) / 1e6:.1f} MB): read_table {t_read:.1f} s, feature_choice {t_choice:.1f} s")
