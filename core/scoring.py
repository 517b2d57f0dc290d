"""Scoring new tables with a fitted detector: in memory or a CSV of any size in chunks,
and writing the result so that a spreadsheet cannot run a cell as a formula."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import pandas as pd

from core.data import _has_header, _non_blank_lines, _sniff_delimiter
from core.errors import DataError

CHUNK_ROWS = 100_000
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: A cell that starts like a formula but is a plain number (-1.5, +2e3) stays a number.
PLAIN_NUMBER = r"^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$"
FORMULA_START = r"^[=+\-@\t\r]"
Progress = Optional[Callable[[int], None]]


def escape_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet would run as a formula get a leading apostrophe.

    Numeric columns are not touched, and neither is a text cell that is a plain
    number: numbers, negative ones included, stay numbers.
    """
    out = frame
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            continue
        text = values.astype("string")
        mask = (text.str.contains(FORMULA_START, regex=True) & ~text.str.contains(PLAIN_NUMBER, regex=True)).fillna(False).to_numpy(dtype=bool)
        if mask.any():
            if out is frame:
                out = frame.copy()
            out[column] = values.where(~mask, "'" + text)
    return out


def _escape_arrow(column):
    """The same rule on an Arrow string column."""
    import pyarrow.compute as pc

    mask = pc.and_(pc.match_substring_regex(column, FORMULA_START), pc.invert(pc.match_substring_regex(column, PLAIN_NUMBER)))
    if not pc.any(mask).as_py():
        return column
    return pc.if_else(mask, pc.binary_join_element_wise("'", column, ""), column)


def _feature_frame(batch, preprocessor) -> pd.DataFrame:
    """The model's columns of an all-text Arrow batch, numbers parsed (fast path: Arrow's cast)."""
    import pyarrow as pa

    data = {}
    numeric = {c.name for c in preprocessor.numeric}
    for name in preprocessor.required_columns:
        column = batch.column(name)
        if name in numeric:
            try:
                data[name] = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                data[name] = pd.to_numeric(column.to_pandas(), errors="coerce").to_numpy(dtype=float)
        else:
            data[name] = column.to_pandas().astype(object)
    return pd.DataFrame(data)


def score_table(detector, frame: pd.DataFrame, chunk_rows: int = CHUNK_ROWS, progress: Progress = None) -> np.ndarray:
    """Anomaly scores of every row, computed ``chunk_rows`` at a time (for a progress bar)."""
    detector.preprocessor_.check_columns(frame)
    parts = []
    for start in range(0, len(frame), chunk_rows):
        parts.append(detector.decision_function(frame.iloc[start:start + chunk_rows]))
        if progress:
            progress(min(start + chunk_rows, len(frame)))
    return np.concatenate(parts) if parts else np.empty(0)


def with_scores(frame: pd.DataFrame, scores: np.ndarray, threshold: float) -> pd.DataFrame:
    """The input columns unchanged, plus ``anomaly_score`` and ``is_anomaly`` (0/1)."""
    out = frame.copy()
    out["anomaly_score"] = scores
    out["is_anomaly"] = (scores > threshold).astype(np.int8)
    return out


def score_frame(detector, frame: pd.DataFrame) -> pd.DataFrame:
    return with_scores(frame, detector.decision_function(frame), detector.threshold_)


def scored_csv_bytes(frame: pd.DataFrame, scores: np.ndarray, threshold: float) -> bytes:
    """The download: input columns + score + flag, formulas escaped, UTF-8."""
    return escape_formulas(with_scores(frame, scores, threshold)).to_csv(index=False).encode("utf-8")


def top_rows(frame: pd.DataFrame, scores: np.ndarray, threshold: float, n: int = 100) -> pd.DataFrame:
    """The ``n`` most anomalous rows, highest score first, with their row number in the file."""
    n = min(n, len(scores))
    order = np.argpartition(-scores, n - 1)[:n] if n else np.array([], int)
    order = order[np.argsort(-scores[order], kind="stable")]
    out = frame.iloc[order].copy()
    out.insert(0, "row", order + 1)
    out.insert(1, "anomaly_score", scores[order])
    out.insert(2, "is_anomaly", (scores[order] > threshold).astype(np.int8))
    return out


def _sniff_file(path: Path) -> tuple[str, bool, int]:
    """Delimiter, whether there is a header, and the number of columns, from the file's head."""
    with open(path, "r", encoding="utf-8-sig", errors="replace") as fh:
        head = fh.read(256 * 1024)
    lines = _non_blank_lines(head)[:200]
    if not lines:
        raise DataError("The file is empty. Choose a CSV file with rows of values.")
    delimiter = _sniff_delimiter(lines)
    rows = list(csv.reader(lines, delimiter=delimiter))
    return delimiter, _has_header(rows), len(rows[0])


def score_csv(detector, source: str | Path, dest: str | Path, chunk_rows: int = CHUNK_ROWS, progress: Progress = None) -> dict[str, int]:
    """Score a CSV file chunk by chunk, so memory stays flat whatever its size.

    Every column is read as text and written back exactly as it was (the
    training label among them); only the model's feature columns are parsed for
    scoring. Reading and writing go through Arrow's CSV engine, several times
    faster than pandas'.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    path = Path(source)
    if not path.is_file():
        raise DataError(f"File not found: {path}. Check the path and try again.")
    delimiter, header, n_columns = _sniff_file(path)
    names = None if header else [f"col_{i}" for i in range(n_columns)]
    if header:
        with open(path, "r", encoding="utf-8-sig", errors="replace") as fh:
            names = [n.strip() for n in next(csv.reader([_non_blank_lines(fh.read(1 << 20))[0]], delimiter=delimiter))]
    read_options = pacsv.ReadOptions(block_size=1 << 24, column_names=names, skip_rows=1 if header else 0)
    convert = pacsv.ConvertOptions(column_types={n: pa.string() for n in names}, strings_can_be_null=True)
    missing = [c for c in detector.preprocessor_.required_columns if c not in names]
    if missing:
        raise DataError(f"The table lacks column(s) the model needs: {', '.join(map(repr, missing))}. Use a table with the same columns as the training data.")
    try:
        reader = pacsv.open_csv(path, read_options=read_options, parse_options=pacsv.ParseOptions(delimiter=delimiter), convert_options=convert)
    except pa.ArrowInvalid as exc:
        raise DataError(f"The CSV could not be read: {str(exc).splitlines()[0]}. Check that every row has the same number of fields.") from None
    rows = flagged = 0
    writer = schema = None
    try:
        with open(dest, "wb") as out:
            while True:
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    break
                except pa.ArrowInvalid as exc:
                    raise DataError(f"The CSV could not be read after row {rows:,}: {str(exc).splitlines()[0]}.") from None
                for start in range(0, batch.num_rows, chunk_rows):
                    chunk = batch.slice(start, chunk_rows)
                    scores = detector.decision_function(_feature_frame(chunk, detector.preprocessor_))
                    flags = (scores > detector.threshold_).astype(np.int8)
                    columns = [_escape_arrow(chunk.column(i)) for i in range(chunk.num_columns)] + [pa.array(scores), pa.array(flags)]
                    table = pa.Table.from_arrays(columns, names=list(names) + ["anomaly_score", "is_anomaly"])
                    if writer is None:
                        schema = table.schema
                        writer = pacsv.CSVWriter(out, schema, write_options=pacsv.WriteOptions(quoting_style="needed"))
                    writer.write_table(table)
                    rows += chunk.num_rows
                    flagged += int(flags.sum())
                    if progress:
                        progress(rows)
            if writer is not None:
                writer.close()
    except BaseException:
        Path(dest).unlink(missing_ok=True)
        raise
    return {"rows": rows, "flagged": flagged}
