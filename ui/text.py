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


def blank_missing(frame):
    """``frame`` for ``st.dataframe`` with its empty text cells shown empty, not as Streamlit's "None". Numeric
    columns stay numbers, so they sort as numbers: Streamlit draws any null number as "None" whatever a Styler says,
    and numbers turned into text to hide it sorted as text (a walk saw -0.13 before -1.21)."""
    import pandas as pd

    frame = frame.copy()
    for i in range(frame.shape[1]):
        column = frame.iloc[:, i]
        if column.dtype == object or isinstance(column.dtype, pd.StringDtype):
            frame.iloc[:, i] = column.where(column.notna(), "")
    return frame
