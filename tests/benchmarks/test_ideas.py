"""Ideas for the default autoencoder, measured beside it on the same splits.

Run: ``python -m tests.benchmarks.test_ideas [datasets...] [--seeds N] [--first-seed S] [--more | --next | --tails | --tail | --parts | --ensemble K | --set name=json]``. Develop on four
sets and keep two aside (cardio, ctg), reported separately. For each fit it records test
ROC-AUC with the score parts ``score="auto"`` chose and with all three parts (so the part
choice is judged without refitting), the validation anomalies the choice had, epochs and fit time.
``--parts`` compares three ways of choosing the score parts on the same fitted networks: ``auto``
(best validation average precision), all three parts, and a guarded choice that leaves all three
only when a subset beats them in at least 95 % of 200 bootstrap resamples of the validation rows.
``--ensemble K`` averages K default detectors (seeds; each chooses its own score parts) after scaling
each one's scores to average 1 on its normal training rows, against the first alone. ``--next`` measures the ideas of
2026-11-24 (``NEXT_VARIANTS`` refitted, ``NEXT_STATISTICS`` on the default network); ``--tails`` other
reconstruction parts on the default network (``RECONSTRUCTION_PARTS``).
"""

from __future__ import annotations

import sys
import time

import numpy as np

from core.metrics import ThresholdCurve
from core.pipeline import prepare
from core.registry import fit_on_split
from core.losses import elementwise_loss
from core.score_stats import NETWORK_PARTS, PART_SUBSETS

#: The choices measured before the tails part existed (these post-hoc measurements compute the network's parts only).
NETWORK_SUBSETS = tuple(s for s in PART_SUBSETS if set(s) <= set(NETWORK_PARTS))
from tests.benchmarks.datasets import available, load

HELD_OUT = ("cardio", "ctg")
VARIANTS = {"default": {}, "min_delta 1%": {"min_delta": 0.01}, "min_delta 0.1%": {"min_delta": 0.001}}
#: Every other setting measured for issue 14 (``--more``): none was kept (see the README's quality section).
MORE_VARIANTS = {"default": {}, "epochs 300": {"epochs": 300}, "learning rate 3e-3": {"learning_rate": 3e-3}, "code 2": {"code_size": 2},
                 "code 3": {"code_size": 3}, "hidden 32-16": {"hidden_sizes": [32, 16]}, "quantile scaler": {"scaler": "quantile"}}

#: Ideas measured on 2026-11-24 (``--next``): scalers for skewed columns, weight decay, a cosine learning rate.
NEXT_VARIANTS = {"default": {}, "power scaler": {"scaler": "power"}, "yeo-johnson scaler": {"scaler": "yeo-johnson"},
                 "weight decay 1e-3": {"weight_decay": 1e-3}, "weight decay 1e-2": {"weight_decay": 1e-2},
                 "cosine learning rate": {"lr_schedule": "cosine"}}
#: Score statistics changed after the default fit (``--next``; no refit): (label, code neighbours, robust column scale).
NEXT_STATISTICS = (("refit statistics (check)", 5, False), ("median column error scale", 5, True),
                   ("10 code neighbours", 10, False), ("1 code neighbour", 1, False))
#: ``--clip``: the default network, its reconstruction held inside the normal training range of each column (no refit).
CLIP_STATISTICS = (("refit statistics (check)", 5, False, False), ("reconstruction clipped to the training range", 5, False, True))
MIN_CHOICE_ANOMALIES = 30
#: The tail-surprise reconstruction part as built into the detector (``--tail``; compare with ``--next``'s default rows).
TAIL_VARIANTS = {'reconstruction_part="tail"': {"reconstruction_part": "tail"}}


def cells_and_codes(det, rows, clip: tuple | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A fitted autoencoder's cell errors and codes for ``rows`` (the inputs of its score statistics);
    ``clip``: (low, high) per column, the reconstruction held inside it first."""
    x = det.transform_features(rows)
    recon, codes = det._network_outputs(x)
    if clip is not None:
        recon = np.clip(recon, *clip)
    return elementwise_loss(det.loss, x, recon), codes


def refit_statistics(det, prepared, neighbours: int, robust: bool, clip: bool = False) -> float:
    """Test ROC-AUC of a fitted detector after refitting its score statistics another way, parts chosen as ``score="auto"`` does.
    ``clip``: every reconstruction held inside the normal training rows' range of its column (a network may not rebuild
    a value no normal row had by extrapolating)."""
    from core import score_stats

    bounds = None
    if clip:
        x = det.transform_features(prepared.rows("train"))[np.asarray(prepared.labels("train")) == 0]
        bounds = (x.min(axis=0), x.max(axis=0))

    def outputs(split):
        return (*cells_and_codes(det, prepared.rows(split), bounds), np.asarray(prepared.labels(split)))

    kept = score_stats.CODE_NEIGHBOURS
    score_stats.CODE_NEIGHBOURS = neighbours
    try:
        cells, codes, y = outputs("train")
        stats, _ = score_stats.ScoreStats.fit(cells[y == 0], codes[y == 0], seed=int(det.random_state))
        if robust:
            stats.cell_error_scale = np.maximum(np.median(cells[y == 0], axis=0), 1e-12)
            stats.cell_error_scale = stats.cell_error_scale * (cells[y == 0] / stats.cell_error_scale).mean()
        stats.select(*outputs("val"))
        cells, codes, y = outputs("test")
        return ThresholdCurve(stats.combine(cells, codes), y).roc_auc
    finally:
        score_stats.CODE_NEIGHBOURS = kept



def _column_tail(train: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Mean over columns of −log of each cell error's survival among the normal training errors of its column,
    extended beyond the largest training error linearly (an exponential tail through the 99th percentile and the maximum)."""
    n = len(train)
    out = np.zeros(len(cells))
    for j in range(train.shape[1]):
        ref = np.sort(train[:, j])
        above = n - np.searchsorted(ref, cells[:, j], side="left")
        surprise = -np.log((above + 1) / (n + 1))
        q99, top = np.quantile(ref, 0.99), ref[-1]
        slope = (np.log(n + 1) - np.log(100)) / max(top - q99, 1e-12)
        out += np.where(cells[:, j] > top, np.log(n + 1) + slope * (cells[:, j] - top), surprise)
    return out / train.shape[1]


#: Other ways to turn a row's cell errors into the reconstruction part (``--tails``; on the default network, no refit).
RECONSTRUCTION_PARTS = {
    "mean scaled cell error (default, check)": lambda train, cells, scale: (cells / scale).mean(axis=1),
    "largest scaled cell error": lambda train, cells, scale: (cells / scale).max(axis=1),
    "cell errors' tail surprise (ECOD on errors)": lambda train, cells, scale: _column_tail(train, cells),
}


def measure_reconstruction_parts(name: str, seeds) -> dict[str, list[float]]:
    """Test ROC-AUC of the default network with its reconstruction part made each way, parts chosen by validation AP."""
    table_, label, normal, features = load(name)
    out: dict[str, list[float]] = {}
    for seed in seeds:
        prepared = prepare(table_, label, normal, features, seed=seed)
        det = fit_on_split(prepared, "ae:dense", {})
        out.setdefault("default", []).append(ThresholdCurve(det.decision_function(prepared.rows("test")), prepared.labels("test")).roc_auc)
        stats = det.score_stats_
        split = {}
        for part in ("train", "val", "test"):
            split[part] = (*cells_and_codes(det, prepared.rows(part)), np.asarray(prepared.labels(part)))
        train_cells = split["train"][0][split["train"][2] == 0]
        for label_, make in RECONSTRUCTION_PARTS.items():
            scale = make(train_cells, train_cells, stats.cell_error_scale).mean() or 1.0

            def parts(part):
                cells, codes, _ = split[part]
                scaled = stats.scaled_parts(cells, codes, ("latent", "neighbours"))
                scaled["reconstruction"] = make(train_cells, cells, stats.cell_error_scale) / scale
                return scaled

            val, test = parts("val"), parts("test")
            y_val = split["val"][2]
            subset = max(NETWORK_SUBSETS, key=lambda ps: (_ap(sum(val[p] for p in ps), y_val), len(ps)))
            out.setdefault(label_, []).append(ThresholdCurve(sum(test[p] for p in subset), split["test"][2]).roc_auc)
            out.setdefault(label_ + ", all parts", []).append(ThresholdCurve(sum(test.values()), split["test"][2]).roc_auc)
        print(f"  {name} seed {seed}: " + ", ".join(f"{k} {v[-1]:.4f}" for k, v in out.items()), file=sys.stderr, flush=True)
    return out


def _ap(scores: np.ndarray, y: np.ndarray) -> float:
    return float(ThresholdCurve(scores, y).average_precision)


def measure(name: str, seeds, variants=VARIANTS, statistics=()) -> dict[str, dict[str, list[float]]]:
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
            det.score_stats_.parts = det.score_stats_.available_parts
            every = ThresholdCurve(det.decision_function(X_te), y_te).roc_auc
            det.score_stats_.parts = kept
            r = out.setdefault(label_, {})
            for k, v in (("auc", chosen), ("auc_all_parts", every), ("epochs", det.epochs_run_), ("fit_s", seconds),
                         ("val_anomalies", n_val_anomalies), ("kept_all", float(tuple(kept) == det.score_stats_.available_parts))):
                r.setdefault(k, []).append(float(v))
            print(f"  {name} seed {seed} {label_}: AUC {chosen:.4f} (all parts {every:.4f}) epochs {det.epochs_run_} {seconds:.1f}s",
                  file=sys.stderr, flush=True)
            if label_ != "default" or not statistics:
                continue
            guarded = chosen if n_val_anomalies >= MIN_CHOICE_ANOMALIES else every
            extra = {f"parts chosen only with ≥ {MIN_CHOICE_ANOMALIES} validation anomalies": guarded}
            extra.update({s_label: refit_statistics(det, prepared, k, robust, *clip) for s_label, k, robust, *clip in statistics})
            for s_label, auc in extra.items():
                r = out.setdefault(s_label, {})
                for k, v in (("auc", auc), ("auc_all_parts", np.nan), ("epochs", det.epochs_run_), ("fit_s", seconds),
                             ("val_anomalies", n_val_anomalies), ("kept_all", np.nan)):
                    r.setdefault(k, []).append(float(v))
                print(f"  {name} seed {seed} {s_label}: AUC {auc:.4f}", file=sys.stderr, flush=True)
    return out


def table(results: dict[str, dict[str, dict[str, list[float]]]]) -> str:
    lines = ["| dataset | variant | ROC-AUC (auto parts) | ROC-AUC (all parts) | epochs | fit s | val anomalies |", "|---|---|---|---|---|---|---|"]
    for dataset, per in results.items():
        for variant, r in per.items():
            ms = lambda k: f"{np.mean(r[k]):.4f} ± {np.std(r[k]):.4f}"  # noqa: E731
            lines.append(f"| {dataset}{' (held out)' if dataset in HELD_OUT else ''} | {variant} | {ms('auc')} | {ms('auc_all_parts')} | "
                         f"{np.mean(r['epochs']):.0f} | {np.mean(r['fit_s']):.1f} | {np.mean(r['val_anomalies']):.0f} |")
    return "\n".join(lines)


def _average_precision(scores: np.ndarray, y: np.ndarray) -> float:
    order = np.argsort(-scores, kind="stable")
    hits = y[order]
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float((precision * hits).sum() / max(hits.sum(), 1))


def guarded_parts(parts: dict[str, np.ndarray], y: np.ndarray, seed: int, resamples: int = 200, level: float = 0.95) -> tuple[str, ...]:
    """All parts, unless a subset beats them on at least ``level`` of bootstrap resamples of the validation rows."""
    rng = np.random.default_rng(seed)
    draws = [rng.integers(0, len(y), len(y)) for _ in range(resamples)]
    every = sum(parts.values())
    base = np.array([_average_precision(every[i], y[i]) for i in draws])
    best, best_gain = NETWORK_PARTS, 0.0
    for subset in NETWORK_SUBSETS[1:]:
        scores = sum(parts[p] for p in subset)
        gain = np.array([_average_precision(scores[i], y[i]) for i in draws]) - base
        if (gain > 0).mean() >= level and gain.mean() > best_gain:
            best, best_gain = subset, float(gain.mean())
    return best


def measure_part_choices(name: str, seeds) -> dict[str, list[float]]:
    """Test ROC-AUC of the default network's score with the parts chosen three ways (one fit per seed)."""
    table, label, normal, features = load(name)
    out: dict[str, list[float]] = {}
    for seed in seeds:
        prepared = prepare(table, label, normal, features, seed=seed)
        det = fit_on_split(prepared, "ae:dense", {})

        def parts(rows):
            return det.score_stats_.scaled_parts(*cells_and_codes(det, rows), NETWORK_PARTS)

        val, test = parts(prepared.rows("val")), parts(prepared.rows("test"))
        y_test = np.asarray(prepared.labels("test"))
        guarded = guarded_parts(val, np.asarray(prepared.labels("val")), seed)
        for choice, subset in (("auto", det.score_parts_), ("all parts", NETWORK_PARTS), ("guarded", guarded)):
            out.setdefault(choice, []).append(ThresholdCurve(sum(test[p] for p in subset), y_test).roc_auc)
        print(f"  {name} seed {seed}: auto {det.score_parts_} guarded {guarded}", file=sys.stderr, flush=True)
    return out


def measure_ensemble(name: str, seeds, k: int) -> dict[str, list[float]]:
    """Test ROC-AUC of the default network against the mean of 2 … ``k`` default networks (seeds s, s+1000, …), and the
    ensemble's fit seconds. Each member is the default detector (its own ``score="auto"`` part choice on the validation
    rows); its scores are divided by their mean on its normal training rows before they are averaged."""
    table, label, normal, features = load(name)
    out: dict[str, list[float]] = {}
    for seed in seeds:
        prepared = prepare(table, label, normal, features, seed=seed)
        X_te, y_te = prepared.rows("test"), prepared.labels("test")
        scores, t0 = [], time.perf_counter()
        for member in range(k):
            det = fit_on_split(prepared, "ae:dense", {"random_state": seed + 1000 * member})
            scores.append(det.decision_function(X_te) / det.decision_scores_.mean())
        out.setdefault("one network", []).append(ThresholdCurve(scores[0], y_te).roc_auc)
        for size in range(2, k + 1):
            out.setdefault(f"mean of {size}", []).append(ThresholdCurve(np.mean(scores[:size], axis=0), y_te).roc_auc)
        out.setdefault("fit s", []).append(time.perf_counter() - t0)
        print(f"  {name} seed {seed}: " + ", ".join(f"{key} {v[-1]:.4f}" for key, v in out.items()), file=sys.stderr, flush=True)
    return out


def summary(name: str, results: dict[str, list[float]]) -> str:
    return f"| {name}{' (held out)' if name in HELD_OUT else ''} | " + " | ".join(f"{np.mean(v):.4f} ± {np.std(v):.4f}" for v in results.values()) + " |"


if __name__ == "__main__":
    args = sys.argv[1:]
    n_seeds = int(args[args.index("--seeds") + 1]) if "--seeds" in args else 5
    first = int(args[args.index("--first-seed") + 1]) if "--first-seed" in args else 0
    skip = {args[args.index(o) + 1] for o in ("--set", "--seeds", "--first-seed", "--ensemble") if o in args}
    names = [a for a in args if not a.startswith("--") and not a.isdigit() and a not in skip] or [n for n in available() if n not in HELD_OUT]
    if "--parts" in args or "--ensemble" in args or "--tails" in args:
        k = int(args[args.index("--ensemble") + 1]) if "--ensemble" in args else 0
        for i, n in enumerate(names):
            if "--tails" in args:
                results = measure_reconstruction_parts(n, range(first, first + n_seeds))
            else:
                results = measure_part_choices(n, range(first, first + n_seeds)) if k == 0 else measure_ensemble(n, range(first, first + n_seeds), k)
            if i == 0:
                print("| dataset | " + " | ".join(results) + " |")
            print(summary(n, results), flush=True)
        sys.exit(0)
    collected = {}
    for n in names:
        if "--tail" in args:
            collected[n] = measure(n, range(first, first + n_seeds), TAIL_VARIANTS)
        elif "--set" in args:  # --set name=json_value: one setting against the default, e.g. --set activation='"tanh"'
            import json

            name_, value = args[args.index("--set") + 1].split("=", 1)
            collected[n] = measure(n, range(first, first + n_seeds), {"default": {}, f"{name_}={value}": {name_: json.loads(value)}})
        elif "--clip" in args:
            collected[n] = measure(n, range(first, first + n_seeds), {"default": {}}, CLIP_STATISTICS)
        elif "--next" in args:
            collected[n] = measure(n, range(first, first + n_seeds), NEXT_VARIANTS, NEXT_STATISTICS)
        else:
            collected[n] = measure(n, range(first, first + n_seeds), MORE_VARIANTS if "--more" in args else VARIANTS)
        print(table({n: collected[n]}), flush=True)
    print("\n" + table(collected))
