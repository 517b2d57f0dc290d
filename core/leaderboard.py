"""The Compare page's table: every detector on the same rows, ranked on validation rows,
the model in use among them, and a plain sentence when a baseline beats the autoencoders.

Ranking is by average precision on *validation* rows, where choices are made; the test
columns are there to read, never to choose by.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence

import numpy as np
import pandas as pd

RANK_BY = "AP (validation)"
IN_USE = "✓"
#: Paired bootstrap of the validation rows behind "ahead": resamples, rows kept (a seeded sample beyond),
#: the share of resamples a lead must hold in to be called more than noise, and the ROC-AUC under which
#: no detector is said to do much better than chance.
RESAMPLES = 200
MAX_RESAMPLED_ROWS = 20_000
CLEAR_LEAD = 0.9
NEAR_CHANCE = 0.6


@dataclass(frozen=True)
class Entry:
    """One row: a name, whether it is an autoencoder, its scored parts and its threshold."""

    name: str
    autoencoder: bool
    parts: dict[str, Any]
    threshold: float
    fit_seconds: Optional[float] = None
    score_reads: str = ""  # an autoencoder's score parts ("tails" alone: the network adds nothing), "" for a baseline
    in_use: bool = False  # the model the other pages show (its threshold is the one in use)


def _digits(gap: float) -> int:
    """Decimals for a sentence's two figures and their gap (the gap is that of the figures as shown, so they add up):
    3, or 4 when the gap is under 0.01, where one rounding is a large share of it."""
    return 4 if abs(gap) < 0.01 else 3


def score_reads(detector: Any) -> str:
    """Which parts an autoencoder's score adds, for the table: two autoencoders whose scores keep the tails part
    alone score identically, and this column says why."""
    members = getattr(detector, "members_", None)
    if members:  # an ensemble: each network's own choice, said once when they agree
        choices = [" + ".join(m.score_parts_) for m in members]
        if len(set(choices)) == 1:
            return f"each network: {choices[0]}"
        return "; ".join(f"network {i + 1}: {choice}" for i, choice in enumerate(choices))
    return " + ".join(getattr(detector, "score_parts_", ()))  # a baseline has none (an unfitted one raises an AttributeError too)


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
        "in use": IN_USE if entry.in_use else "",
        "kind": "autoencoder" if entry.autoencoder else "baseline",
        "score reads": entry.score_reads or "–",
        RANK_BY: val.average_precision,
        "ROC-AUC (validation)": val.roc_auc,
        "ROC-AUC (test)": test.roc_auc,
        "AP (test)": test.average_precision,
        "F1 at its threshold (test)": test.at(entry.threshold).metrics()["f1"],
        "fit s": entry.fit_seconds,
    }


def lead_share(leader: np.ndarray, other: np.ndarray, y: np.ndarray, seed: int = 0) -> float:
    """The share of paired bootstrap resamples of the rows in which ``leader``'s average precision beats ``other``'s.

    Poisson(1) weights per row (the usual stand-in for resampling with replacement, one matrix for
    all resamples), the same weights for both scores; each AP is one pass over its rows sorted once.
    """
    y = np.asarray(y, bool)
    rng = np.random.default_rng(seed)
    if len(y) > MAX_RESAMPLED_ROWS:
        keep = rng.choice(len(y), MAX_RESAMPLED_ROWS, replace=False)
        leader, other, y = np.asarray(leader)[keep], np.asarray(other)[keep], y[keep]
    weights = rng.poisson(1.0, size=(RESAMPLES, len(y))).astype(np.float64)

    def ap(scores: np.ndarray) -> np.ndarray:
        order = np.argsort(-np.asarray(scores, np.float64), kind="stable")
        w, hit = weights[:, order], y[order]
        tp = np.cumsum(w * hit, axis=1)
        precision = tp / np.maximum(np.cumsum(w, axis=1), 1e-12)
        return (w * hit * precision).sum(axis=1) / np.maximum((w * hit).sum(axis=1), 1e-12)

    return float(np.mean(ap(leader) > ap(other)))


def _noise_note(share: float) -> str:
    return (f" That lead holds in {share:.0%} of {RESAMPLES} resamples of the validation rows: it is within what another sample of rows "
            "could give, so either choice is defensible." if share < CLEAR_LEAD else "")


def leaderboard(entries: Sequence[Entry]) -> Leaderboard:
    rows = pd.DataFrame([_row(e) for e in entries]).sort_values(RANK_BY, ascending=False, kind="stable").reset_index(drop=True)
    rows.insert(0, "best", ["★"] + [""] * (len(rows) - 1))  # by the column the rows are sorted on
    best = str(rows.loc[0, "detector"])
    ae = rows[rows["kind"] == "autoencoder"]
    base = rows[rows["kind"] == "baseline"]
    best_baseline = None
    if ae.empty or base.empty:
        verdict = f"Best on validation rows: {best} (average precision {rows.loc[0, RANK_BY]:.3f})."
    else:
        a, b = ae.iloc[0], base.iloc[0]
        gap = float(b[RANK_BY] - a[RANK_BY])
        by_name = {e.name: e.parts["val"] for e in entries}
        val_a, val_b = by_name[a["detector"]], by_name[b["detector"]]
        if abs(gap) < 0.0005:
            verdict = (f"The best autoencoder, {a['detector']}, and the best baseline, {b['detector']}, are level on validation rows "
                       f"(average precision {a[RANK_BY]:.3f}): the simpler baseline does as well here.")
        elif gap > 0:
            best_baseline = str(b["detector"])
            share = lead_share(val_b.scores, val_a.scores, val_a.y)
            d = _digits(gap)
            verdict = (f"The baseline {b['detector']} is ahead of every autoencoder on validation rows: average precision {b[RANK_BY]:.{d}f} against "
                       f"{a[RANK_BY]:.{d}f} for {a['detector']} (by {round(b[RANK_BY], d) - round(a[RANK_BY], d):.{d}f})." + (_noise_note(share) or " On this data the simpler model is the honest choice."))
        else:
            share = lead_share(val_a.scores, val_b.scores, val_a.y)
            d = _digits(gap)
            leader = a["detector"] if "autoencoder" in str(a["detector"]).lower() else f"autoencoder {a['detector']}"  # not "the autoencoder dense autoencoder"
            verdict = (f"The {leader} leads on validation rows: average precision {a[RANK_BY]:.{d}f} against {b[RANK_BY]:.{d}f} "
                       f"for the best baseline, {b['detector']} (by {round(a[RANK_BY], d) - round(b[RANK_BY], d):.{d}f}).{_noise_note(share)}")
    top_auc = float(rows["ROC-AUC (validation)"].max())
    if top_auc < NEAR_CHANCE:
        verdict = (f"No detector does much better than chance on these rows (the best validation ROC-AUC is {top_auc:.2f}; 0.5 is chance): "
                   "check the label, the normal classes and the features before trusting any of them. " + verdict)
    return Leaderboard(rows, best, verdict, best_baseline)
