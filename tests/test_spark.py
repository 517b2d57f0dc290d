"""Scoring on local Spark agrees with the local engine, row for row."""

import os
import shutil
import sys

import numpy as np
import pandas as pd
import pytest

from core.cli import main
from tests.serving_fixtures import SAMPLE, banded_bundle, shared_bundle

pyspark = pytest.importorskip("pyspark")
if not shutil.which("java") and not os.environ.get("JAVA_HOME"):
    pytest.skip("Spark needs a Java runtime (apt-get install openjdk-17-jre-headless)", allow_module_level=True)

pytestmark = pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning", "ignore:The copy keyword is deprecated")

#: float32 has ~7 significant digits; a row's score may differ in its last bits with the batch it ran in.
FLOAT32 = {"rtol": 2e-6, "atol": 1e-6}


@pytest.fixture(scope="module")
def spark():
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master("local[2]").appName("anomaly-lab-tests").config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "2").getOrCreate())
    yield session
    session.stop()


@pytest.fixture(scope="module")
def bundle():
    return shared_bundle()


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    """The machine sample (3,000 rows, text column, label) with holes in numbers and text, and a formula-like cell."""
    frame = pd.read_csv(SAMPLE)
    rng = np.random.default_rng(0)
    frame.loc[rng.choice(len(frame), 60, replace=False), "rpm"] = np.nan
    frame.loc[rng.choice(len(frame), 40, replace=False), "machine"] = np.nan
    frame.loc[rng.choice(len(frame), 30, replace=False), "noise_db"] = np.nan
    frame.loc[5, "status"] = "=HYPERLINK(1)"
    path = tmp_path_factory.mktemp("spark-data") / "holes.csv"
    frame.to_csv(path, index=False)
    return path


def test_spark_engine_writes_the_local_engines_columns_and_scores(spark, bundle, table, tmp_path):
    local, remote = tmp_path / "local.csv", tmp_path / "spark.csv"
    assert main(["score", str(bundle), str(table), "--out", str(local)]) == 0
    assert main(["score", str(bundle), str(table), "--out", str(remote), "--engine", "spark", "--master", "local[2]"]) == 0
    a, b = pd.read_csv(local, keep_default_na=False), pd.read_csv(remote, keep_default_na=False)
    assert list(b.columns) == list(a.columns) and len(b) == len(a) == 3000
    pd.testing.assert_frame_equal(b.drop(columns=["anomaly_score"]), a.drop(columns=["anomaly_score"]))  # label, text, holes, flags
    np.testing.assert_allclose(b["anomaly_score"], a["anomaly_score"], **FLOAT32)
    assert a.loc[5, "status"] == "'=HYPERLINK(1)"  # both engines escape formulas


def test_an_ensemble_bundle_scores_on_spark_as_locally(spark, table, tmp_path):
    model, local, remote = tmp_path / "ensemble.zip", tmp_path / "local.csv", tmp_path / "spark.csv"
    assert main(["train", str(SAMPLE), "--label", "status", "--normal", "normal", "--epochs", "2", "--networks", "2", "--out", str(model)]) == 0
    assert main(["score", str(model), str(table), "--out", str(local)]) == 0
    assert main(["score", str(model), str(table), "--out", str(remote), "--engine", "spark", "--master", "local[2]"]) == 0
    a, b = pd.read_csv(local, keep_default_na=False), pd.read_csv(remote, keep_default_na=False)
    np.testing.assert_allclose(b["anomaly_score"], a["anomaly_score"], **FLOAT32)
    assert (b["is_anomaly"] == a["is_anomaly"]).all()


def test_spark_marks_the_review_band_saved_with_the_model_as_the_local_engine_does(spark, bundle, table, tmp_path):
    banded, low = banded_bundle(bundle, tmp_path / "banded.zip")
    local, remote = tmp_path / "local.csv", tmp_path / "spark.csv"
    assert main(["score", str(banded), str(table), "--out", str(local)]) == 0
    assert main(["score", str(banded), str(table), "--out", str(remote), "--engine", "spark", "--master", "local[2]"]) == 0
    a, b = pd.read_csv(local, keep_default_na=False), pd.read_csv(remote, keep_default_na=False)
    assert list(b.columns[-3:]) == list(a.columns[-3:]) == ["anomaly_score", "is_anomaly", "for_review"]
    assert (b["for_review"] == a["for_review"]).all() and 0 < a["for_review"].sum() < len(a)


def test_score_dataframe_agrees_with_local_scores_on_typed_columns(spark, bundle, table):
    from core.served_model import ServedModel
    from core.spark import score_dataframe

    frame = pd.read_csv(table)
    typed = spark.createDataFrame(frame.astype({"machine": object, "status": object}).where(frame.notna(), None))
    scored = score_dataframe(typed.repartition(3), bundle).toPandas()
    model = ServedModel.from_bundle(bundle)
    expected = pd.Series(model.score(model.validate(frame, allow_extra=True)), index=frame.index)
    scored = scored.sort_values(["ambient_c", "current_a"]).reset_index(drop=True)
    order = frame.sort_values(["ambient_c", "current_a"]).index
    np.testing.assert_allclose(scored["anomaly_score"], expected.loc[order].to_numpy(), **FLOAT32)
    assert scored["status"].tolist() == frame.loc[order, "status"].tolist()


def test_each_python_worker_loads_the_model_once_and_reuses_it(bundle):
    from core import spark as spark_module

    class Broadcast:  # what a worker sees: the bundle's bytes, read on demand
        reads = 0

        @property
        def value(self):
            Broadcast.reads += 1
            return bundle.read_bytes()

    spark_module._WORKER_MODELS.clear()
    batches = [pd.read_csv(SAMPLE).head(10)] * 3
    try:
        for _ in range(2):  # two tasks in the same worker, three batches each
            out = list(spark_module._score_batches(iter(batches), key="bundle-hash", source=Broadcast(), threshold=None, escape=False))
            assert len(out) == 3 and out[0]["anomaly_score"].notna().all()
        assert Broadcast.reads == 1
    finally:
        spark_module._WORKER_MODELS.clear()


def test_spark_engine_without_java_says_how_to_get_it(monkeypatch):
    from core import spark as spark_module
    from core.errors import DataError

    monkeypatch.setattr(spark_module.shutil, "which", lambda name: None)
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(DataError) as caught:
        spark_module.spark_session("local[1]")
    assert "openjdk-17-jre-headless" in str(caught.value) and "--engine local" in str(caught.value)


def test_workers_parse_numbers_as_the_local_engine_does():
    from core.served_model import Feature
    from core.spark import feature_frame

    class Model:
        features = (Feature("x", "number"), Feature("kind", "string"))

    batch = pd.DataFrame({"x": ["1,5", "oops", None], "kind": ["a", None, "b"]})
    out = feature_frame(batch, Model(), decimal=",")
    assert out["x"].tolist()[0] == 1.5 and np.isnan(out["x"].tolist()[1:]).all()
    assert out["kind"].tolist()[0] == "a" and pd.isna(out["kind"].tolist()[1])


def test_a_decimal_comma_file_gets_its_scores_written_with_a_comma_by_both_engines(spark, bundle, table, tmp_path):
    source = tmp_path / "semicolons.csv"
    pd.read_csv(table).to_csv(source, index=False, sep=";", decimal=",")
    local, remote = tmp_path / "local.csv", tmp_path / "spark.csv"
    assert main(["score", str(bundle), str(source), "--out", str(local)]) == 0
    assert main(["score", str(bundle), str(source), "--out", str(remote), "--engine", "spark", "--master", "local[2]"]) == 0
    raw_local, raw_remote = (pd.read_csv(p, sep=";", dtype=str, keep_default_na=False) for p in (local, remote))
    assert raw_remote["anomaly_score"].str.contains(",").all() and not raw_remote["anomaly_score"].str.contains(r"\.").any()
    assert raw_local["anomaly_score"].str.contains(",").all()
    a, b = (pd.read_csv(p, sep=";", decimal=",", keep_default_na=False) for p in (local, remote))
    pd.testing.assert_frame_equal(b.drop(columns=["anomaly_score"]), a.drop(columns=["anomaly_score"]))
    np.testing.assert_allclose(b["anomaly_score"], a["anomaly_score"], **FLOAT32)
