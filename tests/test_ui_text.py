"""How text and cells from a file are shown."""

import numpy as np
import pandas as pd

from ui.text import blank_missing


def _shown(styled) -> list[list[str]]:
    frame = styled if isinstance(styled, pd.DataFrame) else None
    if frame is not None:
        return [[str(v) for v in row] for row in frame.itertuples(index=False)]
    return [line.split("|")[1:] for line in styled.to_string(delimiter="|").splitlines()[1:]]


def test_the_data_preview_shows_missing_cells_empty_and_other_numbers_as_streamlit_does():
    frame = pd.DataFrame({"x": [1.5, np.nan, 2.0, 1.23456], "t": ["a", None, "b", "c"], "n": [1.0, 2.0, 3.0, 4.0]}, index=[1, 2, 3, 4])
    frame["o"] = pd.Series(["p", None, "q", "r"], index=frame.index, dtype=object)
    shown = blank_missing(frame)
    assert shown.data["x"].dtype.kind == "f"  # still numbers: right-aligned and sorted as numbers
    rows = _shown(shown)
    assert [row[0] for row in rows] == ["1.5", "", "2", "1.2346"]  # a gap is empty, not "None" or "nan"
    assert [row[1] for row in rows] == ["a", "", "b", "c"] and [row[3] for row in rows] == ["p", "", "q", "r"]


def test_a_preview_without_gaps_is_left_to_streamlit():
    frame = pd.DataFrame({"x": [1.5, 2.0], "t": ["a", "b"]})
    shown = blank_missing(frame)
    assert isinstance(shown, pd.DataFrame) and shown.equals(frame)
