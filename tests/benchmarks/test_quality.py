"""Quality on real data: the default detector against classical baselines.

Run: ``make bench`` (or ``python -m tests.benchmarks.test_quality [datasets...] [--all | --ensemble]``).
Prints mean ± std over 5 seeds of a stratified 60/20/20 split.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pytest

from core.metrics import ThresholdCurve
from core.pipeline import prepare, signal_problem
from core.registry import BASELINE_KEYS, DETECTORS, fit_on_split
from core.thresholds import choose_threshold
from tests.benchmarks.datasets import available, load

SEEDS = range(5)
#: The LSTM takes seconds an epoch on 2 CPU cores for 140-step rows; it is capped here.
LSTM_EPOCHS = 20


def run_dataset(name: str, seeds=SEEDS, architectures=("dense",), baselines=BASELINE_KEYS,
                variants: dict[str, dict] | None = None) -> dict[str, dict[str, list[float]]]:
    """Every detector on the same splits. ``variants`` maps a label to autoencoder parameters
    (for measuring an idea beside the default)."""
    table, label, normal, features = load(name)
    results: dict[str, dict[str, list[float]]] = {}
    for seed in seeds:
        prepared = prepare(table, label, normal, features, seed=seed)
        X_te, y_te = prepared.rows("test"), prepared.labels("test")
        n_normal = int((prepared.labels("train") == 0).sum())
        runs = [("autoencoder" if a == "dense" else f"AE {a}", f"ae:{a}", {"epochs": LSTM_EPOCHS} if a == "lstm" else {}) for a in architectures]
        runs += [(label_, "ae:dense", params) for label_, params in (variants or {}).items()]
        runs += [(DETECTORS[k].name, k, {}) for k in baselines if DETECTORS[k].why_not(n_normal, None) is None]
        for det_name, key, params in runs:
            t0 = time.perf_counter()
            det = fit_on_split(prepared, key, params)
            seconds = time.perf_counter() - t0
            scores = det.decision_function(X_te)
            curve = ThresholdCurve(scores, y_te)
            f1s = curve.metric_curves()["f1"]
            r = results.setdefault(det_name, {})
            r.setdefault("roc_auc", []).append(curve.roc_auc)
            r.setdefault("ap", []).append(curve.average_precision)
            r.setdefault("f1_default", []).append(curve.at(det.threshold_).metrics()["f1"])
            r.setdefault("f1_best", []).append(float(f1s.max()))
            r.setdefault("fit_s", []).append(seconds)
            if hasattr(det, "epochs_run_"):
                r.setdefault("epochs", []).append(det.epochs_run_)
            print(f"  {name} seed {seed} {det_name}: ROC-AUC {curve.roc_auc:.3f} ({seconds:.1f} s)", file=sys.stderr, flush=True)
            if det_name == "autoencoder":
                mean1 = choose_threshold("mean_std:1", det.decision_scores_)
                r.setdefault("acc_mean+1std", []).append(curve.at(mean1.value).metrics()["accuracy"])
    return results


def format_table(all_results: dict[str, dict[str, dict[str, list[float]]]]) -> str:
    lines = ["| dataset | detector | ROC-AUC | AP | F1 default thr. (test) | best F1 (test) | epochs | fit s |", "|---|---|---|---|---|---|---|---|"]
    for dataset, per_det in all_results.items():
        for det_name, r in per_det.items():
            def ms(key):
                v = r.get(key)
                return f"{np.mean(v):.3f} ± {np.std(v):.3f}" if v else "–"
            epochs = f"{np.mean(r['epochs']):.0f}" if "epochs" in r else "–"
            lines.append(f"| {dataset} | {det_name} | {ms('roc_auc')} | {ms('ap')} | {ms('f1_default')} | {ms('f1_best')} | {epochs} | {np.mean(r['fit_s']):.1f} |")
    return "\n".join(lines)


@pytest.mark.benchmark
@pytest.mark.parametrize("name", available() or ["(none)"])
def test_quality_against_baselines(name):
    if name == "(none)":
        pytest.skip("../shared/data is not here")
    results = run_dataset(name)
    print("\n" + format_table({name: results}))
    ae, iforest = results["autoencoder"], results["Isolation Forest"]
    print(f"{name}: AE ROC-AUC {np.mean(ae['roc_auc']):.3f} vs IF {np.mean(iforest['roc_auc']):.3f}; "
          f"F1 default {np.mean(ae['f1_default']):.3f} vs best {np.mean(ae['f1_best']):.3f}; "
          f"accuracy at mean+1std {np.mean(ae['acc_mean+1std']):.3f}")


def all_detectors(name: str, seeds=SEEDS):
    """Every architecture that applies (conv1d and lstm only where rows are signals) and every baseline."""
    table, label, normal, features = load(name)
    signal = signal_problem(prepare(table, label, normal, features, seed=0)) is None
    architectures = ("dense", "ensemble", "sparse", "denoising", "variational") + (("conv1d", "lstm") if signal else ())
    return run_dataset(name, seeds, architectures, BASELINE_KEYS)


def best_autoencoder_against_best_baseline(all_results) -> list[str]:
    """One line per dataset: the best autoencoder and the best baseline by mean ROC-AUC, and the margin."""
    lines, wins = [], 0
    for dataset, per_det in all_results.items():
        means = {name: float(np.mean(r["roc_auc"])) for name, r in per_det.items()}
        ae = max((n for n in means if n == "autoencoder" or n.startswith("AE ")), key=means.get)
        base = max((n for n in means if not (n == "autoencoder" or n.startswith("AE "))), key=means.get)
        margin = means[ae] - means[base]
        wins += margin > 0
        lines.append(f"{dataset}: best AE {ae} {means[ae]:.4f} vs best baseline {base} {means[base]:.4f}, margin {margin:+.4f}")
    lines.append(f"best autoencoder ahead on {wins} of {len(all_results)} datasets")
    return lines


if __name__ == "__main__":
    args = sys.argv[1:]
    every = "--all" in args
    names = [a for a in args if not a.startswith("--")] or available()
    collected = {}
    for n in names:  # --ensemble: the ensemble of three default networks beside the default and the baselines
        collected[n] = all_detectors(n) if every else run_dataset(n, architectures=("dense", "ensemble") if "--ensemble" in args else ("dense",))
        print(format_table({n: collected[n]}), flush=True)
    print("\n" + format_table(collected))
    for n, per in collected.items():
        ae, iforest = per["autoencoder"], per["Isolation Forest"]
        print(f"{n}: AE {np.mean(ae['roc_auc']):.3f} IF {np.mean(iforest['roc_auc']):.3f} "
              f"margin {np.mean(ae['roc_auc']) - np.mean(iforest['roc_auc']):+.3f}; F1 gap {np.mean(ae['f1_best']) - np.mean(ae['f1_default']):.3f}; "
              f"acc@mean+1std {np.mean(ae['acc_mean+1std']):.3f}")
    print("\n".join(best_autoencoder_against_best_baseline(collected)))
