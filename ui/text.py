"""Text from a file, shown as plain text: never Markdown, never HTML."""

from __future__ import annotations

import re

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:=^])")


def plain(value: object, limit: int = 200) -> str:
    """``value`` escaped for any Streamlit text that renders Markdown (titles, captions,
    widget labels): every Markdown and HTML character is backslash-escaped, so a file
    named ``[x](http://…)`` or a column ``![](…)`` is shown as those characters. Long
    text is cut at ``limit`` characters."""
    text = str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    text = text.replace("\r", " ").replace("\n", " ")
    return _MARKDOWN.sub(r"\\\1", text)


def names(values, limit: int = 10) -> str:
    """A few names, plain, quoted, and how many more there are."""
    values = list(values)
    shown = ", ".join(f"'{plain(v, 60)}'" for v in values[:limit])
    return shown + (f" and {len(values) - limit:,} more" if len(values) > limit else "")
