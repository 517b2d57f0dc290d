"""Scoring a CSV of any size in chunks, and writing it safely for spreadsheets."""

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


def escape_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet would run as a formula get a leading apostrophe.

    Only text (object / string) columns are touched: numbers, negative ones
    included, stay numbers.
    """
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_numeric_dtype(out[column]) or pd.api.types.is_bool_dtype(out[column]):
            continue
        values = out[column]
        mask = values.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_PREFIXES))
        if mask.any():
            out[column] = values.where(~mask, "'" + values.astype(str))
    return out


def score_frame(detector, frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with ``anomaly_score`` and ``is_anomaly`` (0/1) appended."""
    scores = detector.decision_function(frame)
    out = frame.copy()
    out["anomaly_score"] = scores
    out["is_anomaly"] = (scores > detector.threshold_).astype(np.int8)
    return out


def score_csv(
    detector,
    source: str | Path,
    dest: str | Path,
    chunk_rows: int = CHUNK_ROWS,
    progress: Optional[Callable[[int], None]] = None,
) -> dict[str, int]:
    """Score a CSV file chunk by chunk so memory stays flat; returns row and flag counts.

    Only the model's feature columns are read; every other column (the training
    label among them) is carried through unchanged.
    """
    path = Path(source)
    if not path.is_file():
        raise DataError(f"File not found: {path}. Check the path and try again.")
    with open(path, "r", encoding="utf-8-sig", errors="replace") as fh:
        head = fh.read(256 * 1024)
    lines = _non_blank_lines(head)[:200]
    if len(lines) < 1:
        raise DataError("The file is empty. Choose a CSV file with rows of values.")
    delimiter = _sniff_delimiter(lines)
    header = _has_header(list(csv.reader(lines, delimiter=delimiter)))
    rows = flagged = 0
    names = None
    reader = pd.read_csv(path, sep=delimiter, header=0 if header else None, chunksize=chunk_rows, encoding="utf-8-sig", skip_blank_lines=True, low_memory=False)
    with open(dest, "w", newline="", encoding="utf-8") as out:
        for i, chunk in enumerate(reader):
            if not header:
                chunk.columns = [f"col_{j}" for j in range(chunk.shape[1])]
            chunk.columns = [str(c).strip() for c in chunk.columns]
            if i == 0:
                detector.preprocessor_.check_columns(chunk)
            scored = score_frame(detector, chunk)
            escape_formulas(scored).to_csv(out, header=(i == 0), index=False)
            rows += len(chunk)
            flagged += int(scored["is_anomaly"].sum())
            if progress:
                progress(rows)
    return {"rows": rows, "flagged": flagged}
