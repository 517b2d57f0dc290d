"""How cells from a file are shown."""

import numpy as np
import pandas as pd

from ui.text import blank_missing


def test_a_table_shows_missing_cells_empty_and_other_numbers_as_streamlit_does():
    frame = pd.DataFrame({"x": [1.5, np.nan, 2.0, 1.23456], "t": ["a", None, "b", "c"], "n": [1.0, 2.0, 3.0, 4.0]}, index=[1, 2, 3, 4])
    frame["o"] = pd.Series(["p", None, "q", "r"], index=frame.index, dtype=object)
    shown, aligned = blank_missing(frame)
    assert shown["x"].tolist() == ["1.5", "", "2", "1.2346"]  # a gap is empty, not "None" (Streamlit draws any null so)
    assert shown["t"].tolist() == ["a", "", "b", "c"] and shown["o"].tolist() == ["p", "", "q", "r"]
    assert shown["n"].dtype.kind == "f" and list(aligned) == ["x"]  # a column without a gap stays numeric, to Streamlit
    assert aligned["x"]["alignment"] == "right"  # still reads as numbers
    assert frame["x"].isna().sum() == 1  # the caller's frame is left as it was


def test_a_table_without_gaps_is_left_to_streamlit():
    frame = pd.DataFrame({"x": [1.5, 2.0], "t": ["a", "b"]})
    shown, aligned = blank_missing(frame)
    assert shown.equals(frame) and aligned == {}
