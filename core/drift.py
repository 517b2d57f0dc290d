"""Has the new data moved away from the training data? A verdict, not just a chart.

Each numeric feature and the anomaly score are compared between the normal training
rows and the new rows with the two-sample Kolmogorov–Smirnov statistic (the largest
gap between the two empirical distribution functions, 0 = same, 1 = disjoint). A
column "moved" when the statistic is at least ``MOVED_KS`` *and* the test's p-value is
below ``ALPHA``: on big tables tiny gaps are significant, so the size counts too.

Given the threshold, the anomaly scores are compared on the rows it keeps as normal, on both sides (new rows and
normal training rows scoring above it are left out): anomalies move the scores without any drift, and counting them
read a table with 20 % anomalies as "moved" (a statistic of about its anomaly share). The shares flagged are reported
beside, and when the threshold keeps fewer than two new rows every row is compared. Feature columns always compare
every new row: rows chosen by their score are not a fair sample of the other columns (a walk saw ten untouched columns
"moved" among the 5 % of rows a shift in two columns left unflagged), so a feature's statistic can include up to the
flagged share, which the verdict then says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp

MOVED_KS = 0.1
ALPHA = 0.01
MAX_ROWS = 20_000  # per side; a seeded sample beyond, so the check stays fast on any table
MAX_COLUMNS = 500
#: With a threshold, flagging more than this share of the new rows asks for a review on its own: that many anomalies is
#: unlikely, and rows moved past the threshold are left out of the comparison, so it could not show them.
MOST_FLAGGED = 0.5


@dataclass(frozen=True)
class ColumnDrift:
    column: str
    statistic: float
    p_value: float

    @property
    def moved(self) -> bool:
        return self.statistic >= MOVED_KS and self.p_value < ALPHA


@dataclass(frozen=True)
class DriftReport:
    score: Optional[ColumnDrift]  # None: too few finite scores on a side to test (a one-row file)
    columns: tuple[ColumnDrift, ...]  # largest statistic first
    #: Numeric features with numbers in the training rows and (almost) none in the new rows: every cell text or empty,
    #: scored as the training median. No test can measure them, and they are the largest shift there is.
    without_numbers: tuple[str, ...] = ()
    #: With a threshold: the shares of the new rows and of the normal training rows scoring above it (left out of the
    #: score comparison, unless fewer than two new rows are left: then ``score_on_every_row``).
    flagged: Optional[tuple[float, float]] = None
    score_on_every_row: bool = False

    @property
    def moved(self) -> list[ColumnDrift]:
        return [c for c in self.columns if c.moved]

    @property
    def needs_review(self) -> bool:
        """Whether the threshold should be reviewed before its flags on these rows are trusted."""
        return bool(self.moved or (self.score is not None and self.score.moved) or self.without_numbers or self.mostly_flagged)

    @property
    def mostly_flagged(self) -> bool:
        return self.flagged is not None and self.flagged[0] > MOST_FLAGGED

    def sentence(self) -> str:
        """The verdict in words, naming the test, its size and, where a large gap did not count, why; then the
        features the new rows have no numbers in."""
        return self._flagged_part() + self._measured_sentence() + self._without_numbers_part()

    def _flagged_part(self) -> str:
        if self.flagged is None:
            return ""
        new, training = self.flagged
        if new == 0:
            return "The threshold flags none of the new rows. "
        training_part = f"{training:.1%} of the normal training rows score above it" if training > 0 else "no normal training row scores above it"
        if self.score_on_every_row:
            scope = "too few are left to compare the scores of the rest, so every row's score is compared"
        else:
            scope = "the scores are compared on the rows it keeps as normal, since anomalies move scores without any drift"
        most = (f"That is more than {MOST_FLAGGED:.0%} of the new rows: so many anomalies is unlikely, and rows the data moved past the "
                "threshold would be among them, so review the threshold before trusting its flags. ") if self.mostly_flagged else ""
        features = (" The features are compared on every new row: those the flagged rows stand out in can show a gap of up to the "
                    "flagged share.") if self.columns and new >= MOVED_KS else ""
        return f"The threshold flags {new:.1%} of the new rows ({training_part}): {scope}.{features} {most}"

    def _measured_sentence(self) -> str:
        moved = self.moved
        score = self.score
        against = "against the normal training rows"
        if score is None:
            score_part = ("Too few new rows to test whether the anomaly scores moved (the test needs at least 2 with a finite score"
                          + (" at or below the threshold)" if self.flagged is not None else ")"))
        elif score.moved:
            score_part = f"The anomaly scores moved ({_stat(score)} {against})"
        elif score.statistic >= MOVED_KS:
            score_part = f"The anomaly scores did not move beyond chance ({_stat(score)} {against}; p must be below {ALPHA})"
        elif score.p_value < ALPHA:  # many rows make a tiny gap significant: say it is there, and too small to count
            score_part = (f"The anomaly scores moved only slightly ({_stat(score)} {against}): the gap is too regular to be chance, "
                          f"but smaller than the statistic of {MOVED_KS} from which a shift counts")
        else:  # a larger gap than the one above may still be chance: worded so that a larger statistic never reads as less movement
            score_part = (f"The anomaly scores moved only slightly, if at all ({_stat(score)} {against}): the gap is smaller than the statistic "
                          f"of {MOVED_KS} from which a shift counts, and could be chance (p not below {ALPHA})")
        if not self.columns:
            return score_part + "."
        if not moved:
            top = self.columns[0]
            feature = "measured feature" if self.without_numbers else "feature"
            if top.statistic >= MOVED_KS:
                return (f"{score_part}; no {feature} moved beyond chance: the largest gap, {_ks(top.statistic)} ('{top.column}'), has p = {top.p_value:.2g}, "
                        f"not below {ALPHA}. Few new rows can show only large shifts.")
            return f"{score_part}; no {feature} moved: the largest Kolmogorov–Smirnov statistic is {_ks(top.statistic)} ('{top.column}'), below {MOVED_KS}."
        named = ", ".join(f"'{c.column}' {_ks(c.statistic)}" for c in moved[:10]) + (f" and {len(moved) - 10} more" if len(moved) > 10 else "")
        return (f"{score_part}; {len(moved)} of {len(self.columns)} numeric features moved (Kolmogorov–Smirnov statistic ≥ {MOVED_KS}, p < {ALPHA}): {named}. "
                "Review the threshold before trusting its flags on these rows.")


    def _without_numbers_part(self) -> str:
        if not self.without_numbers:
            return ""
        named = ", ".join(f"'{c}'" for c in self.without_numbers[:10]) + (f" and {len(self.without_numbers) - 10} more" if len(self.without_numbers) > 10 else "")
        return (f" The new rows have no numbers in {named} (every cell text or empty, scored as the training median): no test "
                "can measure that shift, so review the threshold before trusting its flags on these rows.")


def _ks(statistic: float) -> str:
    """A statistic in 2 decimals, 3 where 2 would read as the cut-off it is not at ("0.10 … smaller than 0.1")."""
    return f"{statistic:.3f}" if abs(statistic - MOVED_KS) < 0.005 else f"{statistic:.2f}"


def _stat(c: ColumnDrift) -> str:
    return f"Kolmogorov–Smirnov statistic {_ks(c.statistic)}, p = {c.p_value:.2g}"


def _sample(values: np.ndarray, seed: int) -> np.ndarray:
    values = values[np.isfinite(values)]
    if len(values) > MAX_ROWS:
        values = np.random.default_rng(seed).choice(values, MAX_ROWS, replace=False)
    return values


def _compare(name: str, reference: np.ndarray, new: np.ndarray) -> Optional[ColumnDrift]:
    reference, new = _sample(reference, 0), _sample(new, 1)
    if len(reference) < 2 or len(new) < 2:
        return None
    result = ks_2samp(reference, new)
    return ColumnDrift(name, float(result.statistic), float(result.pvalue))


def drift_report(reference_scores: np.ndarray, new_scores: np.ndarray, reference_rows: Optional[pd.DataFrame] = None,
                 new_rows: Optional[pd.DataFrame] = None, features: Sequence[str] = (), threshold: Optional[float] = None) -> DriftReport:
    """Scores always; numeric features too when the training rows are at hand (not for a restored model alone).
    With ``threshold``, on the rows it keeps as normal (see the module's docstring)."""
    reference_scores, new_scores = np.asarray(reference_scores, float), np.asarray(new_scores, float)
    flagged, every_row = None, False
    score = None
    if threshold is not None:
        above_new, above_reference = new_scores > threshold, reference_scores > threshold
        flagged = (float(above_new.mean()) if len(new_scores) else 0.0, float(above_reference.mean()) if len(reference_scores) else 0.0)
        score = _compare("anomaly score", reference_scores[~above_reference], new_scores[~above_new])
        every_row = score is None and np.isfinite(new_scores).sum() >= 2
    if threshold is None or every_row:
        score = _compare("anomaly score", reference_scores, new_scores)
    columns, without_numbers = [], []
    if reference_rows is not None and new_rows is not None:
        for column in list(features)[:MAX_COLUMNS]:
            if column not in new_rows.columns or column not in reference_rows.columns:
                continue
            ref = pd.to_numeric(reference_rows[column], errors="coerce").to_numpy(float)
            new = pd.to_numeric(new_rows[column], errors="coerce").to_numpy(float)
            found = _compare(str(column), ref, new)
            if found is not None:
                columns.append(found)
            elif np.isfinite(ref).sum() >= 2 and len(new) >= 2 and np.isfinite(new).sum() < 2:
                without_numbers.append(str(column))
    columns.sort(key=lambda c: -c.statistic)
    return DriftReport(score, tuple(columns), tuple(without_numbers), flagged, every_row)
