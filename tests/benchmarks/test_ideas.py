"""Ideas for the default autoencoder, measured beside it on the same splits.

Run: ``python -m tests.benchmarks.test_ideas [datasets...] [--seeds N]``. Develop on four
sets and keep two aside (cardio, ctg), reported separately. For each fit it records test
ROC-AUC with the score parts ``score="auto"`` chose and with all three parts (so the part
choice is judged without refitting), the validation anomalies the choice had, epochs and fit time.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from core.metrics import ThresholdCurve
from core.pipeline import prepare
from core.registry import fit_on_split
from core.score_stats import SCORE_PARTS
from tests.benchmarks.datasets import available, load

HELD_OUT = ("cardio", "ctg")
VARIANTS = {"default": {}, "min_delta 1%": {"min_delta": 0.01}, "min_delta 0.1%": {"min_delta": 0.001}}


def measure(name: str, seeds, variants=VARIANTS) -> dict[str, dict[str, list[float]]]:
    table, label, normal, features = load(name)
    out: dict[str, dict[str, list[float]]] = {}
    for seed in seeds:
        prepared = prepare(table, label, normal, features, seed=seed)
        X_te, y_te = prepared.rows("test"), prepared.labels("test")
        n_val_anomalies = int(prepared.labels("val").sum())
        for label_, params in variants.items():
            t0 = time.perf_counter()
            det = fit_on_split(prepared, "ae:dense", params)
            seconds = time.perf_counter() - t0
            chosen = ThresholdCurve(det.decision_function(X_te), y_te).roc_auc
            kept = det.score_stats_.parts
            det.score_stats_.parts = SCORE_PARTS
            every = ThresholdCurve(det.decision_function(X_te), y_te).roc_auc
            det.score_stats_.parts = kept
            r = out.setdefault(label_, {})
            for k, v in (("auc", chosen), ("auc_all_parts", every), ("epochs", det.epochs_run_), ("fit_s", seconds),
                         ("val_anomalies", n_val_anomalies), ("kept_all", float(tuple(kept) == SCORE_PARTS))):
                r.setdefault(k, []).append(float(v))
            print(f"  {name} seed {seed} {label_}: AUC {chosen:.4f} (all parts {every:.4f}) epochs {det.epochs_run_} {seconds:.1f}s",
                  file=sys.stderr, flush=True)
    return out


def table(results: dict[str, dict[str, dict[str, list[float]]]]) -> str:
    lines = ["| dataset | variant | ROC-AUC (auto parts) | ROC-AUC (all parts) | epochs | fit s | val anomalies |", "|---|---|---|---|---|---|---|"]
    for dataset, per in results.items():
        for variant, r in per.items():
            ms = lambda k: f"{np.mean(r[k]):.4f} ± {np.std(r[k]):.4f}"  # noqa: E731
            lines.append(f"| {dataset}{' (held out)' if dataset in HELD_OUT else ''} | {variant} | {ms('auc')} | {ms('auc_all_parts')} | "
                         f"{np.mean(r['epochs']):.0f} | {np.mean(r['fit_s']):.1f} | {np.mean(r['val_anomalies']):.0f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    args = sys.argv[1:]
    n_seeds = int(args[args.index("--seeds") + 1]) if "--seeds" in args else 5
    names = [a for a in args if not a.startswith("--") and not a.isdigit()] or [n for n in available() if n not in HELD_OUT]
    collected = {}
    for n in names:
        collected[n] = measure(n, range(n_seeds))
        print(table({n: collected[n]}), flush=True)
    print("\n" + table(collected))
