"""The Compare page's table: every detector on the same rows, ranked on validation rows,
the model in use among them, and a plain sentence when a baseline beats the autoencoders.

Ranking is by average precision on *validation* rows, where choices are made; the test
columns are there to read, never to choose by.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence

import pandas as pd

RANK_BY = "AP (validation)"
IN_USE = "in use: "


@dataclass(frozen=True)
class Entry:
    """One row: a name, whether it is an autoencoder, its scored parts and its threshold."""

    name: str
    autoencoder: bool
    parts: dict[str, Any]
    threshold: float
    fit_seconds: Optional[float] = None


@dataclass(frozen=True)
class Leaderboard:
    table: pd.DataFrame  # best first, with a "best" mark on the top row
    best: str
    verdict: str
    best_baseline: Optional[str]  # the baseline to offer when it beats every autoencoder on validation rows


def _row(entry: Entry) -> dict[str, Any]:
    val, test = entry.parts["val"].curve, entry.parts["test"].curve
    return {
        "detector": entry.name,
        "kind": "autoencoder" if entry.autoencoder else "baseline",
        RANK_BY: val.average_precision,
        "ROC-AUC (validation)": val.roc_auc,
        "ROC-AUC (test)": test.roc_auc,
        "AP (test)": test.average_precision,
        "F1 at its threshold (test)": test.at(entry.threshold).metrics()["f1"],
        "fit s": entry.fit_seconds,
    }


def leaderboard(entries: Sequence[Entry]) -> Leaderboard:
    rows = pd.DataFrame([_row(e) for e in entries]).sort_values(RANK_BY, ascending=False, kind="stable").reset_index(drop=True)
    rows.insert(0, "best", [f"★ best by {RANK_BY}"] + [""] * (len(rows) - 1))
    best = str(rows.loc[0, "detector"])
    ae = rows[rows["kind"] == "autoencoder"]
    base = rows[rows["kind"] == "baseline"]
    best_baseline = None
    if ae.empty or base.empty:
        verdict = f"Best on validation rows: {best} (average precision {rows.loc[0, RANK_BY]:.3f})."
    else:
        a, b = ae.iloc[0], base.iloc[0]
        gap = float(b[RANK_BY] - a[RANK_BY])
        if abs(gap) < 0.0005:
            verdict = (f"The best autoencoder, {a['detector']}, and the best baseline, {b['detector']}, are level on validation rows "
                       f"(average precision {a[RANK_BY]:.3f}): the simpler baseline does as well here.")
        elif gap > 0:
            best_baseline = str(b["detector"])
            verdict = (f"The baseline {b['detector']} is ahead of every autoencoder on validation rows: average precision {b[RANK_BY]:.3f} against "
                       f"{a[RANK_BY]:.3f} for {a['detector']} (by {gap:.3f}). On this data the simpler model is the honest choice.")
        else:
            verdict = (f"The autoencoder {a['detector']} leads on validation rows: average precision {a[RANK_BY]:.3f} against {b[RANK_BY]:.3f} "
                       f"for the best baseline, {b['detector']} (by {-gap:.3f}).")
    return Leaderboard(rows, best, verdict, best_baseline)
