"""Summaries of a table for the Data page: column types, missing values, classes."""

from __future__ import annotations

from typing import Sequence

import pandas as pd

from core.data import numeric_columns


def column_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per column: kind, distinct values, missing count and an example."""
    numeric = set(numeric_columns(frame))
    rows = []
    for column in frame.columns:
        series = frame[column]
        rows.append({
            "column": str(column),
            "kind": "number" if column in numeric else "text",
            "distinct": int(series.nunique(dropna=True)),
            "missing": int(series.isna().sum()),
            "example": str(series.dropna().iloc[0]) if series.notna().any() else "",
        })
    return pd.DataFrame(rows)


def class_table(counts: pd.Series, normal: Sequence[object], top: int = 50) -> pd.DataFrame:
    """Rows per class (the ``top`` largest, as :func:`core.target.class_counts` orders them), each
    class's role and its share of the rows. A table, not a chart: the Data page's first view then
    needs no charting library in the browser (Plotly's 4.7 MB script took seconds to start there)."""
    shown = counts.iloc[:top]
    total = int(counts.sum())
    return pd.DataFrame({
        "class": [str(c) for c in shown.index],
        "role": ["normal" if c in normal else "anomaly" for c in shown.index],
        "rows": shown.to_numpy(dtype="int64"),
        "share": shown.to_numpy(dtype=float) / total if total else 0.0,
    })
