"""Text from a file, shown as plain text: never Markdown, never HTML."""

from __future__ import annotations

import re

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:=^])")
#: Where Markdown would turn bare text into a link (GFM autolinks: scheme://, www., e-mail):
#: an invisible zero-width space there keeps the characters and breaks the link.
_AUTOLINK = re.compile(r"(?i)(://|www(?=\.)|@)")
_ZWSP = "\u200b"


def plain(value: object, limit: int = 200) -> str:
    """``value`` escaped for any Streamlit text that renders Markdown (titles, captions,
    widget labels): every Markdown and HTML character is backslash-escaped, so a file
    named ``[x](http://…)`` or a column ``![](…)`` is shown as those characters. Long
    text is cut at ``limit`` characters."""
    text = str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    text = text.replace("\r", " ").replace("\n", " ")
    text = _AUTOLINK.sub(lambda m: m.group(1)[0] + _ZWSP + m.group(1)[1:], text)
    return _MARKDOWN.sub(r"\\\1", text)


def message(exc: BaseException) -> str:
    """A library message (which may quote file names, columns and cells), safe to show."""
    return plain(str(exc), 4000)


def not_a_signal(problem: str) -> str:
    """Why conv1d and LSTM autoencoders are not offered, said alike on the Train and Compare pages."""
    return f"Conv1d and LSTM autoencoders are not offered: they read a row as a signal, and this table is not one: {plain(problem, 4000)}."


def names(values, limit: int = 10) -> str:
    """A few names, plain, quoted, and how many more there are."""
    values = list(values)
    shown = ", ".join(f"'{plain(v, 60)}'" for v in values[:limit])
    return shown + (f" and {len(values) - limit:,} more" if len(values) > limit else "")


def _number_as_streamlit_shows(value: float) -> str:
    """A number as st.dataframe shows one (at most 4 decimals, no trailing zeros); a missing one empty."""
    if value != value:  # NaN
        return ""
    return f"{value:.4f}".rstrip("0").rstrip(".")


def blank_missing(frame) -> tuple:
    """``frame`` for ``st.dataframe`` with its missing cells shown empty, as a spreadsheet shows them, not as
    Streamlit's "None" (which it draws for any null, whatever a Styler says): text cells become "", and a numeric
    column with a gap becomes its numbers as Streamlit writes them, right-aligned as numbers are. Returns the frame
    and the column settings (``column_config``) that align those columns."""
    import pandas as pd
    import streamlit as st

    frame = frame.copy()
    aligned = {}
    for i in range(frame.shape[1]):
        column = frame.iloc[:, i]
        if column.dtype == object or isinstance(column.dtype, pd.StringDtype):
            frame.iloc[:, i] = column.where(column.notna(), "")
        elif column.dtype.kind == "f" and column.isna().any():
            frame.isetitem(i, column.map(_number_as_streamlit_shows).astype(object))
            aligned[str(frame.columns[i])] = st.column_config.TextColumn(alignment="right")
    return frame, aligned
