"""What the Threshold page and the report show, computed from precomputed scores
(never from the model): the slider's grid, rules, costs, intervals, the review
band and the honest validation-against-test comparison."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np
import pandas as pd

from core.metrics import Confusion, ReviewBand, ThresholdCurve, review_band
from core.pipeline import PartScores
from core.thresholds import Threshold, choose_threshold, cost_per_1000, rule_words, set_on_rows
from core.uncertainty import Bootstrap, Interval

SLIDER_STEPS = 1000
#: Rules offered as one-click jumps on the Threshold page.
JUMP_RULES = {
    "max_f1": "Max F1 on validation rows",
    "youden": "Youden's J on validation rows",
    "percentile:95": "95th percentile of the training scores",
    "percentile:99": "99th percentile of the training scores",
    "mean_std:1": "Mean + 1·std of the training scores",
    "mean_std:2": "Mean + 2·std of the training scores",
    "max_train": "Largest training score",
    "gesd:0.05": "Outliers among the validation scores (generalized ESD test, α = 0.05)",
    "mad:3": "Median + 3 robust std of the validation scores (MAD)",
    "iqr:1.5": "Upper quartile + 1.5·IQR of the validation scores (Tukey)",
}


def jump_rules(labelled: bool) -> dict[str, str]:
    """The rules a user can jump to: without labels, only those that need none (no F1 or J to maximise)."""
    return {k: v for k, v in JUMP_RULES.items() if labelled or k.split(":")[0] not in LABEL_RULES}


METRIC_LABELS = {
    "precision": "Precision", "recall": "Recall", "f1": "F1", "accuracy": "Accuracy",
    "specificity": "Specificity", "balanced_accuracy": "Balanced accuracy", "mcc": "MCC",
}
#: The metrics a table gives, the false-alarm rate beside the seven.
TABLE_METRIC_LABELS = {**METRIC_LABELS, "fpr": "False-alarm rate"}
PART_NAMES = {"val": "validation rows", "test": "test rows", "train": "training rows"}
LABEL_RULES = ("max_f1", "fbeta", "youden", "cost", "recall", "precision")


def slider_grid(parts: dict[str, PartScores], steps: int = SLIDER_STEPS) -> np.ndarray:
    """Threshold values for the slider: quantiles of every score, so steps are dense
    where rows are dense and a skewed score is not squeezed into two ticks."""
    everything = np.concatenate([p.scores for p in parts.values()])
    grid = np.quantile(everything, np.linspace(0.0, 1.0, steps + 1))
    return np.unique(np.round(grid, 12))


def nearest(grid: np.ndarray, value: float) -> float:
    i = int(np.clip(np.searchsorted(grid, value), 1, len(grid) - 1))
    return float(grid[i] if abs(grid[i] - value) < abs(grid[i - 1] - value) else grid[i - 1])


def apply_rule(detector, parts: dict[str, PartScores], rule: str) -> Threshold:
    """A rule's threshold: label-free rules on normal training scores, label rules on validation rows."""
    val = parts.get("val")
    return choose_threshold(rule, detector.decision_scores_, None if val is None else val.scores, None if val is None else val.y)


def metric_table(conf: Confusion, reference: Optional[Confusion], intervals: dict[str, Interval]) -> pd.DataFrame:
    """One row per metric at a threshold: its value, its bootstrap interval where there is one, and its change from
    the reference (default) threshold. The Threshold page shows the values once in its live control; this table
    says how far each could move on another sample and what the move away from the default cost or gained."""
    now = conf.metrics()
    ref = reference.metrics() if reference is not None else None
    rows = []
    for key, label in TABLE_METRIC_LABELS.items():
        interval = intervals.get(key)
        change = None if ref is None else now[key] - ref[key]
        rows.append({"metric": label, "value": f"{now[key]:.3f}",
                     "95 % interval": f"{interval.low:.3f} – {interval.high:.3f}" if interval is not None else "–",
                     "change from the default threshold": "–" if change is None else ("0" if abs(change) < 5e-4 else f"{change:+.3f}")})
    return pd.DataFrame(rows).set_index("metric")


@dataclass(frozen=True)
class Costs:
    false_alarm: float
    miss: float
    prevalence: Optional[float] = None  # expected share of anomalies in production; None = the data's

    def describe(self) -> str:
        share = "the data's" if self.prevalence is None else f"{self.prevalence:.2%}"
        return f"false alarm {self.false_alarm:g}, missed anomaly {self.miss:g}, anomaly share {share}"

    def per_1000(self, conf: Confusion) -> float:
        """Expected cost per 1,000 rows of these confusion counts: :func:`cost_per_1000`'s formula at one threshold."""
        if self.prevalence is None:  # the data's share: the same sum, without the rounding of dividing and multiplying back
            return 1000 * (self.false_alarm * conf.fp + self.miss * conf.fn) / max(conf.n, 1)
        n_neg, n_pos = conf.tn + conf.fp, conf.tp + conf.fn
        return 1000 * (self.false_alarm * conf.fp / max(n_neg, 1) * (1 - self.prevalence) + self.miss * conf.fn / max(n_pos, 1) * self.prevalence)


@dataclass
class CostView:
    """The cost curve of one part and costs (drawn between scores, at the cuts) and the cost at the threshold in use."""

    thresholds: np.ndarray
    cost: np.ndarray
    best: Threshold
    current_cost: float
    curve: ThresholdCurve
    costs: Costs

    def at(self, threshold: float) -> "CostView":
        """The same curve with the current cost at ``threshold``, from the exact confusion counts there
        (a threshold on a score flags differently from the cut just below it: the curve is per model and
        costs, the counts a binary search)."""
        return CostView(self.thresholds, self.cost, self.best, self.costs.per_1000(self.curve.at(threshold)), self.curve, self.costs)


def cost_view(parts: dict[str, PartScores], costs: Costs, threshold: float, part: str = "val") -> CostView:
    """The cost curve on ``part`` (validation rows, where thresholds are chosen) and its minimum."""
    curve = parts[part].curve
    thresholds, cost = cost_per_1000(curve, costs.false_alarm, costs.miss, costs.prevalence)
    i = int(np.argmin(cost))
    best = Threshold(float(thresholds[i]), f"cost:{costs.false_alarm:g}:{costs.miss:g}" + (f":{costs.prevalence:g}" if costs.prevalence is not None else ""),
                     f"lowest expected cost ({cost[i]:.1f} per 1,000 rows; {costs.describe()}) on {curve.n:,} {PART_NAMES.get(part, part)}")
    return CostView(thresholds, cost, best, float("nan"), curve, costs).at(threshold)


@dataclass
class HonestComparison:
    """The same threshold on validation and test rows, and what to say about it."""

    validation: dict[str, float]
    test: dict[str, float]
    sentence: str
    tuned_on_shown: bool


def honest_comparison(parts: dict[str, PartScores], threshold: Threshold, shown_part: str) -> HonestComparison:
    """The same threshold on validation and test rows, and a sentence on which of them can be trusted.

    A threshold set by hand names the rows it was set on (``threshold.set_on``), not the rows on
    screen now; whether those rows flatter it is said from the numbers, not assumed.
    """
    metrics = {"val": parts["val"].curve.at(threshold.value).metrics(), "test": parts["test"].curve.at(threshold.value).metrics()}
    val, test = metrics["val"], metrics["test"]
    rule_name = threshold.rule.split(":")[0]
    by_hand = rule_name == "manual"
    drop = val["f1"] - test["f1"]
    change = f"F1 is {test['f1']:.3f} on test rows against {val['f1']:.3f} on validation rows"
    if rule_name in LABEL_RULES:
        sentence = (f"The threshold was chosen on validation rows ({rule_words(threshold.rule)}); test rows played no part in choosing it. "
                    f"{change}{' — expect the test figure on new data' if drop > 0.005 else ''}.")
    elif set_on_rows(threshold.rule) and threshold.set_on in metrics:
        tuned, other = threshold.set_on, "test" if threshold.set_on == "val" else "val"
        gap = round(metrics[tuned]["f1"], 3) - round(metrics[other]["f1"], 3)  # as the sentence shows them
        verdict = (f"here they do, by {gap:.3f}" if gap > 0.005 else "here they do not")
        how = (f"You set this threshold by hand while looking at the {PART_NAMES[tuned]}" if by_hand else
               f"This threshold was computed from the scores of the {PART_NAMES[tuned]} ({rule_words(threshold.rule)}; their labels were not used)")
        sentence = f"{how}: numbers on those rows can flatter it, and the {PART_NAMES[other]} are the honest estimate ({verdict}). {change}."
    elif by_hand:
        sentence = (f"This threshold was set by hand, on rows this model does not record: either part's numbers can flatter it. {change}.")
    else:
        sentence = f"The threshold comes from normal training rows alone ({rule_words(threshold.rule)}), so neither part tuned it. {change}."
    return HonestComparison(val, test, sentence, set_on_rows(threshold.rule) and threshold.set_on == shown_part)


@dataclass
class Evaluation:
    """Everything a report states about the chosen threshold, on one part."""

    part: str
    threshold: Threshold
    confusion: Confusion
    roc_auc: Optional[float]
    average_precision: Optional[float]
    intervals: Optional[dict[str, Interval]] = None
    costs: Optional[Costs] = None
    cost_at_threshold: Optional[float] = None
    band: Optional[ReviewBand] = None
    honest: Optional[HonestComparison] = None
    extra: dict = field(default_factory=dict)


def evaluate(parts: dict[str, PartScores], threshold: Threshold, part: str = "test", bootstrap: Optional[Bootstrap] = None,
             costs: Optional[Costs] = None, band_low: Optional[float] = None) -> Evaluation:
    shown = parts[part]
    labelled = shown.y is not None
    conf = shown.curve.at(threshold.value)
    ev = Evaluation(part, threshold, conf, shown.curve.roc_auc if labelled else None, shown.curve.average_precision if labelled else None)
    if labelled:
        ev.intervals = (bootstrap or Bootstrap(shown.curve)).intervals(threshold.value)
        if band_low is not None and band_low < threshold.value:
            ev.band = review_band(shown.curve, band_low, threshold.value)
        if parts.get("val") is not None and parts["val"].y is not None and parts.get("test") is not None and parts["test"].y is not None:
            ev.honest = honest_comparison(parts, threshold, part)
            if costs is not None:
                ev.costs = costs
                ev.cost_at_threshold = cost_view(parts, costs, threshold.value, part).current_cost
    return ev


@dataclass(frozen=True)
class LabelCheck:
    """The flags of a scored table against that table's own label column."""

    confusion: Optional[Confusion]  # None when the labelled rows are all of one kind (or none is labelled)
    sentence: str  # which rows were compared, and what can be measured on them


def check_against_label(frame: pd.DataFrame, label: str, normal: tuple, scores: np.ndarray, threshold: float,
                        classes: Optional[Sequence] = None) -> LabelCheck:
    """Compare the rows flagged at ``threshold`` with ``label`` (``normal``: the model's normal classes).

    A scored batch is not a training table: rows without a label are left out, not refused, and a batch of one
    kind (every row normal, or every row an anomaly) still says what can be measured on it, the false-alarm
    rate or the recall, instead of asking for a label choice the Score page does not offer. ``classes``: the
    classes of the table the model was trained on, when known; rows of another class count as anomalies (every
    class but the normal ones does), and the sentence says how many there are and how many were flagged, since
    the recall then measures them too.
    """
    from core.data import name_list
    from core.target import class_key

    cells = frame[label]
    known = cells.notna().to_numpy()
    n, left_out = int(known.sum()), int((~known).sum())
    if n == 0:
        return LabelCheck(None, f"Every cell of '{label}' is empty: there is nothing to compare the flags with.")
    normal_keys = {class_key(c) for c in normal}
    keys = cells[known].map(class_key)
    y = (~keys.isin(normal_keys)).to_numpy(np.int8)
    flagged = np.asarray(scores)[known] > threshold
    skipped = f" {left_out:,} row(s) with an empty '{label}' are left out." if left_out else ""
    if classes is not None:
        new = ~keys.isin({class_key(c) for c in classes}).to_numpy()
        if new.any():
            unseen = pd.unique(cells[known][new].astype(str))
            skipped += (f" {int(new.sum()):,} row(s) have a class the model's table did not have ({name_list(unseen, 5)}): they count as anomalies, "
                        f"as every class but the normal ones does, and {int(flagged[new].sum()):,} of them are flagged.")
    if y.min() == y.max():
        kind, measure = ("anomalies", "recall (the share of anomalies flagged)") if y[0] else ("normal", "false-alarm rate (the share of normal rows flagged)")
        rows = f"The one labelled row is {'an anomaly' if y[0] else 'normal'}" if n == 1 else f"All {n:,} labelled rows are {kind}"
        return LabelCheck(None, f"{rows}, so precision cannot be measured here, only the {measure}: "
                                f"{int(flagged.sum()):,} of {n:,} flagged, {flagged.mean():.3f}.{skipped}")
    return LabelCheck(ThresholdCurve(np.asarray(scores)[known], y).at(threshold), f"Compared on {n:,} labelled rows.{skipped}")
