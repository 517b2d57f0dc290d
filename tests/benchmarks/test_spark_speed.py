"""Scoring 1,000,000 rows on local Spark beside the local engine, and where Spark's time goes.

Same file (20 float features + a text column) and the same bundle for both engines.
Spark runs ``local[2]``; the stages are timed by running the same job with less work:
read only (noop sink), read + score (noop sink), then the full command (read, score,
write CSV, join the part files).
"""

from __future__ import annotations

import os
import shutil
import sys
import time

import numpy as np
import pytest

from core.bundle import save_bundle
from core.detector import AutoencoderDetector
from core.scoring import score_csv
from tests.benchmarks.test_scoring_speed import N_FEATURES, N_ROWS, _write_big_csv

pytestmark = pytest.mark.benchmark


@pytest.mark.skipif(not shutil.which("java"), reason="Spark needs Java")
def test_spark_local_beside_the_local_engine(tmp_path):
    pytest.importorskip("pyspark")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    from core.spark import score_csv_spark, score_dataframe, spark_session

    rng = np.random.default_rng(0)
    src = tmp_path / "big.csv"
    frame = _write_big_csv(src, rng)
    features = [f"f{i}" for i in range(N_FEATURES)] + ["site"]
    detector = AutoencoderDetector(epochs=3).fit(frame[features].iloc[:20_000])
    bundle = tmp_path / "model.zip"
    save_bundle(detector, bundle, {})
    del frame

    t0 = time.perf_counter()
    score_csv(detector, src, tmp_path / "local.csv")
    t_local = time.perf_counter() - t0

    t0 = time.perf_counter()
    spark = spark_session("local[2]")
    t_session = time.perf_counter() - t0
    reader = spark.read.option("header", True).option("inferSchema", False)
    t0 = time.perf_counter()
    table = reader.csv(str(src))
    partitions = table.rdd.getNumPartitions()
    table.write.format("noop").mode("overwrite").save()
    t_read = time.perf_counter() - t0
    t0 = time.perf_counter()
    score_dataframe(table.limit(2).repartition(2), bundle).write.format("noop").mode("overwrite").save()
    t_workers = time.perf_counter() - t0  # fresh Python workers: TensorFlow import + model load
    t0 = time.perf_counter()
    score_dataframe(table, bundle).write.format("noop").mode("overwrite").save()
    t_score = time.perf_counter() - t0
    t0 = time.perf_counter()
    summary = score_csv_spark(bundle, src, tmp_path / "spark.csv", spark=spark)
    t_full = time.perf_counter() - t0
    assert summary["rows"] == N_ROWS

    print(f"\n{N_ROWS:,} rows x {N_FEATURES} features + 1 text column, {os.cpu_count()} cores, Spark local[2], {partitions} partitions")
    print(f"local engine (score_csv):            {t_local:6.1f} s  {N_ROWS / t_local:>10,.0f} rows/s")
    print(f"Spark, whole command (read, score, write, join parts): {t_full:6.1f} s  {N_ROWS / t_full:>10,.0f} rows/s  ({t_local / t_full:.2f}x local)")
    print("where Spark's time goes:")
    print(f"  session start (JVM), once:          {t_session:6.1f} s")
    print(f"  reading + splitting the CSV:        {t_read:6.1f} s")
    print(f"  read + score, no output:            {t_score:6.1f} s  (scoring + Arrow transfer to Python ~ {t_score - t_read:.1f} s)")
    print(f"  writing CSV + joining the parts:    {t_full - t_score:6.1f} s  (includes the driver's bundle check)")
    print(f"  a job on fresh workers (import TF, load model), tiny data: {t_workers:.1f} s")
    spark.stop()
