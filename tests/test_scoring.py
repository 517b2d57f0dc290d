import io

import numpy as np
import pandas as pd

from core.scoring import escape_formulas, score_csv, score_frame


def test_formula_cells_are_escaped_and_numbers_stay_numbers():
    frame = pd.DataFrame({"text": ["=SUM(A1)", "+cmd", "-x", "@cmd", "\tx", "\rx", "plain", "-1.5", "+2e3"], "n": [-1.5, 2, -3, 4, 5, 6, 7, 8, 9]})
    out = escape_formulas(frame)
    assert out["text"].tolist() == ["'=SUM(A1)", "'+cmd", "'-x", "'@cmd", "'\tx", "'\rx", "plain", "-1.5", "+2e3"]
    assert out["n"].tolist() == frame["n"].tolist()


def test_chunked_csv_scores_equal_in_memory_scores(fitted, tmp_path):
    det, X, _ = fitted
    src, dest = tmp_path / "in.csv", tmp_path / "out.csv"
    X.assign(note=["=1+1", "-7"] + ["ok"] * (len(X) - 2)).to_csv(src, index=False)
    seen = []
    summary = score_csv(det, src, dest, chunk_rows=100, progress=seen.append)
    out = pd.read_csv(dest)
    expected = score_frame(det, pd.read_csv(src))
    np.testing.assert_allclose(out["anomaly_score"], expected["anomaly_score"], rtol=1e-6)
    assert summary == {"rows": len(X), "flagged": int(expected["is_anomaly"].sum()), "not_numbers": {}}
    assert seen[-1] == len(X) and len(seen) == int(np.ceil(len(X) / 100))
    assert out["note"][0] == "'=1+1" and str(out["note"][1]) == "-7"
    assert list(out.columns[:-2]) == list(X.columns) + ["note"]


def test_feature_cells_that_are_not_plain_numbers_are_written_back_escaped(fitted, tmp_path):
    det, X, _ = fitted
    src, dest = tmp_path / "in.csv", tmp_path / "out.csv"
    rows = X.iloc[:300].astype(object)
    rows.iloc[0, 0], rows.iloc[1, 0], rows.iloc[2, 1] = "=1+1", "\t-2.5", "nan"
    rows.to_csv(src, index=False)
    summary = score_csv(det, src, dest, chunk_rows=100)
    cells = dest.read_text().splitlines()
    assert summary["not_numbers"] == {X.columns[0]: 1}  # '=1+1' is text, scored as missing; '\t-2.5' and 'nan' are numbers and missing
    assert cells[1].split(",")[0] == "'=1+1" and cells[2].split(",")[0] == "'\t-2.5"
    assert cells[3].split(",")[1] == "nan"  # not a formula: kept as written
    assert cells[4].split(",")[:8] == [str(v) for v in X.iloc[3]]  # plain numbers copied as they were


def test_scoring_batches_in_parallel_writes_the_same_file_as_one_at_a_time(fitted, tmp_path):
    from core.scoring import scoring_workers

    det, X, _ = fitted
    src = tmp_path / "in.csv"
    X.assign(note=["=1+1", "a,b"] + ["ok"] * (len(X) - 2)).to_csv(src, index=False)
    seen: dict[int, list] = {1: [], 3: []}
    for workers in (1, 3):
        score_csv(det, src, tmp_path / f"out{workers}.csv", chunk_rows=50, progress=seen[workers].append, workers=workers)
    assert (tmp_path / "out1.csv").read_bytes() == (tmp_path / "out3.csv").read_bytes()
    assert seen[1] == seen[3] == sorted(seen[3]) and seen[3][-1] == len(X)
    assert scoring_workers(det) >= 1


def test_cells_are_written_as_the_same_bytes_whether_arrow_writes_them_or_they_are_joined():
    """The fast writer (Arrow's, no quoting) and the join it falls back to give one output, in every delimiter."""
    import pyarrow as pa

    from core.scoring import _csv_bytes, _csv_lines

    plain = [pa.array(["1.5", "", "-2e3", "ünï", "'=x", "a b"]), pa.array(["0", "1", "0", "1", "1", "0"])]
    for delimiter in (",", ";", "\t", "|"):
        for cells in (plain, [pa.array(['"a,b"', "x", "y", '"q""q"', "z", "w"]), plain[1]], [pa.array(["a,b;c|d", "", "x", "y", "z", "w"]), plain[1]]):
            expected = bytes(_csv_bytes(cells, delimiter, quote=False))
            assert bytes(_csv_lines(cells, delimiter)) == expected
            assert expected.count(b"\n") == 6 and expected.endswith(b"0\n")


def test_a_large_file_scored_with_one_blas_thread_writes_the_same_bytes(fitted, tmp_path, monkeypatch):
    """Above BULK_BYTES the network's products run on one BLAS thread: speed only, the file is the same."""
    import core.scoring as scoring
    from threadpoolctl import threadpool_info

    det, X, _ = fitted
    src = tmp_path / "in.csv"
    pd.concat([X] * 5).to_csv(src, index=False)
    score_csv(det, src, tmp_path / "default.csv", chunk_rows=500)
    seen = []
    forward = det.dense_forward()
    monkeypatch.setattr(type(forward), "__call__", lambda self, x, _call=type(forward).__call__: seen.append(
        max([i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"], default=1)) or _call(self, x))
    monkeypatch.setattr(scoring, "BULK_BYTES", 0)
    score_csv(det, src, tmp_path / "bulk.csv", chunk_rows=500)
    assert (tmp_path / "bulk.csv").read_bytes() == (tmp_path / "default.csv").read_bytes()
    assert seen and set(seen) == {1}


def test_text_in_a_numeric_feature_of_a_scored_file_is_named_not_scored_silently():
    from core.data import read_table
    from core.preprocess import Preprocessor

    train = pd.DataFrame({"power_kw": np.arange(1.0, 41.0), "temp": np.linspace(10, 20, 40)})
    pre = Preprocessor("standard").fit(train, ["power_kw", "temp"])
    scored = read_table(b"power_kw,temp\n1.5,11\nbroken,12\n,13\nNA,14\n2,15\noff,16\n", name="new.csv").frame
    notes = pre.not_numbers(scored)
    assert len(notes) == 1 and "2 cell(s) of 'power_kw'" in notes[0] and "data row 2: 'broken'" in notes[0]
    assert f"{pre.numeric[0].median:.6g}" in notes[0]  # what the cell was scored as
    assert pre.not_numbers(read_table(b"power_kw,temp\n1.5,11\n,12\nNA,13\n", name="ok.csv").frame) == []


def test_a_review_band_marks_the_rows_from_its_start_up_to_the_threshold(fitted, tmp_path):
    import pytest

    from core.errors import DataError
    from core.scoring import scored_csv_bytes

    det, X, _ = fitted
    src, dest = tmp_path / "in.csv", tmp_path / "out.csv"
    X.to_csv(src, index=False)
    scores = det.decision_function(X)
    low = float(np.quantile(scores[scores <= det.threshold_], 0.8))
    summary = score_csv(det, src, dest, chunk_rows=100, review_from=low)
    out = pd.read_csv(dest)
    expected = ((out["anomaly_score"] > low) & (out["anomaly_score"] <= det.threshold_)).astype(int)
    assert list(out.columns[-3:]) == ["anomaly_score", "is_anomaly", "for_review"]
    assert out["for_review"].tolist() == expected.tolist() and 0 < summary["for_review"] == expected.sum()
    assert not (out["for_review"] & out["is_anomaly"]).any()  # a flagged row is not also sent to review
    from core.data import read_table

    in_memory = pd.read_csv(io.BytesIO(scored_csv_bytes(read_table(src), scores, det.threshold_, source=src.read_bytes(), review_from=low)))
    assert in_memory["for_review"].tolist() == expected.tolist()  # the Score page's download says the same
    assert "for_review" not in pd.read_csv(io.BytesIO(scored_csv_bytes(read_table(src), scores, det.threshold_, source=src.read_bytes())))
    with pytest.raises(DataError, match="is not below it"):
        score_csv(det, src, dest, review_from=det.threshold_)
