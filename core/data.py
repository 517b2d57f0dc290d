"""Reading a CSV table from a path, bytes or an uploaded buffer: the ONE reader.

The dialect (encoding, delimiter, header, decimal mark, leading blank lines) is
detected once from the file's head and recorded on the :class:`Table` as a
:class:`Dialect`; every path that turns bytes into rows (training, the Score
page, ``score_csv``, evaluation) parses with Arrow's CSV reader under that
dialect, so a file that trains is scored identically, row for row.

The reader is forgiving about format and strict about content: every problem
raises :class:`DataError` with a message that names the problem and the fix.
Python's ``str.splitlines`` is never used on file text: it splits on ``\\x85``,
``\\u2028`` and ``\\x0c``, which are cell content in CSV.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import logging
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Callable, Iterator, Optional, Union

import numpy as np
import pandas as pd

from core.errors import DataError

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 200 * 1024 * 1024
#: A table with more columns is refused before any per-column work.
MAX_COLUMNS = 5_000
#: A message lists at most this many names, then "… and N more".
MAX_NAMES_SHOWN = 10
DELIMITERS = (",", ";", "\t", "|")
SNIFF_LINES = 200
SNIFF_BYTES = 1 << 20
BLOCK_BYTES = 1 << 24
_NUMBER = re.compile(r"^\s*[-+]?(\d+([.,]\d*)?|[.,]\d+)([eE][-+]?\d+)?\s*$|^\s*[-+]?(inf|infinity|nan)\s*$", re.I)
_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d+,\d+\s*$")
_DOT_DECIMAL = re.compile(r"^\s*[-+]?\d*\.\d+([eE][-+]?\d+)?\s*$")
#: Line breaks as CSV knows them (not Python's splitlines, which also breaks on \x85, \u2028, \x0c).
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_BLANK_CHARS = " \t,;|"
_NOT_SPACE = re.compile(rb"\S")
#: Cell text that means "missing" in a numeric column (besides an empty cell).
MISSING_TOKENS = ("NA", "N/A", "n/a", "NaN", "nan", "NULL", "null", "None", "#N/A", "-", "?", "")

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # a cell over 128 KiB is data, not an error

Source = Union[str, Path, bytes, bytearray, BinaryIO]


@dataclass(frozen=True)
class Dialect:
    """How a file's bytes become rows: detected once, then used for every read of that file.

    ``skip_bytes`` is where the first row (header or data) starts in the
    (transcoded, for UTF-16) bytes: a UTF-8 BOM and leading blank lines.
    """

    encoding: str = "utf-8"
    delimiter: str = ","
    decimal: str = "."
    header: bool = True
    skip_bytes: int = 0

    @property
    def arrow_encoding(self) -> str:
        """What Arrow is told: UTF-16 input is transcoded to UTF-8 before Arrow sees it."""
        return "utf8" if self.encoding == "utf-8" or self.encoding.startswith("utf-16") else self.encoding


@dataclass
class Table:
    """A validated table with where it came from, how it was read and what was noticed."""

    frame: pd.DataFrame
    name: str
    sha256: str
    findings: list[str] = field(default_factory=list)
    dialect: Dialect = field(default_factory=Dialect)

    @property
    def shape(self) -> tuple[int, int]:
        return self.frame.shape


def name_list(names, limit: int = MAX_NAMES_SHOWN) -> str:
    """``'a', 'b', … and 699,990 more``: a message never lists more than ``limit`` names."""
    names = list(names)
    shown = ", ".join(repr(str(n)) for n in names[:limit])
    return shown + (f" … and {len(names) - limit:,} more" if len(names) > limit else "")


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


# -- encoding ------------------------------------------------------------------------------

def _refuse_non_text(head: bytes) -> None:
    """Clear messages for the usual non-CSV files, before any decoding."""
    if head[:2] == b"\x1f\x8b":
        raise DataError("This is a gzip-compressed file, not a CSV. Decompress it (gunzip) and choose the .csv inside.")
    if head[:4] == b"PK\x03\x04" or head[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise DataError("This looks like an Excel or zip file, not a CSV. Save it as CSV (comma-separated) and upload that.")
    if head[:5] == b"%PDF-":
        raise DataError("This is a PDF, not a CSV. Export the table as CSV text.")


def _utf16_kind(head: bytes) -> Optional[str]:
    """'utf-16' for a BOM, 'utf-16-le'/'-be' for BOM-less text with a NUL in every other byte."""
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16"
    sample = head[:4096]
    if len(sample) >= 4:
        even, odd = sample[0::2], sample[1::2]
        if odd.count(0) > 0.9 * len(odd) and even.count(0) == 0:
            return "utf-16-le"
        if even.count(0) > 0.9 * len(even) and odd.count(0) == 0:
            return "utf-16-be"
    return None


def _decodes(chunks, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    try:
        for chunk in chunks:
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _byte_chunks(raw: bytes, size: int = BLOCK_BYTES) -> Iterator[bytes]:
    """In-memory bytes in pieces, so checking the encoding never makes one string of the whole file."""
    view = memoryview(raw)
    for start in range(0, len(raw), size):
        yield view[start:start + size]


def _file_chunks(path: Path, size: int = BLOCK_BYTES) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while chunk := fh.read(size):
            yield chunk


def detect_encoding(head: bytes, chunks) -> str:
    """'utf-16…' (by BOM or NUL pattern), 'utf-8' if every byte decodes, else 'cp1252', else 'latin-1'.

    ``chunks`` is a callable giving the whole file in pieces: the choice is made on
    all of it, so a file whose head is ASCII and whose tail is Latin-1 is read the
    same way by every path.
    """
    kind = _utf16_kind(head)
    if kind:
        return kind
    if b"\x00" in head[:65536]:
        raise DataError("The file contains binary bytes (NUL), so it is not a text CSV. Export the data as CSV text.")
    if _decodes(chunks(), "utf-8"):
        return "utf-8"
    return "cp1252" if _decodes(chunks(), "cp1252") else "latin-1"


def _payload(raw: bytes, encoding: str) -> bytes:
    """The bytes Arrow parses: UTF-16 becomes UTF-8; anything else stays as it is."""
    if encoding.startswith("utf-16"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            raise DataError("The file looks like UTF-16 text but has broken characters. Save it again as UTF-8 CSV.") from None
        return text.lstrip("\ufeff").encode("utf-8")
    return raw


# -- dialect -------------------------------------------------------------------------------

def _split_rows(text: str, delimiter: str) -> list[list[str]]:
    """Rows of ``text`` by the csv module (quotes respected; only \\r and \\n end a line)."""
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error:
        return [line.split(delimiter) for line in _LINE_BREAK.split(text)]


def _is_blank_row(row: list[str]) -> bool:
    return not any(cell.strip(_BLANK_CHARS) for cell in row)


def _sniff_delimiter(rows_by_delim: dict[str, list[list[str]]]) -> str:
    """The delimiter that gives the most consistent number of fields (more than one)."""
    best, best_score = ",", -1.0
    for delim, rows in rows_by_delim.items():
        counts = [len(r) for r in rows if not _is_blank_row(r)]
        if not counts or max(counts) < 2:
            continue
        mode = max(set(counts), key=counts.count)
        score = counts.count(mode) / len(counts) + 1e-6 * min(mode, 10_000)
        if mode > 1 and score > best_score:
            best, best_score = delim, score
    return best


def _is_number(value: str) -> bool:
    return bool(_NUMBER.match(value)) or value.strip() == ""


def _has_header(rows: list[list[str]]) -> bool:
    """Linear in the sample: one pass over the body's cells."""
    first, body = rows[0], rows[1:SNIFF_LINES]
    if not body:
        return not all(_is_number(v) for v in first)
    width = len(first)
    filled = [0] * width
    numeric = [0] * width
    for row in body:
        for j, value in enumerate(row[:width]):
            if value.strip():
                filled[j] += 1
                numeric[j] += _NUMBER.match(value) is not None
    numeric_body_columns = [j for j in range(width) if filled[j] and numeric[j] >= 0.9 * filled[j]]
    if numeric_body_columns:
        return any(not _NUMBER.match(first[j]) and first[j].strip() for j in numeric_body_columns)
    return len(set(first)) == len(first)


@dataclass(frozen=True)
class Sniffed:
    dialect: Dialect
    names: tuple[str, ...]
    findings: tuple[str, ...]


def sniff(payload_head: bytes, encoding: str, at_eof: bool) -> Sniffed:
    """Detect delimiter, header, decimal mark and leading blank lines from the head of the payload.

    ``payload_head`` is the start of the bytes Arrow will parse (UTF-8 for UTF-16
    files); ``at_eof`` says whether it is the whole file.
    """
    findings: list[str] = []
    if encoding not in ("utf-8",) and not encoding.startswith("utf-16"):
        findings.append(f"The file is not valid UTF-8; it was read as {'Windows-1252 (Latin-1)' if encoding == 'cp1252' else 'Latin-1'}. Check accented characters.")
    elif encoding.startswith("utf-16"):
        findings.append("The file is UTF-16 text; it was read as such.")
    text_codec = "utf-8" if encoding.startswith("utf-16") else encoding
    decoder = codecs.getincrementaldecoder(text_codec)("replace")
    text = decoder.decode(payload_head, final=at_eof)
    bom = 0
    if text.startswith("\ufeff"):
        text, bom = text[1:], len("\ufeff".encode(text_codec))
    controls = sum(1 for ch in text[:65536] if ord(ch) < 32 and ch not in "\r\n\t\x0b\x0c")
    if controls > 0.01 * min(len(text), 65536) + 5:
        raise DataError("The file has many control characters, so it is not a text CSV. Export the data as CSV text.")
    # Leading blank lines: whitespace or delimiters only, before the first row.
    skip = 0
    for match in _LINE_BREAK.finditer(text):
        if text[skip:match.start()].strip(_BLANK_CHARS):
            break
        skip = match.end()
    else:
        if not text[skip:].strip(_BLANK_CHARS):
            skip = len(text)
    body = text[skip:]
    if not body.strip(_BLANK_CHARS + "\r\n"):
        raise DataError("The file is empty (or only blank lines). Choose a CSV file with a header row and at least one data row.")
    if skip:
        n_blank = len(_LINE_BREAK.findall(text[:skip]))
        findings.append(f"Skipped {n_blank} blank line(s) before the first row.")
    sample = _sample_text(body, at_eof)
    first_line = _LINE_BREAK.split(sample, maxsplit=1)[0]
    counts = {d: first_line.count(d) for d in DELIMITERS}
    if max(counts.values()) + 1 > MAX_COLUMNS:
        widest = max(counts, key=counts.get)
        raise DataError(
            f"The first line has {counts[widest] + 1:,} fields separated by {widest!r}; at most {MAX_COLUMNS:,} columns are supported. "
            "Keep fewer columns, or check that this is a CSV with one row per line."
        )
    rows_by_delim = {d: _split_rows(sample, d) for d in DELIMITERS if d in first_line}
    if not rows_by_delim:
        raise DataError(
            "Only one column was found. A table needs feature columns separated by "
            "a comma, semicolon, tab or '|'; check the delimiter the file uses."
        )
    delimiter = _sniff_delimiter(rows_by_delim)
    rows = [r for r in rows_by_delim.get(delimiter, [[first_line]]) if not _is_blank_row(r)]
    if not at_eof and len(rows) > 1:
        rows = rows[:-1]  # the last sampled line may be cut short
    rows = rows[:SNIFF_LINES]
    width = len(rows[0])
    if width < 2:
        raise DataError(
            "Only one column was found. A table needs feature columns separated by "
            "a comma, semicolon, tab or '|'; check the delimiter the file uses."
        )
    if width > MAX_COLUMNS:
        raise DataError(f"The table has {width:,} columns; at most {MAX_COLUMNS:,} are supported. Keep fewer columns.")
    for i, row in enumerate(rows[1:], start=2):
        if len(row) > width:
            raise DataError(
                f"The CSV could not be parsed: line {i} has {len(row)} fields but the first line has {width}. "
                "Check that every row has the same number of fields (and quote text that contains the delimiter)."
            )
    header = _has_header(rows)
    decimal = "."
    if delimiter != ",":
        cells = [c for r in rows[1 if header else 0:] for c in r]
        if any(_DECIMAL_COMMA.match(c) for c in cells) and not any(_DOT_DECIMAL.match(c) for c in cells):
            decimal = ","
            findings.append(f"Read ',' as the decimal mark ({'semicolon' if delimiter == ';' else 'non-comma'}-separated file).")
    if header:
        names = tuple(n.strip() or f"col_{j}" for j, n in enumerate(rows[0]))
        seen: dict[str, int] = {}
        for n in names:
            seen[n] = seen.get(n, 0) + 1
        dupes = [n for n, k in seen.items() if k > 1]
        if dupes:
            raise DataError(f"Duplicate column names: {name_list(dupes)}. Rename the columns so each name is unique.")
        if len(rows) < 2 and at_eof:
            raise DataError("The file has a header row but no data rows. Add rows of values below the header.")
    else:
        names = tuple(f"col_{j}" for j in range(width))
        findings.append("No header row found; columns were named col_0, col_1, ...")
    skip_bytes = bom + len(text[:skip].encode(text_codec))
    return Sniffed(Dialect(encoding=encoding, delimiter=delimiter, decimal=decimal, header=header, skip_bytes=skip_bytes), names, tuple(findings))


def _sample_text(body: str, at_eof: bool) -> str:
    """The first SNIFF_LINES lines of ``body`` (at least the whole first line)."""
    end = 0
    for count, match in enumerate(_LINE_BREAK.finditer(body)):
        end = match.end()
        if count >= SNIFF_LINES or end > SNIFF_BYTES:
            break
    else:
        end = len(body)
    return body[:end]


# -- parsing (shared by read_table and the scoring path) -------------------------------------

def open_batches(stream: BinaryIO, dialect: Dialect, names: tuple[str, ...], block_size: int = BLOCK_BYTES):
    """An Arrow CSV stream reader yielding all-text record batches under ``dialect``.

    ``stream`` must start at ``dialect.skip_bytes``. Only an empty cell is
    missing (text like "NA" is kept exactly); lines of blanks are skipped.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    bad: list = []

    def on_invalid(row) -> str:
        if not (row.text or "").strip(_BLANK_CHARS + "\r\n"):
            return "skip"
        bad.append(row)
        return "error"

    read = pacsv.ReadOptions(block_size=block_size, column_names=list(names), skip_rows=1 if dialect.header else 0, encoding=dialect.arrow_encoding)
    parse = pacsv.ParseOptions(delimiter=dialect.delimiter, invalid_row_handler=on_invalid, newlines_in_values=True)
    convert = pacsv.ConvertOptions(column_types={n: pa.string() for n in names}, strings_can_be_null=True, null_values=[""], quoted_strings_can_be_null=True)
    try:
        reader = pacsv.open_csv(stream, read_options=read, parse_options=parse, convert_options=convert)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise DataError(_parse_message(exc, bad, len(names))) from None

    def batches():
        rows = 0
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                return
            except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
                raise DataError(_parse_message(exc, bad, len(names), rows)) from None
            rows += batch.num_rows
            yield batch

    return batches()


def _parse_message(exc: Exception, bad: list, width: int, after: int = 0) -> str:
    if bad:
        row = bad[0]
        return (f"The CSV could not be parsed: a row has {row.actual_columns} field(s) but the header has {width}. "
                "Check that every row has the same number of fields (and quote text that contains the delimiter).")
    detail = str(exc).strip().split("\n")[0][:200]
    where = f" after row {after:,}" if after else ""
    return f"The CSV could not be parsed{where}: {detail}. Check that every row has the same number of fields."


def parse_numbers(column, decimal: str = ".") -> tuple[np.ndarray, int]:
    """Numbers of an all-text Arrow column (missing → NaN) and how many non-empty cells were not numbers.

    One rule for every path: training, the Score page and ``score_csv`` all turn
    text into numbers here. Arrow's cast first (fast); whitespace-trimmed next;
    pandas' coercion (with the missing tokens) last.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    values = cast_numbers(column, decimal)
    if values is not None:
        return values, 0
    if decimal == ",":
        column = pc.replace_substring(column, ",", ".")
    try:
        return pc.utf8_trim_whitespace(column).cast(pa.float64()).to_numpy(zero_copy_only=False), 0
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    text = pd.Series(pc.utf8_trim_whitespace(column).to_numpy(zero_copy_only=False), dtype=object)
    tokens = text.isin(MISSING_TOKENS) | text.isna()
    values = pd.to_numeric(text.where(~tokens), errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = int((np.isnan(values) & ~tokens.to_numpy()).sum())
    return values, bad


def cast_numbers(column, decimal: str = ".") -> Optional[np.ndarray]:
    """The first step of :func:`parse_numbers`: Arrow's cast of the cells exactly as written (missing → NaN),
    or None when a cell is not a number that way."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if decimal == ",":
        column = pc.replace_substring(column, ",", ".")
    try:
        return column.cast(pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def text_series(column) -> pd.Series:
    """An all-text Arrow column as the pandas text column every path uses."""
    return column.to_pandas()


def _looks_like_text(column, decimal: str, sample: int = 2_000) -> bool:
    """A quick look at the first cells: one that is not a number settles it (no full coercion of a text column)."""
    import pyarrow.compute as pc

    head = pc.drop_null(column.slice(0, sample * 4))[:sample]
    return len(head) > 0 and parse_numbers(head, decimal)[1] > 0


def _column_to_pandas(column, decimal: str):
    """A number column where every non-empty cell is a number (integers kept as int64), else text."""
    if column.null_count == len(column):
        return np.full(len(column), np.nan)
    if len(column) > 8_000 and _looks_like_text(column, decimal):
        return text_series(column)
    values, bad = parse_numbers(column, decimal)
    if bad:
        return text_series(column)
    if np.isfinite(values).all() and np.abs(values).max(initial=0) < 2**53 and (values == np.round(values)).all():
        return values.astype(np.int64)
    return values


def frame_from_batches(batches, names: tuple[str, ...], decimal: str) -> pd.DataFrame:
    """All batches → one frame; each column converted once (linear in the cells)."""
    import pyarrow as pa

    batches = list(batches)
    if not batches:
        return pd.DataFrame({n: pd.Series([], dtype=object) for n in names})
    table = pa.Table.from_batches(batches)
    del batches
    texts = list(table.columns)
    del table
    columns = {}
    for i, name in enumerate(names):
        columns[name] = _column_to_pandas(texts[i].combine_chunks(), decimal)
        texts[i] = None  # free the text as we go
    return pd.DataFrame(columns, copy=False)


#: The dialect is sniffed from this much of the file's head (more only when the first line is longer).
HEAD_BYTES = 8 * SNIFF_BYTES


def head_of(read: Callable[[int], bytes]) -> tuple[bytes, bool]:
    """The head the dialect is sniffed from, and whether it is the whole file; the same for bytes and paths."""
    head = read(HEAD_BYTES)
    while b"\n" not in head and b"\r" not in head:
        more = read(HEAD_BYTES)
        if not more:
            return head, True
        head += more
    return head, not read(1)


def detect(raw: bytes) -> tuple[bytes, Sniffed]:
    """The bytes Arrow parses and the dialect of in-memory ``raw``: what every in-memory path calls."""
    _refuse_non_text(raw[:16])
    encoding = detect_encoding(raw[:65536], lambda: _byte_chunks(raw))
    payload = _payload(raw, encoding)
    stream = io.BytesIO(payload)
    head, at_eof = head_of(stream.read)
    return payload, sniff(head, encoding, at_eof)


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
    >>> table.frame.shape, table.dialect.delimiter
    ((2, 3), ',')
    """
    raw, default_name = _read_bytes(source, max_bytes)
    if len(raw) > max_bytes:
        raise DataError(_too_large(len(raw), max_bytes))
    if not _NOT_SPACE.search(raw):
        raise DataError("The file is empty. Choose a CSV file with a header row and at least one data row.")
    payload, sniffed = detect(raw)
    findings = list(sniffed.findings)
    dialect = sniffed.dialect
    stream = io.BytesIO(payload)
    stream.seek(dialect.skip_bytes)
    frame = frame_from_batches(open_batches(stream, dialect, sniffed.names), sniffed.names, dialect.decimal)
    del payload, stream
    if frame.shape[0] == 0:
        raise DataError("The file has a header row but no data rows. Add rows of values below the header.")
    _check_values(frame, findings)
    name = name or default_name
    sha = hashlib.sha256(raw).hexdigest()
    log.info("read %s: %d rows x %d columns", name, *frame.shape)
    return Table(frame=frame, name=name, sha256=sha, findings=findings, dialect=dialect)


def _check_values(frame: pd.DataFrame, findings: list[str]) -> None:
    empty = []
    for column in frame.columns:
        series = frame[column]
        if pd.api.types.is_numeric_dtype(series):
            values = series.to_numpy(dtype=float, na_value=np.nan)
            if np.isnan(values).all():
                empty.append(column)
                continue
            bad = np.isinf(values)
            if bad.any():
                rows = np.flatnonzero(bad)
                raise DataError(
                    f"Column '{column}' has {bad.sum()} infinite value(s) (first in data row {rows[0] + 1}; numbers beyond ±1.8e308 overflow). "
                    "Replace them with finite numbers or leave the cells empty."
                )
        elif series.isna().all():
            empty.append(column)
    for column in empty[:MAX_NAMES_SHOWN]:
        findings.append(f"Column '{column}' is entirely empty; it cannot be used as a feature or label.")
    if len(empty) > MAX_NAMES_SHOWN:
        findings.append(f"… and {len(empty) - MAX_NAMES_SHOWN:,} more entirely empty column(s).")
    missing = int(frame.isna().sum().sum())
    if missing:
        findings.append(f"{missing:,} missing value{'s' if missing != 1 else ''} in the table; numeric ones are imputed with the training median.")


def numeric_columns(frame: pd.DataFrame) -> list[str]:
    """Columns whose values are numbers (one dtype look-up per column)."""
    numeric = []
    for column, dtype in frame.dtypes.items():
        if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
            numeric.append(column)
    return numeric
