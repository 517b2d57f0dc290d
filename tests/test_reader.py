"""One reader: every path that turns bytes into rows agrees, row for row, whatever the dialect."""

import io

import numpy as np
import pandas as pd
import pytest

from core.data import Dialect, read_table
from core.errors import DataError
from core.scoring import score_csv, score_table, scored_csv_bytes


def _text(frame: pd.DataFrame, delimiter: str = ",", decimal: str = ".") -> str:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, sep=delimiter, decimal=decimal, lineterminator="\n")
    return buffer.getvalue()


def _dialect_files(X: pd.DataFrame) -> dict[str, bytes]:
    X = X.iloc[:60].round(6)
    note = ["ok"] * len(X)
    note[3] = "a\u2026b"  # cp1252 0x85 (…) inside a cell
    with_note = X.assign(note=note)
    big = X.assign(note=["x" * (130 * 1024)] + ["y"] * (len(X) - 1))
    latin = X.rename(columns={"f0": "température"}).assign(note=["é"] * len(X))
    return {
        "semicolon_decimal_comma": _text(X, ";", ",").encode(),
        "leading_blank_lines": b"\n\n  \n" + _text(X).encode(),
        "latin1_names": _text(latin).encode("latin-1"),
        "cp1252_0x85_in_cell": _text(with_note).encode("cp1252"),
        "cell_over_128_kib": _text(big).encode(),
        "utf16_bom": _text(X).encode("utf-16"),
        "utf8_bom_tab": b"\xef\xbb\xbf" + _text(X, "\t").encode(),
    }


CASES = ["semicolon_decimal_comma", "leading_blank_lines", "latin1_names", "cp1252_0x85_in_cell", "cell_over_128_kib", "utf16_bom", "utf8_bom_tab"]


@pytest.mark.parametrize("case", CASES)
def test_a_file_that_trains_is_scored_identically_row_for_row(fitted, tmp_path, case):
    det, X, _ = fitted
    raw = _dialect_files(X)[case]
    table = read_table(raw)
    assert len(table.frame) == 60
    frame = table.frame.rename(columns={"température": "f0"})
    expected = score_table(det, frame)
    np.testing.assert_allclose(expected, det.decision_function(X.iloc[:60].round(6)), rtol=1e-5)
    if case == "latin1_names":
        return  # the model's column is renamed here; the file itself keeps its own name
    src, dest = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_bytes(raw)
    summary = score_csv(det, src, dest)
    assert summary["rows"] == 60
    written = read_table(dest)
    assert written.dialect.delimiter == table.dialect.delimiter and written.dialect.decimal == table.dialect.decimal
    np.testing.assert_allclose(written.frame["anomaly_score"].to_numpy(float), expected, rtol=1e-9)


def test_semicolon_decimal_comma_output_keeps_negative_numbers_as_numbers(fitted, tmp_path):
    det, X, _ = fitted
    raw = _dialect_files(X)["semicolon_decimal_comma"]
    src, dest = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_bytes(raw)
    score_csv(det, src, dest)
    out_lines = dest.read_text().split("\n")
    in_lines = raw.decode().split("\n")
    assert out_lines[1].startswith(in_lines[1] + ";")  # input text exactly, then the score
    assert "'-" not in dest.read_text()
    assert "," in out_lines[1].split(";")[-2]  # the score has the file's decimal mark


def test_latin1_file_scores_with_its_own_column_names(fitted, tmp_path):
    det, X, _ = fitted
    frame = X.iloc[:20].assign(catégorie=["été"] * 20)
    src, dest = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_bytes(_text(frame).encode("latin-1"))
    score_csv(det, src, dest)
    assert read_table(dest).frame["catégorie"].eq("été").all()


def test_the_dialect_is_recorded_on_the_table():
    table = read_table(b"\n\na;b\n1,5;-2,25\n3,0;4,75\n")
    assert table.dialect == Dialect(encoding="utf-8", delimiter=";", decimal=",", header=True, skip_bytes=2)
    assert table.frame["b"].tolist() == [-2.25, 4.75]
    assert read_table("a,b\n1,2\n".encode("utf-16")).dialect.encoding == "utf-16"
    assert read_table("a,b\né,2\n".encode("cp1252")).dialect.encoding == "cp1252"


def test_a_0x85_byte_does_not_split_a_row():
    table = read_table(b"a,b,c\n1,x\x85y,3\n4,z,6\n")
    assert table.frame.shape == (2, 3) and table.frame["b"][0] == "x…y"


def test_text_like_na_is_kept_as_text_not_missing():
    table = read_table(b"a,b,c\n1,NA,x\n2,ok,y\n")
    assert table.frame["b"].tolist() == ["NA", "ok"]


def test_scored_download_keeps_text_delimiter_and_escapes_header_and_cells(fitted):
    det, X, _ = fitted
    frame = X.iloc[:5].round(4).assign(**{"=cmd|calc": ["=1+1", "-x", "-1,5", "@a", "plain"]})
    raw = _text(frame, ";", ",").encode()
    table = read_table(raw)
    scores = score_table(det, table.frame)
    out = scored_csv_bytes(table, scores, det.threshold_, source=raw).decode()
    header, first = out.split("\n")[:2]
    assert header.split(";")[8] == "'=cmd|calc" and header.endswith("anomaly_score;is_anomaly")
    assert first.startswith(raw.decode().split("\n")[1].replace("=1+1", "'=1+1"))
    cells = [line.split(";")[8] for line in out.split("\n")[1:6]]
    assert cells == ["'=1+1", "'-x", "-1,5", "'@a", "plain"]
    from_frame = scored_csv_bytes(table, scores, det.threshold_).decode()
    assert from_frame.split("\n")[0] == header and from_frame.count("\n") == out.count("\n")


def test_binary_gzip_and_xlsx_are_named_for_what_they_are(tmp_path, fitted):
    det, _, _ = fitted
    import gzip

    for raw, word in [(gzip.compress(b"a,b\n1,2\n"), "gzip"), (b"PK\x03\x04" + b"\x00" * 40, "Excel"), (bytes(range(256)) * 4, "binary")]:
        with pytest.raises(DataError, match=word):
            read_table(raw)
        src = tmp_path / "x.csv"
        src.write_bytes(raw)
        with pytest.raises(DataError, match=word):
            score_csv(det, src, tmp_path / "o.csv")


def test_a_wide_table_converts_each_column_once(monkeypatch):
    import core.data as data

    calls = []
    original = data._column_to_pandas
    monkeypatch.setattr(data, "_column_to_pandas", lambda column, decimal: calls.append(1) or original(column, decimal))
    rows = np.arange(50 * 4000, dtype=float).reshape(50, 4000)
    raw = (",".join(f"c{i}" for i in range(4000)) + "\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n").encode()
    assert read_table(raw).shape == (50, 4000)
    assert len(calls) == 4000


def test_more_columns_than_the_limit_are_refused_before_parsing():
    raw = (",".join(f"c{i}" for i in range(10_000)) + "\n" + ",".join(["1"] * 10_000) + "\n").encode()
    with pytest.raises(DataError, match="at most 5,000"):
        read_table(raw)
