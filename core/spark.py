"""Scoring a Spark DataFrame with a bundle, partition by partition (``mapInPandas``).

The bundle's bytes travel to the executors once, as a broadcast of bytes (a
Keras model does not pickle, and should not). Each Python worker loads the
model on its first batch, keeps it in a cache keyed by the bundle's hash and
reuses it for every later batch. A dense-family model scores in NumPy
(:mod:`core.dense_forward`), so a worker never imports TensorFlow for it; a
conv1d or LSTM model imports it there, inside the worker, never on the driver. The ``core`` package travels with the job
(``addPyFile``) so a cluster needs only the same Python libraries installed.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import os
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.errors import DataError
from core.served_model import band_in_use

#: Per Python worker: bundle hash → loaded model. Filled inside executors only.
_WORKER_MODELS: dict[str, Any] = {}
_SHIPPED: set[str] = set()


def spark_session(master: str = "local[*]"):
    """A Spark session whose Python workers run this interpreter (they need the same libraries)."""
    if not shutil.which("java") and not os.environ.get("JAVA_HOME"):
        raise DataError("Spark needs a Java runtime and none was found. Install one (Debian: apt-get install openjdk-17-jre-headless) or use --engine local.")
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise DataError("Spark scoring needs pyspark. Install it with: pip install pyspark") from None
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    return (SparkSession.builder.master(master).appName("anomaly-lab-score")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .getOrCreate())


def _ship_code(sc) -> None:
    """Send the ``core`` package to the executors once per Spark application."""
    if sc.applicationId in _SHIPPED:
        return
    package = Path(__file__).resolve().parent
    folder = Path(tempfile.mkdtemp(prefix="anomaly-lab-code-"))
    archive = folder / "anomaly_lab_core.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for source in sorted(package.glob("*.py")):
            zf.write(source, f"core/{source.name}")
    sc.addPyFile(str(archive))
    _SHIPPED.add(sc.applicationId)


def _worker_model(key: str, source, threshold: float | None):
    """The model for ``key``, loaded once per Python worker (TensorFlow is imported here for conv1d and LSTM only)."""
    model = _WORKER_MODELS.get(key)
    if model is None:
        from core.served_model import ServedModel

        model = ServedModel.from_bundle(source.value, threshold=threshold)
        _WORKER_MODELS[key] = model
    return model


def feature_frame(batch: pd.DataFrame, model, decimal: str = ".") -> pd.DataFrame:
    """The model's columns as the local engine parses them: numbers from text (unparseable → missing), text kept."""
    data = {}
    for feature in model.features:
        values = batch[feature.name]
        if feature.kind == "number":
            if decimal != "." and not pd.api.types.is_numeric_dtype(values):
                values = values.astype("string").str.replace(decimal, ".", regex=False)
            data[feature.name] = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            data[feature.name] = values.astype(object).where(values.notna(), np.nan).to_numpy(dtype=object)
    return pd.DataFrame(data)


def _score_batches(batches: Iterator[pd.DataFrame], key: str, source, threshold: float | None, escape: bool, counters=None,
                   decimal: str = ".", written_decimal: str | None = None) -> Iterator[pd.DataFrame]:
    model = _worker_model(key, source, threshold)
    for batch in batches:
        outputs = model.outputs(model.score(feature_frame(batch, model, decimal)))
        scores, flags = outputs["anomaly_score"], outputs["is_anomaly"].astype(np.int32)
        added = {name: values.astype(np.int32) for name, values in outputs.items() if name not in ("anomaly_score", "is_anomaly")}  # for_review
        if counters is not None:
            counters[0].add(len(batch))
            counters[1].add(int(flags.sum()))
        if escape:
            from core.scoring import escape_formulas

            batch = escape_formulas(batch)
        if written_decimal is not None:  # written as the local engine writes it: text with the file's own decimal mark
            from core.scoring import _format_numbers

            yield batch.assign(anomaly_score=_format_numbers(scores, written_decimal).to_pandas(), is_anomaly=flags, **added)
        else:
            yield batch.assign(anomaly_score=scores, is_anomaly=flags, **added)


def score_dataframe(df, bundle: str | Path | bytes, threshold: float | None = None, escape_text: bool = False, counters=None,
                    decimal: str = ".", written_decimal: str | None = None):
    """``df`` plus ``anomaly_score`` (double), ``is_anomaly`` (0/1) and, for a model saved with a review band (and no
    ``threshold`` given instead), ``for_review`` (0/1), computed on the executors.

    Lazy, like any Spark transformation: nothing runs until the result is written
    or collected. ``escape_text`` prefixes text cells that a spreadsheet would run
    as formulas (what the command line does for CSV output). ``written_decimal``
    makes ``anomaly_score`` text with that decimal mark, as the local engine writes
    a file whose numbers use it.
    """
    from pyspark.sql.types import DoubleType, IntegerType, StringType, StructField, StructType

    raw = bytes(bundle) if isinstance(bundle, (bytes, bytearray)) else Path(bundle).read_bytes()
    from core.scoring import score_columns

    added = score_columns(band_in_use(raw, threshold))
    clash = [c for c in added if c in df.columns]
    if clash:
        raise DataError(f"The table already has column(s) {', '.join(map(repr, clash))}; rename them before scoring.")
    sc = df.sparkSession.sparkContext
    _ship_code(sc)
    key = hashlib.sha256(raw).hexdigest()
    schema = StructType(list(df.schema.fields) + [StructField("anomaly_score", StringType() if written_decimal else DoubleType(), False)]
                        + [StructField(name, IntegerType(), False) for name in added[1:]])
    work = functools.partial(_score_batches, key=key, source=sc.broadcast(raw), threshold=threshold, escape=escape_text, counters=counters, decimal=decimal,
                             written_decimal=written_decimal)
    return df.mapInPandas(work, schema)


def _csv_layout(path: Path) -> tuple[str, list[str], bool, str, str]:
    """Delimiter, column names, header presence, decimal mark and encoding, found by the local engine's own code."""
    try:  # the one dialect detector once the reader records a Dialect (issue 13)
        from core.scoring import _open_path
    except ImportError:
        _open_path = None
    if _open_path is not None:
        stream, names, dialect = _open_path(path)
        stream.close()
        return dialect.delimiter, list(names), bool(dialect.header), dialect.decimal, dialect.encoding
    from core.scoring import _sniff_file

    delimiter, header, n_columns = _sniff_file(path)
    if not header:
        return delimiter, [f"col_{i}" for i in range(n_columns)], False, ".", "utf-8"
    with open(path, encoding="utf-8-sig", errors="replace") as fh:
        first = next(line for line in fh if line.strip())
    return delimiter, [n.strip() for n in next(csv.reader([first], delimiter=delimiter))], True, ".", "utf-8"


def _java_charset(encoding: str) -> str:
    name = encoding.lower().replace("_", "-")
    if name.startswith("utf-8"):
        return "UTF-8"
    return {"latin-1": "ISO-8859-1", "latin1": "ISO-8859-1", "iso-8859-1": "ISO-8859-1", "cp1252": "windows-1252"}.get(name, encoding)


def score_csv_spark(bundle: str | Path, source: str | Path, dest: str | Path, master: str = "local[*]",
                    threshold: float | None = None, spark=None) -> dict[str, int]:
    """Score a CSV on Spark and write one CSV with the same columns as ``python -m core score``.

    Every column is read as text and written back as it was; only the model's
    feature columns are parsed for scoring. ``dest`` is a file on the driver's disk.
    """
    from core.served_model import (
        ServedModel,  # checks the bundle on the driver before any Spark work
    )

    path = Path(source)
    if not path.is_file():
        raise DataError(f"File not found: {path}. Check the path and try again.")
    checked = ServedModel.from_bundle(bundle, threshold=threshold)
    delimiter, names, header, decimal, encoding = _csv_layout(path)
    missing = [f.name for f in checked.features if f.name not in names]
    if missing:
        raise DataError(f"The table lacks column(s) the model needs: {', '.join(map(repr, missing))}. Use a table with the same columns as the training data.")
    spark = spark or spark_session(master)
    frame = (spark.read.option("header", header).option("sep", delimiter).option("quote", '"').option("escape", '"')
             .option("encoding", _java_charset(encoding))
             .option("inferSchema", False).option("mode", "FAILFAST").csv(str(path)))
    frame = frame.toDF(*names)
    rows, flagged = spark.sparkContext.accumulator(0), spark.sparkContext.accumulator(0)
    scored = score_dataframe(frame, Path(bundle).read_bytes(), threshold, escape_text=True, counters=(rows, flagged), decimal=decimal,
                             written_decimal=decimal if decimal != "." else None)
    parts = Path(tempfile.mkdtemp(prefix="anomaly-lab-spark-", dir=Path(dest).resolve().parent))
    try:
        (scored.write.mode("overwrite").option("header", False).option("sep", delimiter).option("quote", '"').option("escape", '"')
         .csv(str(parts / "out")))
        with open(dest, "wb") as out:
            writer = csv.writer(_TextOut(out), delimiter=delimiter, lineterminator="\n")
            writer.writerow(list(names) + scored.columns[len(names):])
            for part in sorted((parts / "out").glob("part-*")):
                with open(part, "rb") as fh:
                    shutil.copyfileobj(fh, out, 1 << 20)
    except BaseException:
        Path(dest).unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(parts, ignore_errors=True)
    return {"rows": int(rows.value), "flagged": int(flagged.value)}


class _TextOut:
    """``csv.writer`` on a binary file, UTF-8."""

    def __init__(self, out) -> None:
        self.out = out

    def write(self, text: str) -> None:
        self.out.write(text.encode("utf-8"))
