"""Scoring new tables with a fitted detector: in memory or a CSV of any size in chunks,
and writing the result so that a spreadsheet cannot run a cell as a formula."""

from __future__ import annotations

import io
import re
import threading
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import pandas as pd

from core.data import (
    BLOCK_BYTES, Dialect, Table, _file_chunks, _refuse_non_text, detect, detect_encoding, head_of, name_list,
    cast_numbers, open_batches, parse_numbers, sniff, text_series,
)
from core.errors import DataError

CHUNK_ROWS = 100_000
#: A file larger than this is scored with one BLAS thread per product (see :func:`_one_blas_thread`).
BULK_BYTES = 1 << 24
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


def _plain_number(decimal: str) -> str:
    return PLAIN_NUMBER if decimal == "." else PLAIN_NUMBER.replace(r"\.", ",")


def _escape_arrow(column, decimal: str = "."):
    """The same rule on an Arrow string column (a number in the file's decimal mark stays a number)."""
    import pyarrow.compute as pc

    mask = pc.and_(pc.match_substring_regex(column, FORMULA_START), pc.invert(pc.match_substring_regex(column, _plain_number(decimal))))
    if not pc.any(mask).as_py():
        return column
    return pc.if_else(mask, pc.binary_join_element_wise("'", column, ""), column)


def escape_name(name: str, decimal: str = ".") -> str:
    """A header cell that a spreadsheet would run gets a leading apostrophe too."""
    name = str(name)
    return "'" + name if re.match(FORMULA_START, name) and not re.match(_plain_number(decimal), name) else name


def _feature_frame(batch, preprocessor, decimal: str = ".", plain: Optional[dict[str, bool]] = None,
                   not_numbers: Optional[dict[str, int]] = None) -> pd.DataFrame:
    """The model's columns of an all-text Arrow batch, parsed by the reader's own rule.

    ``plain`` (when given) learns, for each numeric feature, whether every cell is empty or a
    finite number as written: the writer then copies those cells without checking them again.
    ``not_numbers`` (when given) counts, per numeric feature, the cells that are text (scored as missing).
    """
    data = {}
    numeric = {c.name for c in preprocessor.numeric}
    for name in preprocessor.required_columns:
        column = batch.column(batch.schema.get_field_index(name))
        if name in numeric:
            values = cast_numbers(column, decimal)
            if plain is not None:
                plain[name] = values is not None and int(np.isfinite(values).sum()) == len(column) - column.null_count
            if values is None:
                values, bad = parse_numbers(column, decimal)
                if bad and not_numbers is not None:
                    not_numbers[name] = not_numbers.get(name, 0) + bad
            data[name] = values
        else:
            data[name] = text_series(column)
    return pd.DataFrame(data, copy=False)  # the columns as parsed, not consolidated into one block (a copy)


def score_table(detector, frame: pd.DataFrame, chunk_rows: int = CHUNK_ROWS, progress: Progress = None) -> np.ndarray:
    """Anomaly scores of every row, computed ``chunk_rows`` at a time (for a progress bar)."""
    detector.preprocessor_.check_columns(frame)
    parts = []
    for start in range(0, len(frame), chunk_rows):
        parts.append(detector.decision_function(frame.iloc[start:start + chunk_rows]))
        if progress:
            progress(min(start + chunk_rows, len(frame)))
    return np.concatenate(parts) if parts else np.empty(0)


#: The columns scoring adds, in order; ``for_review`` only with a review band.
SCORE_COLUMNS = ("anomaly_score", "is_anomaly")
REVIEW_COLUMN = "for_review"


def score_columns(review_from: Optional[float]) -> tuple[str, ...]:
    return SCORE_COLUMNS + ((REVIEW_COLUMN,) if review_from is not None else ())


def for_review(scores: np.ndarray, threshold: float, review_from: Optional[float]) -> Optional[np.ndarray]:
    """1 where a row scores in the review band (above ``review_from``, up to the threshold), else 0; None without a band."""
    if review_from is None:
        return None
    return ((scores > review_from) & (scores <= threshold)).astype(np.int8)


def with_scores(frame: pd.DataFrame, scores: np.ndarray, threshold: float, review_from: Optional[float] = None) -> pd.DataFrame:
    """The input columns unchanged, plus ``anomaly_score``, ``is_anomaly`` (0/1) and, with a review band, ``for_review`` (0/1)."""
    out = frame.copy()
    out["anomaly_score"] = scores
    out["is_anomaly"] = (scores > threshold).astype(np.int8)
    if review_from is not None:
        out[REVIEW_COLUMN] = for_review(scores, threshold, review_from)
    return out


def score_frame(detector, frame: pd.DataFrame) -> pd.DataFrame:
    return with_scores(frame, detector.decision_function(frame), detector.threshold_)


def top_rows(frame: pd.DataFrame, scores: np.ndarray, threshold: float, n: int = 100, review_from: Optional[float] = None) -> pd.DataFrame:
    """The ``n`` most anomalous rows, highest score first, with their row number in the file (and ``for_review`` with a band)."""
    n = min(n, len(scores))
    order = np.argpartition(-scores, n - 1)[:n] if n else np.array([], int)
    order = order[np.argsort(-scores[order], kind="stable")]
    out = frame.iloc[order].copy()
    out.insert(0, "row", order + 1)
    out.insert(1, "anomaly_score", scores[order])
    out.insert(2, "is_anomaly", (scores[order] > threshold).astype(np.int8))
    if review_from is not None:
        out.insert(3, REVIEW_COLUMN, for_review(scores[order], threshold, review_from))
    return out


def _format_numbers(values: np.ndarray, decimal: str):
    """Scores as the file's own decimal mark would write them (text for ',')."""
    import pyarrow as pa
    import pyarrow.compute as pc

    array = pa.array(values).cast(pa.string())
    return pc.replace_substring(array, ".", ",") if decimal == "," else array


def _quoted(column, delimiter: str):
    """Text cells as CSV writes them: quoted only when they hold the delimiter, a quote or a line break."""
    import pyarrow.compute as pc

    column = pc.fill_null(column, "")
    needs = pc.match_substring(column, delimiter)
    for mark in ('"', "\r", "\n"):
        needs = pc.or_(needs, pc.match_substring(column, mark))
    if not pc.any(needs).as_py():
        return column
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(column, '"', '""'), '"', "")
    return pc.if_else(needs, quoted, column)


def _csv_lines(columns: list, delimiter: str) -> bytes | memoryview:
    """Rows of finished cells (escaped and quoted already) as CSV lines ending in '\n'.

    Arrow's CSV writer with no quoting copies cells as they are, cheaper than joining
    them; it refuses a cell holding a quote, the delimiter or a line break, which here
    only a quoted cell holds, and then the cells are joined instead (the same bytes).
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    batch = pa.RecordBatch.from_arrays(columns, names=[str(i) for i in range(len(columns))])
    buffer = io.BytesIO()
    try:
        pacsv.write_csv(batch, buffer, pacsv.WriteOptions(include_header=False, delimiter=delimiter, quoting_style="none", eol="\n"))
    except pa.ArrowInvalid:
        return _csv_bytes(columns, delimiter, quote=False)
    return buffer.getbuffer()


def _all_plain_numbers(column, decimal: str) -> bool:
    """True when every cell is empty or a finite number: nothing to escape or quote (the fast path)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pc.replace_substring(column, ",", ".") if decimal == "," else column
    try:
        text.slice(0, 64).cast(pa.float64())  # a text column fails here, before a costly cast of every cell
        values = text.cast(pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    return values.null_count == column.null_count and pc.all(pc.is_finite(values)).as_py() in (True, None)


def _cell_text(column, dialect: Dialect, plain: Optional[bool] = None):
    """One input column as output cells: numbers as they were; text escaped and quoted where needed.

    ``plain``: already known to be plain numbers (True) or not (False); None checks.
    """
    import pyarrow.compute as pc

    if plain if plain is not None else _all_plain_numbers(column, dialect.decimal):
        return pc.fill_null(column, "") if column.null_count else column
    return _quoted(_escape_arrow(column, dialect.decimal), dialect.delimiter)


def _csv_bytes(columns: list, delimiter: str, quote: bool = True) -> bytes | memoryview:
    """Rows of text columns joined into CSV lines by Arrow (no per-row Python)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = [_quoted(c, delimiter) if quote else c for c in columns]
    # The line break joins the last cell (one join pass, not a second one over whole lines).
    lines = pc.binary_join_element_wise(*columns[:-1], pc.binary_join_element_wise(columns[-1], "\n", ""), delimiter)
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    width = np.int64 if pa.types.is_large_string(lines.type) else np.int32
    offsets = np.frombuffer(lines.buffers()[1], dtype=width)[lines.offset: lines.offset + len(lines) + 1]
    data = lines.buffers()[2]
    return memoryview(data)[offsets[0]:offsets[-1]] if data is not None else b""  # no copy: written as it is


def _scored_batches(batches, names, dialect: Dialect, score_batch: Callable, threshold: float, workers: int = 1,
                    review_from: Optional[float] = None):
    """Each all-text batch as CSV bytes: text escaped, ``anomaly_score``/``is_anomaly`` (and ``for_review``) appended.

    ``score_batch`` returns the batch's scores, or (scores, plain) where ``plain`` says which
    columns it found to be plain numbers (see :func:`_feature_frame`). With ``workers`` > 1
    that many batches are scored and formatted at once, results still in order.
    """
    import pyarrow as pa

    def one(batch):
        result = score_batch(batch)
        scores, plain = result if isinstance(result, tuple) else (result, {})
        scores = np.asarray(scores, dtype=np.float64)
        flags = (scores > threshold).astype(np.int8)
        columns = [_cell_text(batch.column(i), dialect, plain.get(names[i])) for i in range(batch.num_columns)]
        review = for_review(scores, threshold, review_from)
        columns += [_format_numbers(scores, dialect.decimal), pa.array(flags).cast(pa.string())]
        if review is not None:
            columns.append(pa.array(review).cast(pa.string()))
        return _csv_lines(columns, dialect.delimiter), scores, flags, review

    return in_order(one, batches, workers)


def in_order(work: Callable, items, workers: int):
    """``work(item)`` for each item, in order, ``workers`` at a time in threads.

    Scoring's heavy steps (Arrow's casts and joins, NumPy's products, the k-d tree) release
    the GIL, so two batches on two cores take about the time of one. At most ``workers`` + 1
    batches are in flight, so memory stays flat.
    """
    if workers <= 1:
        for item in items:
            yield work(item)
        return
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="score") as pool:
        pending: deque = deque()
        for item in items:
            pending.append(pool.submit(work, item))
            if len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _write(chunks, out, names, dialect: Dialect, review_from: Optional[float] = None) -> tuple[int, int, int]:
    """Write the header and scored chunks in the input's delimiter (UTF-8); returns (rows, flagged, for review)."""
    import pyarrow as pa

    added = score_columns(review_from)
    head = _csv_bytes([pa.array([escape_name(n, dialect.decimal)], pa.string()) for n in names] + [pa.array([name]) for name in added], dialect.delimiter)
    out.write(head)
    rows = flagged = reviewed = 0
    for data, scores, flags, review in chunks:
        out.write(data)
        rows += len(scores)
        flagged += int(flags.sum())
        reviewed += int(review.sum()) if review is not None else 0
    return rows, flagged, reviewed


def scored_csv_bytes(table, scores: np.ndarray, threshold: float, source: Optional[bytes] = None, review_from: Optional[float] = None) -> bytes:
    """The download: input columns + ``anomaly_score`` + ``is_anomaly`` (+ ``for_review`` with a review band from
    ``review_from`` up to the threshold), formula cells (header too) escaped.

    Give ``source`` (the uploaded bytes the :class:`~core.data.Table` was read
    from) and every input cell is written back exactly as it was in the file,
    in the file's delimiter and decimal mark. Without it the table's frame is
    written in its dialect. A bare DataFrame still works (comma, '.', as before).
    """
    scores = np.asarray(scores, dtype=np.float64)
    if isinstance(table, pd.DataFrame):
        table = Table(frame=table, name="table", sha256="")
    dialect = table.dialect
    if source is not None:
        stream, names, dialect = _open_source(bytes(source))
        batches = open_batches(stream, dialect, names)
    else:
        import pyarrow as pa

        names = tuple(map(str, table.frame.columns))
        text = {}
        for name, column in table.frame.items():
            if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
                strings = pa.array(column.to_numpy(dtype=np.float64, na_value=np.nan) if column.dtype.kind == "f" else column.to_numpy(), from_pandas=True).cast(pa.string())
                if dialect.decimal == ",":
                    import pyarrow.compute as pc

                    strings = pc.replace_substring(strings, ".", ",")
                text[name] = strings
            else:
                text[name] = pa.array(column.astype(object).where(column.notna(), None).map(lambda v: v if v is None else str(v)), type=pa.string())
        batches = [pa.RecordBatch.from_arrays(list(text.values()), names=list(names))] if len(table.frame) else []
    offset = [0]

    def next_scores(batch):
        start = offset[0]
        offset[0] += batch.num_rows
        return scores[start:offset[0]]

    buffer = io.BytesIO()
    rows, _, _ = _write(_scored_batches(batches, names, dialect, next_scores, threshold, review_from=review_from), buffer, names, dialect, review_from)
    if rows != len(scores):
        raise DataError(f"The table has {rows:,} rows but {len(scores):,} scores were given; score the same table again.")
    return buffer.getvalue()


def _open_source(raw: bytes) -> tuple[io.BytesIO, tuple[str, ...], Dialect]:
    """Detect the dialect of in-memory bytes exactly as :func:`core.data.read_table` does."""
    payload, sniffed = detect(raw)
    stream = io.BytesIO(payload)
    stream.seek(sniffed.dialect.skip_bytes)
    return stream, sniffed.names, sniffed.dialect


def _open_path(path: Path):
    """Detect the dialect of a file from its head (the encoding from all of it) and open a stream at its first row."""
    with open(path, "rb") as fh:
        head, at_eof = head_of(fh.read)
    if not head.strip():
        raise DataError("The file is empty. Choose a CSV file with rows of values.")
    _refuse_non_text(head[:16])
    encoding = detect_encoding(head[:65536], lambda: _file_chunks(path))
    if encoding.startswith("utf-16"):  # rare: transcode the whole file in memory
        return _open_source(path.read_bytes())
    sniffed = sniff(head, encoding, at_eof=at_eof)
    stream = open(path, "rb")
    stream.seek(sniffed.dialect.skip_bytes)
    return stream, sniffed.names, sniffed.dialect


def _one_blas_thread(bulk: bool):
    """While a large file is scored, BLAS runs each product on one thread.

    The network's products are small (rows × tens of units): OpenBLAS's threads cost
    more CPU than they save (measured: half the network's CPU time, and less wall time,
    on one thread), and the batches already run in parallel. Thread count does not
    change a product's result (OpenBLAS splits rows, not sums).
    """
    from contextlib import nullcontext

    if not bulk:
        return nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # scikit-learn installs it; without it only speed differs
        return nullcontext()
    return threadpool_limits(1, user_api="blas")


def _scored_in_numpy(detector) -> bool:
    """Whether scoring never runs Keras: the dense family, and an ensemble of it."""
    members = getattr(detector, "members_", None)
    if members is not None:
        return all(_scored_in_numpy(member) for member in members)
    forward = getattr(detector, "dense_forward", None)
    return forward is not None and forward() is not None


def scoring_workers(detector) -> int:
    """Batches scored at once: every core for the NumPy-scored dense family (thread-safe, GIL released), else one."""
    import os

    if not _scored_in_numpy(detector):
        return 1
    return max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)))


def score_csv(detector, source: str | Path, dest: str | Path, chunk_rows: int = CHUNK_ROWS, progress: Progress = None,
              workers: Optional[int] = None, review_from: Optional[float] = None) -> dict:
    """Score a CSV file chunk by chunk, so memory stays flat whatever its size.

    The dialect is detected once by the same code as :func:`core.data.read_table`
    and the file streamed with it through Arrow, so a file that trains is scored
    identically. Every input cell is written back exactly as it was (the
    training label among them), in the input's delimiter and decimal mark, with
    cells (and header cells) a spreadsheet would run escaped; only the model's
    feature columns are parsed for scoring. ``workers`` batches are scored at once
    (default :func:`scoring_workers`); the output is the same for any number.
    ``review_from`` (below the model's threshold) adds ``for_review``: 1 for rows scoring above it, up to the threshold.
    Returns rows, flagged, for_review (with a band), and ``not_numbers``: per numeric feature, the cells that were text
    (scored as missing, as training did), for the caller to say so.
    """
    path = Path(source)
    if not path.is_file():
        raise DataError(f"File not found: {path}. Check the path and try again.")
    if review_from is not None and not float(review_from) < detector.threshold_:
        raise DataError(f"A review band runs from a lower score up to the model's threshold ({detector.threshold_:.6g}); "
                        f"{float(review_from):.6g} is not below it. Give a lower score.")
    stream, names, dialect = _open_path(path)
    missing = [c for c in detector.preprocessor_.required_columns if c not in names]
    if missing:
        stream.close()
        raise DataError(f"The table lacks column(s) the model needs: {name_list(missing)}. Use a table with the same columns as the training data.")
    done = [0]

    def chunks():
        for batch in open_batches(stream, dialect, names, block_size=BLOCK_BYTES):
            for start in range(0, batch.num_rows, chunk_rows):
                yield batch.slice(start, chunk_rows)

    not_numbers: dict[str, int] = {}
    counting = threading.Lock()

    def score_batch(batch):
        plain: dict[str, bool] = {}
        text_cells: dict[str, int] = {}
        scores = detector.decision_function(_feature_frame(batch, detector.preprocessor_, dialect.decimal, plain, text_cells))
        with counting:
            for name, count in text_cells.items():
                not_numbers[name] = not_numbers.get(name, 0) + count
        return scores, plain

    def reported(scored):
        for chunk in scored:
            done[0] += len(chunk[1])
            if progress:
                progress(done[0])
            yield chunk

    workers = scoring_workers(detector) if workers is None else int(workers)
    try:
        with stream, open(dest, "wb") as out, _one_blas_thread(path.stat().st_size > BULK_BYTES):
            scored = _scored_batches(chunks(), names, dialect, score_batch, detector.threshold_, workers, review_from)
            rows, flagged, reviewed = _write(reported(scored), out, names, dialect, review_from)
    except BaseException:
        Path(dest).unlink(missing_ok=True)
        raise
    summary = {"rows": rows, "flagged": flagged, "not_numbers": dict(sorted(not_numbers.items()))}
    return summary if review_from is None else {**summary, "for_review": reviewed}
