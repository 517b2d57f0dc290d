"""Summaries of a table for the Data page: column types, missing values, classes."""

from __future__ import annotations

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
