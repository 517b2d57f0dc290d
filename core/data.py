"""Reading a CSV table from a path, bytes or an uploaded buffer.

The reader is forgiving about format (delimiter, header, encoding, decimal comma,
blank lines) and strict about content: every problem raises :class:`DataError`
with a message that names the problem and the fix.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Union

import numpy as np
import pandas as pd

from core.errors import DataError

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 200 * 1024 * 1024
DELIMITERS = (",", ";", "\t", "|")
SNIFF_LINES = 200
_NUMBER = re.compile(r"^\s*[-+]?(\d+([.,]\d*)?|[.,]\d+)([eE][-+]?\d+)?\s*$|^\s*[-+]?(inf|infinity|nan)\s*$", re.I)
_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d+,\d+\s*$")

Source = Union[str, Path, bytes, bytearray, BinaryIO]


@dataclass
class Table:
    """A validated table with where it came from and what was noticed reading it."""

    frame: pd.DataFrame
    name: str
    sha256: str
    findings: list[str] = field(default_factory=list)

    @property
    def shape(self) -> tuple[int, int]:
        return self.frame.shape


def _read_bytes(source: Source, max_bytes: int) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray)):
        return bytes(source), "uploaded table"
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise DataError(f"File not found: {path}. Check the path and try again.")
        size = path.stat().st_size
        if size > max_bytes:
            raise DataError(_too_large(size, max_bytes))
        return path.read_bytes(), path.name
    if hasattr(source, "read"):
        data = source.read()
        if isinstance(data, str):
            data = data.encode("utf-8")
        return data, getattr(source, "name", "uploaded table")
    raise DataError(f"Cannot read a table from {type(source).__name__}; give a path, bytes or a file.")


def _too_large(size: int, max_bytes: int) -> str:
    return (
        f"The file is {size / 1e6:.1f} MB, larger than the limit of {max_bytes / 1e6:.1f} MB. "
        "Use a sample of the rows, or raise the limit (max_bytes, or server.maxUploadSize in the app)."
    )


def _decode(raw: bytes, findings: list[str]) -> str:
    if raw[:4] == b"PK\x03\x04" or raw[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise DataError("This looks like an Excel or zip file, not a CSV. Save it as CSV (comma-separated) and upload that.")
    if b"\x00" in raw[:65536]:
        raise DataError("The file contains binary bytes (NUL), so it is not a text CSV. Export the data as CSV text.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
        findings.append("The file is not valid UTF-8; it was read as Latin-1. Check accented characters.")
    controls = sum(1 for ch in text[:65536] if ord(ch) < 32 and ch not in "\r\n\t")
    if controls > 0.01 * min(len(text), 65536) + 5:
        raise DataError("The file has many control characters, so it is not a text CSV. Export the data as CSV text.")
    return text


def _non_blank_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip() and line.strip(",;\t| ")]


def _sniff_delimiter(lines: list[str]) -> str:
    sample = "\n".join(lines[:SNIFF_LINES])
    try:
        return csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        pass
    # Fall back: the delimiter whose per-line count is the most consistent and non-zero.
    best, best_score = ",", -1.0
    for delim in DELIMITERS:
        counts = [len(next(csv.reader([line], delimiter=delim))) - 1 for line in lines[:SNIFF_LINES]]
        if not counts or max(counts) == 0:
            continue
        mode = max(set(counts), key=counts.count)
        score = counts.count(mode) / len(counts) + (0.001 * mode)
        if mode > 0 and score > best_score:
            best, best_score = delim, score
    return best


def _is_number(value: str) -> bool:
    return bool(_NUMBER.match(value)) or value.strip() == ""


def _has_header(rows: list[list[str]]) -> bool:
    first, body = rows[0], rows[1:SNIFF_LINES]
    if not body:
        return not all(_is_number(v) for v in first)
    numeric_body_columns = []
    for j in range(len(first)):
        values = [r[j] for r in body if j < len(r) and r[j].strip()]
        if values and sum(_NUMBER.match(v) is not None for v in values) >= 0.9 * len(values):
            numeric_body_columns.append(j)
    if numeric_body_columns:
        return any(not _NUMBER.match(first[j]) and first[j].strip() for j in numeric_body_columns)
    # Every column is text: a header row is one whose values are all distinct labels.
    return len(set(first)) == len(first)


def read_table(source: Source, name: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> Table:
    """Read a CSV into a :class:`Table`, raising :class:`DataError` on any problem.

    Parameters
    ----------
    source : path, bytes or binary file-like (a Streamlit upload works as is).
    name : shown to the user; defaults to the file name.
    max_bytes : refuse larger files before parsing them.

    Examples
    --------
    >>> table = read_table(b"a,b,label\\n1,2,normal\\n3,4,attack\\n")
    >>> table.frame.shape
    (2, 3)
    """
    raw, default_name = _read_bytes(source, max_bytes)
    if len(raw) > max_bytes:
        raise DataError(_too_large(len(raw), max_bytes))
    findings: list[str] = []
    if not raw.strip():
        raise DataError("The file is empty. Choose a CSV file with a header row and at least one data row.")
    text = _decode(raw, findings)
    lines = _non_blank_lines(text)
    if not lines:
        raise DataError("The file has no data, only blank lines. Choose a CSV with rows of values.")
    if len(lines) < len(text.splitlines()):
        findings.append(f"Skipped {len(text.splitlines()) - len(lines)} blank line(s).")
    delimiter = _sniff_delimiter(lines)
    sample_rows = list(csv.reader(lines[:SNIFF_LINES], delimiter=delimiter))
    width = max(len(r) for r in sample_rows)
    if width < 2:
        raise DataError(
            "Only one column was found. A table needs feature columns separated by "
            "a comma, semicolon, tab or '|'; check the delimiter the file uses."
        )
    header = _has_header(sample_rows)
    expected = len(sample_rows[0])
    for i, row in enumerate(sample_rows[1:], start=2):
        if len(row) > expected:
            raise DataError(
                f"The CSV could not be parsed: line {i} has {len(row)} fields but the first line has {expected}. "
                "Check that every row has the same number of fields (and quote text that contains the delimiter)."
            )
    decimal = "."
    if delimiter == ";":
        cells = [c for r in sample_rows[1 if header else 0:] for c in r]
        if any(_DECIMAL_COMMA.match(c) for c in cells):
            decimal = ","
            findings.append("Read ',' as the decimal mark (semicolon-separated file).")
    if header:
        names = sample_rows[0]
        stripped = [n.strip() for n in names]
        dupes = sorted({n for n in stripped if stripped.count(n) > 1})
        if dupes:
            raise DataError(
                f"Duplicate column names: {', '.join(repr(d) for d in dupes)}. Rename the columns so each name is unique."
            )
        if len(lines) < 2:
            raise DataError("The file has a header row but no data rows. Add rows of values below the header.")
    try:
        frame = pd.read_csv(
            io.StringIO("\n".join(lines)),
            sep=delimiter,
            header=0 if header else None,
            decimal=decimal,
            skipinitialspace=True,
            on_bad_lines="error",
            low_memory=False,
            index_col=False,
        )
    except (pd.errors.ParserError, ValueError) as exc:
        detail = str(exc).strip().splitlines()[-1]
        raise DataError(f"The CSV could not be parsed: {detail}. Check that every row has the same number of fields.") from None
    if not header:
        frame.columns = [f"col_{i}" for i in range(frame.shape[1])]
        findings.append("No header row found; columns were named col_0, col_1, ...")
    else:
        frame.columns = [str(c).strip() for c in frame.columns]
    if frame.shape[0] == 0:
        raise DataError("The file has a header row but no data rows. Add rows of values below the header.")
    if frame.shape[1] < 2:
        raise DataError("Only one column was found. Check the delimiter the file uses (comma, semicolon, tab or '|').")
    _check_values(frame, findings)
    name = name or default_name
    sha = hashlib.sha256(raw).hexdigest()
    log.info("read %s: %d rows x %d columns", name, *frame.shape)
    return Table(frame=frame, name=name, sha256=sha, findings=findings)


def _check_values(frame: pd.DataFrame, findings: list[str]) -> None:
    for column in frame.columns:
        series = frame[column]
        if series.isna().all():
            findings.append(f"Column '{column}' is entirely empty; it cannot be used as a feature or label.")
            continue
        if pd.api.types.is_numeric_dtype(series):
            values = series.to_numpy(dtype=float, na_value=np.nan)
            bad = np.isinf(values)
            if bad.any():
                rows = np.flatnonzero(bad)
                raise DataError(
                    f"Column '{column}' has {bad.sum()} infinite value(s) (first in data row {rows[0] + 1}). "
                    "Replace them with finite numbers or leave the cells empty."
                )
    missing = int(frame.isna().sum().sum())
    if missing:
        findings.append(f"{missing} missing value(s) in the table; numeric ones are imputed with the training median.")


def numeric_columns(frame: pd.DataFrame) -> list[str]:
    """Columns whose values are numbers."""
    return [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])]
