"""Threshold rules: each returns the value and a sentence naming how it was chosen.

Label-free rules look at the errors of the normal training rows, except the
outlier tests (GESD, MAD, IQR), which look at the rows being judged (the
validation rows, or a scored batch) when they are given, and find where that
batch's upper tail breaks away. Label-using rules look at validation rows only,
so nothing is tuned on the test rows.
A rule is written as a short spec, e.g. ``"percentile:99"``, ``"mean_std:2"``,
``"max_f1"``, ``"cost:1:10"`` or ``"recall:0.9"``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np

from core.errors import DataError
from core.metrics import ThresholdCurve, metrics_from_counts

DEFAULT_LABELLED = "max_f1"
DEFAULT_UNLABELLED = "percentile:99"

#: Rules a user can pick, with the default parameter and a one-line explanation.
RULES: dict[str, tuple[Optional[str], str, bool]] = {
    "max_f1": (None, "the threshold with the best F1 on validation rows", True),
    "fbeta": ("2", "the best F-beta on validation rows (beta > 1 favours recall)", True),
    "youden": (None, "the best Youden's J (recall + specificity - 1) on validation rows", True),
    "cost": ("1:10", "the lowest expected cost, given the cost of a false alarm and of a miss", True),
    "recall": ("0.9", "the highest threshold that still catches this share of anomalies on validation rows", True),
    "precision": ("0.9", "the lowest threshold whose flags are at least this precise on validation rows", True),
    "mean_std": ("2", "mean + k standard deviations of the normal training errors", False),
    "percentile": ("99", "a percentile of the normal training errors", False),
    "max_train": (None, "the largest normal training error", False),
    "contamination": ("0.05", "flag this expected share of rows (PyOD's rule)", False),
    "gesd": ("0.05", "generalized ESD test (Rosner): the rows whose scores are outliers at this significance", False),
    "mad": ("3", "median + k robust standard deviations (1.4826 · median absolute deviation) of the scores", False),
    "iqr": ("1.5", "upper quartile + k interquartile ranges of the scores (Tukey's fence)", False),
}
#: Outlier tests: applied to the rows being judged when those are given, else to the training scores.
ON_JUDGED_ROWS = ("gesd", "mad", "iqr")
#: The parts a threshold can be set on (``Threshold.set_on``).
SET_ON_PARTS = ("val", "test")


def set_on_rows(rule: str) -> bool:
    """Whether a threshold by ``rule`` is set by the scores of validation or test rows (by hand, or an outlier test
    judging them), so those rows' numbers can flatter it; other rules read training scores or labels."""
    name = rule.split(":")[0]
    return name == "manual" or name in ON_JUDGED_ROWS
#: GESD tests at most this share of the rows as outliers (ECG holds 42 % anomalies).
GESD_MAX_SHARE = 0.5


def gesd_threshold(scores: np.ndarray, alpha: float = 0.05, max_share: float = GESD_MAX_SHARE) -> tuple[float, int]:
    """One-sided generalized ESD test on the upper tail: (threshold, number of outliers).

    Removes the largest score up to ``max_share`` of the rows; the outliers are the most
    removed while the studentized largest still exceeds Rosner's critical value. O(n log n)
    (a sort and cumulative sums). The threshold sits at the largest score kept, so every
    outlier scores above it; with no outliers it is the largest score (nothing flagged).
    """
    from scipy.stats import t as student_t

    s = np.sort(np.asarray(scores, dtype=np.float64))
    n = len(s)
    r = int(max_share * n)
    if n < 3 or r < 1:
        return float(s[-1]) if n else 0.0, 0
    i = np.arange(1, r + 1)
    m = n - i + 1  # rows left when testing the i-th largest
    keep = m >= 3
    i, m = i[keep], m[keep]
    c1, c2 = np.cumsum(s), np.cumsum(s * s)
    total, total2 = c1[m - 1], c2[m - 1]
    mean = total / m
    var = np.maximum(total2 / m - mean**2, 0) * m / np.maximum(m - 1, 1)
    largest = s[m - 1]
    stat = np.where(var > 0, (largest - mean) / np.sqrt(np.where(var > 0, var, 1)), 0.0)
    p = 1 - alpha / m
    tq = student_t.ppf(p, m - 2)
    critical = (m - 1) * tq / np.sqrt((m - 2 + tq**2) * m)
    exceed = np.flatnonzero(stat > critical)
    n_out = int(i[exceed.max()]) if len(exceed) else 0
    return float(s[n - n_out - 1]), n_out


@dataclass(frozen=True)
class Threshold:
    value: float
    rule: str
    reason: str
    #: The rows whose scores set it ("val" or "test"), the rows whose numbers it may flatter: for a threshold set by
    #: hand, the rows on screen then; for an outlier test (``ON_JUDGED_ROWS``), the rows it judged. None otherwise.
    set_on: Optional[str] = None
    #: Where a review band starts: rows scoring above it, up to ``value``, go to a person (the Threshold page's Review
    #: band, saved with the model so the command line marks the same rows). None: no band.
    review_from: Optional[float] = None

    #: How a bundle's JSON holds one (checked by core.bundle before anything is read).
    SCHEMA = {"value": (int, float), "rule": str, "reason": str, "set_on?": str, "review_from?": (int, float)}

    def to_dict(self) -> dict:
        """As a bundle stores it (``set_on`` and ``review_from`` only when known)."""
        stored = {"value": float(self.value), "rule": self.rule, "reason": self.reason}
        if self.set_on in SET_ON_PARTS:
            stored["set_on"] = self.set_on
        if self.review_from is not None:
            stored["review_from"] = float(self.review_from)
        return stored

    @classmethod
    def from_dict(cls, stored: dict) -> "Threshold":
        """A saved threshold; a review band that does not start below it is refused, in words."""
        set_on = stored.get("set_on")
        value, review_from = float(stored["value"]), stored.get("review_from")
        if review_from is not None and not (math.isfinite(float(review_from)) and float(review_from) < value):
            raise DataError(f"The bundle's review band starts at {float(review_from):.6g}, which is not below its threshold {value:.6g}; "
                            "the file is damaged. Save the model again.")
        return cls(value, str(stored["rule"]), str(stored["reason"]), set_on if set_on in SET_ON_PARTS else None,
                   None if review_from is None else float(review_from))


def _parse(rule: str) -> tuple[str, list[float]]:
    name, *args = rule.strip().split(":")
    if name not in RULES and name != "auto":
        raise DataError(f"Unknown threshold rule {rule!r}. Choose one of: auto, {', '.join(RULES)}.")
    try:
        values = [float(a) for a in args]
    except ValueError:
        raise DataError(f"The threshold rule {rule!r} needs numbers after ':' (for example 'percentile:99').") from None
    if not values and RULES.get(name, (None,))[0]:
        values = [float(a) for a in RULES[name][0].split(":")]
    return name, values


def needs_labels(rule: str) -> bool:
    name, _ = _parse(rule)
    return name != "auto" and RULES[name][2]


def rule_words(rule: str) -> str:
    """A rule's code in a few words, for a reader ('cost:1:10' → 'lowest cost, false alarm 1, miss 10'); the code
    itself stays in reports and bundles, where a program reads it."""
    name, *args = rule.strip().split(":")
    a = args[0] if args else ""
    words = {
        "manual": "set by hand", "auto": "the default rule", "max_f1": "best F1 on validation rows", "youden": "best Youden's J on validation rows",
        "fbeta": f"best F{a} on validation rows", "percentile": f"{a}th percentile of training scores", "mean_std": f"mean + {a}·std of training scores",
        "max_train": "largest training score", "contamination": f"flags {a} of training rows", "gesd": f"generalized ESD test, α = {a}",
        "mad": f"median + {a} robust std (MAD)", "iqr": f"upper quartile + {a}·IQR", "recall": f"recall ≥ {a} on validation rows",
        "precision": f"precision ≥ {a} on validation rows",
        "cost": "lowest expected cost" + (f", false alarm {args[0]}, miss {args[1]}" if len(args) >= 2 else ""),
    }
    return words.get(name, rule)


def resolve_auto(rule: str, has_labels: bool) -> str:
    """The default rule: max F1 on validation rows with labels, else the 99th percentile."""
    if rule.strip() != "auto":
        return rule
    return DEFAULT_LABELLED if has_labels else DEFAULT_UNLABELLED


def label_free_threshold(name: str, args: list[float], train_errors: np.ndarray) -> tuple[float, str]:
    e = np.asarray(train_errors, dtype=np.float64)
    if name == "mean_std":
        k = args[0]
        return float(e.mean() + k * e.std()), f"mean + {k:g}·std of {len(e):,} training scores"
    if name == "percentile":
        q = args[0]
        if not 0 < q <= 100:
            raise DataError(f"A percentile must be in (0, 100], got {q:g}.")
        return float(np.percentile(e, q)), f"{q:g}th percentile of {len(e):,} training scores"
    if name == "max_train":
        return float(e.max()), f"largest of {len(e):,} training scores"
    if name == "contamination":
        c = args[0]
        if not 0 < c < 0.5:
            raise DataError(f"The contamination share must be between 0 and 0.5, got {c:g}.")
        return float(np.percentile(e, 100 * (1 - c))), f"flags {c:.1%} of the training rows (expected contamination)"
    if name == "gesd":
        alpha = args[0]
        if not 0 < alpha < 1:
            raise DataError(f"The GESD significance level must be between 0 and 1, got {alpha:g}.")
        value, n_out = gesd_threshold(e, alpha)
        return value, f"generalized ESD test at α = {alpha:g}: {n_out} of {len(e):,} scores are outliers"
    if name == "mad":
        k = args[0]
        median = float(np.median(e))
        spread = 1.4826 * float(np.median(np.abs(e - median)))
        return median + k * spread, f"median + {k:g} robust std (1.4826 · MAD) of {len(e):,} scores"
    if name == "iqr":
        k = args[0]
        q1, q3 = np.percentile(e, [25, 75])
        return float(q3 + k * (q3 - q1)), f"upper quartile + {k:g} · IQR of {len(e):,} scores"
    raise AssertionError(name)


def cost_per_1000(curve: ThresholdCurve, cost_fp: float, cost_fn: float, prevalence: Optional[float] = None):
    """(thresholds, expected cost per 1,000 rows) at every cut; prevalence defaults to the data's."""
    c = curve.cuts()
    pi = curve.n_pos / curve.n if prevalence is None else prevalence
    fpr = c["fp"] / max(curve.n_neg, 1)
    fnr = c["fn"] / max(curve.n_pos, 1)
    return c["threshold"], 1000 * (cost_fp * fpr * (1 - pi) + cost_fn * fnr * pi)


#: Label rules that maximise a metric average it over this many neighbouring cuts
#: (fewer on small validation sets: one cut in a hundred). A lone spike of the
#: validation curve is a few rows' luck; a broad plateau carries over to new rows.
#: Measured on five public datasets: the test-F1 gap to the best possible F1 fell
#: from 0.075 to 0.022 on satimage-2 (14 validation anomalies) and stayed level elsewhere.
SMOOTH_CUTS = 11


def smoothed(values: np.ndarray) -> np.ndarray:
    """Moving average over neighbouring cuts, exact at the edges."""
    window = min(SMOOTH_CUTS, max(1, len(values) // 100))
    window += 1 - window % 2
    if window == 1:
        return values
    kernel = np.ones(window)
    return np.convolve(values, kernel, mode="same") / np.convolve(np.ones(len(values)), kernel, mode="same")


def label_threshold(name: str, args: list[float], curve: ThresholdCurve) -> tuple[float, str]:
    if curve.n_pos == 0 or curve.n_neg == 0:
        raise DataError("This rule needs validation rows of both classes (normal and anomaly); use a label-free rule instead.")
    c = curve.cuts()
    m = metrics_from_counts(c["tp"], c["fp"], c["tn"], c["fn"])
    t = c["threshold"]
    where = f"on {curve.n} validation rows"
    if name == "max_f1":
        i = int(np.argmax(smoothed(m["f1"])))
        return float(t[i]), f"best F1 ({m['f1'][i]:.3f}) {where}"
    if name == "fbeta":
        beta = args[0]
        p, r = m["precision"], m["recall"]
        den = beta**2 * p + r
        f = np.where(den > 0, (1 + beta**2) * p * r / np.where(den > 0, den, 1), 0.0)
        i = int(np.argmax(smoothed(f)))
        return float(t[i]), f"best F{beta:g} ({f[i]:.3f}) {where}"
    if name == "youden":
        j = m["recall"] + m["specificity"] - 1
        i = int(np.argmax(smoothed(j)))
        return float(t[i]), f"best Youden's J ({j[i]:.3f}) {where}"
    if name == "cost":
        cost_fp, cost_fn, *rest = args + [1.0, 10.0][len(args):]
        thresholds, cost = cost_per_1000(curve, cost_fp, cost_fn, rest[0] if rest else None)
        i = int(np.argmin(cost))
        return float(thresholds[i]), f"lowest expected cost ({cost[i]:.1f} per 1,000 rows; false alarm {cost_fp:g}, miss {cost_fn:g}) {where}"
    if name == "recall":
        target = args[0]
        ok = np.flatnonzero(m["recall"] >= target)
        i = int(ok.max())  # cuts run from flag-all upwards, so the last one that qualifies is the highest
        return float(t[i]), f"highest threshold with recall ≥ {target:g} (recall {m['recall'][i]:.3f}) {where}"
    if name == "precision":
        target = args[0]
        ok = np.flatnonzero((m["precision"] >= target) & (c["tp"] > 0))
        if len(ok) == 0:
            raise DataError(f"No threshold reaches precision {target:g} on the validation rows; lower the target.")
        i = int(ok.min())
        return float(t[i]), f"lowest threshold with precision ≥ {target:g} (precision {m['precision'][i]:.3f}) {where}"
    raise AssertionError(name)


def choose_threshold(
    rule: str,
    train_errors: np.ndarray,
    val_scores: Optional[np.ndarray] = None,
    val_y: Optional[np.ndarray] = None,
) -> Threshold:
    """Apply a rule spec; label-using rules need validation scores and labels.

    The outlier tests (``ON_JUDGED_ROWS``) use ``val_scores`` when given: pass the
    scores of the rows being judged there (validation rows, or a scored batch).
    """
    has_labels = val_y is not None and val_scores is not None and len(np.unique(val_y)) == 2
    spec = resolve_auto(rule, has_labels)
    name, args = _parse(spec)
    if RULES[name][2]:
        if not has_labels:
            raise DataError(
                f"The rule '{name}' needs labelled validation rows with both classes. "
                "Choose a label column, or a label-free rule such as 'percentile:99'."
            )
        value, reason = label_threshold(name, args, ThresholdCurve(val_scores, val_y))
    elif name in ON_JUDGED_ROWS and val_scores is not None and len(val_scores) >= 3:
        value, reason = label_free_threshold(name, args, val_scores)
        return Threshold(value=value, rule=spec, reason=reason.replace(" scores", " validation scores", 1), set_on="val")
    else:
        value, reason = label_free_threshold(name, args, train_errors)
        if name in ON_JUDGED_ROWS:
            reason = reason.replace(" scores", " training scores", 1)
    return Threshold(value=value, rule=spec, reason=reason)
