import io

import numpy as np
import pytest

from core.data import read_table
from core.errors import DataError


def test_reads_comma_csv_with_header_and_records_sha():
    t = read_table(b"a,b,label\n1,2,normal\n3,4,attack\n", name="x.csv")
    assert list(t.frame.columns) == ["a", "b", "label"]
    assert t.frame.shape == (2, 3)
    assert t.name == "x.csv" and len(t.sha256) == 64


@pytest.mark.parametrize("delim", [",", ";", "\t", "|"])
def test_sniffs_each_delimiter(delim):
    text = delim.join(["x", "y", "z"]) + "\n" + "\n".join(delim.join(str(i + j) for j in range(3)) for i in range(5))
    t = read_table(text.encode())
    assert list(t.frame.columns) == ["x", "y", "z"]
    assert t.frame["z"].tolist() == [2, 3, 4, 5, 6]


def test_headerless_numeric_file_gets_col_names():
    t = read_table(b"0.1,0.2,1.0\n0.3,0.4,0.0\n0.5,0.6,1.0\n")
    assert list(t.frame.columns) == ["col_0", "col_1", "col_2"]
    assert len(t.frame) == 3
    assert any("No header" in f for f in t.findings)


def test_utf8_bom_is_stripped_from_first_column_name():
    t = read_table("\ufeffa,b\n1,2\n3,4\n".encode("utf-8"))
    assert list(t.frame.columns) == ["a", "b"]


def test_latin1_fallback_reads_accents_and_says_so():
    t = read_table("température,b\n1,2\n3,4\n".encode("latin-1"))
    assert t.frame.columns[0] == "température"
    assert any("Latin-1" in f for f in t.findings)


def test_decimal_comma_with_semicolon():
    t = read_table(b"a;b\n1,5;2,25\n3,0;4,75\n")
    assert t.frame["a"].tolist() == [1.5, 3.0]
    assert t.frame["b"].dtype.kind == "f"


def test_blank_lines_are_skipped():
    t = read_table(b"a,b\n\n1,2\n\n\n3,4\n")
    assert len(t.frame) == 2


def test_reads_from_path_and_file_object(tmp_path):
    p = tmp_path / "t.csv"
    p.write_bytes(b"a,b\n1,2\n")
    assert read_table(p).name == "t.csv"
    assert read_table(io.BytesIO(b"a,b\n1,2\n")).frame.shape == (1, 2)


@pytest.mark.parametrize(
    "raw, fragment",
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"a,b,c\n", "no data rows"),
        (b"a\n1\n2\n", "one column"),
        (b"a,a,b\n1,2,3\n", "Duplicate column"),
        (b"a,b\n1,inf\n2,3\n", "infinite"),
        (b"PK\x03\x04rest-of-zip", "Excel or zip"),
        (b"a,b\x00\x01\x02\n1,2\n", "binary"),
        (b"a,b\n1,2,3,4\n5,6\n", "parsed"),
    ],
)
def test_each_bad_file_raises_data_error_with_fix(raw, fragment):
    with pytest.raises(DataError) as err:
        read_table(raw)
    assert fragment.lower() in str(err.value).lower()


def test_file_larger_than_limit_is_refused(tmp_path):
    p = tmp_path / "big.csv"
    p.write_bytes(b"a,b\n" + b"1,2\n" * 1000)
    with pytest.raises(DataError, match="larger than the limit"):
        read_table(p, max_bytes=100)
    with pytest.raises(DataError, match="larger than the limit"):
        read_table(p.read_bytes(), max_bytes=100)


def test_all_missing_column_is_reported_not_fatal():
    t = read_table(b"a,b,c\n1,,3\n4,,6\n")
    assert t.frame["b"].isna().all()
    assert any("'b' is entirely empty" in f for f in t.findings)
    assert np.isnan(t.frame["b"]).all()
