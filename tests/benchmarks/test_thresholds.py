"""Label-free threshold rules on real data: test F1 against the best F1 any threshold reaches.

Run: ``python -m tests.benchmarks.test_thresholds [datasets...] [--seeds N] [--detector KEY]``.
The default autoencoder (or any registry detector) is fitted once per seed on a stratified
60/20/20 split; each rule's threshold comes from normal training scores, or, for the outlier
tests, from the rows being judged: the (unlabelled) validation rows, and the test rows
themselves as a scored batch ("@batch"). The default label-free rule (99th percentile)
should change only if another rule beats it on the worst case as well as on the mean.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

from core.metrics import ThresholdCurve
from core.pipeline import prepare
from core.registry import fit_on_split
from core.thresholds import choose_threshold
from tests.benchmarks.datasets import available, load

TRAIN_RULES = ("percentile:99", "percentile:95", "mean_std:2", "mean_std:1", "max_train", "gesd:0.05", "mad:3", "iqr:1.5")
JUDGED_RULES = ("gesd:0.05", "mad:3", "iqr:1.5")


def rule_f1s(name: str, seeds=range(3), key: str = "ae:dense") -> dict[str, list[float]]:
    table, label, normal, features = load(name)
    out: dict[str, list[float]] = {}
    for seed in seeds:
        prepared = prepare(table, label, normal, features, seed=seed)
        det = fit_on_split(prepared, key, {"threshold_rule": "percentile:99"})
        val = det.decision_function(prepared.rows("val"))
        test = det.decision_function(prepared.rows("test"))
        curve = ThresholdCurve(test, prepared.labels("test"))
        out.setdefault("best possible", []).append(float(curve.metric_curves()["f1"].max()))
        for rule in TRAIN_RULES:
            t = choose_threshold(rule, det.decision_scores_)
            out.setdefault(f"{rule} (train)", []).append(curve.at(t.value).metrics()["f1"])
        for rule in JUDGED_RULES:
            t = choose_threshold(rule, det.decision_scores_, val)
            out.setdefault(f"{rule} (validation rows)", []).append(curve.at(t.value).metrics()["f1"])
            t = choose_threshold(rule, det.decision_scores_, test)
            out.setdefault(f"{rule} (@batch: test rows)", []).append(curve.at(t.value).metrics()["f1"])
        print(f"  {name} seed {seed} done", file=sys.stderr, flush=True)
    return out


def summary(per_set: dict[str, dict[str, list[float]]]) -> str:
    rules = list(next(iter(per_set.values())))
    names = list(per_set)
    lines = ["| rule | " + " | ".join(names) + " | mean | worst |", "|---" * (len(names) + 3) + "|"]
    for rule in rules:
        means = [float(np.mean(per_set[n][rule])) for n in names]
        lines.append(f"| {rule} | " + " | ".join(f"{m:.3f}" for m in means) + f" | {np.mean(means):.3f} | {np.min(means):.3f} |")
    return "\n".join(lines)


@pytest.mark.benchmark
@pytest.mark.parametrize("name", available() or ["(none)"])
def test_label_free_rules(name):
    if name == "(none)":
        pytest.skip("../shared/data is not here")
    print("\n" + summary({name: rule_f1s(name)}))


if __name__ == "__main__":
    args = sys.argv[1:]
    n_seeds = int(args[args.index("--seeds") + 1]) if "--seeds" in args else 3
    key = args[args.index("--detector") + 1] if "--detector" in args else "ae:dense"
    skip = {args[i + 1] for i, a in enumerate(args) if a in ("--seeds", "--detector")}
    names = [a for a in args if not a.startswith("--") and a not in skip] or available()
    collected = {}
    for n in names:
        collected[n] = rule_f1s(n, range(n_seeds), key)
        print(summary({n: collected[n]}), flush=True)
    print("\n" + summary(collected))
