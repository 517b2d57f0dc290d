"""How cells from a file are shown."""

import numpy as np
import pandas as pd

from ui.text import blank_missing


def test_empty_text_cells_show_empty_and_numbers_stay_numbers_to_sort_as_numbers():
    frame = pd.DataFrame({"x": [1.5, np.nan, -2.0, -10.25], "t": ["a", None, "b", "c"]}, index=[1, 2, 3, 4])
    frame["o"] = pd.Series(["p", None, "q", "r"], index=frame.index, dtype=object)
    shown = blank_missing(frame)
    assert shown["t"].tolist() == ["a", "", "b", "c"] and shown["o"].tolist() == ["p", "", "q", "r"]  # not "None"
    assert shown["x"].dtype.kind == "f" and shown["x"].sort_values().tolist()[:3] == [-10.25, -2.0, 1.5]  # text sorted -2 before -10.25
    assert frame["t"].isna().sum() == 1  # the caller's frame is left as it was
