"""Several detectors on the same split, side by side, and a small random search.

Every candidate is fitted on the same normal training rows, thresholded by the
same rule on validation rows (max F1) and reported on test rows.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
import pandas as pd

from core.errors import DataError
from core.pipeline import PartScores, Prepared, score_all, signal_problem
from core.registry import DETECTORS, available, fit_on_split

Progress = Optional[Callable[[float, str], None]]


def candidates(prepared: Prepared) -> dict[str, tuple[str, str]]:
    """Candidate key → (name, one-line description), only those that apply to this data (from :mod:`core.registry`)."""
    specs = available(len(prepared.normal_rows("train")), signal_problem(prepared))
    return {key: (s.name, s.description) for key, s in specs.items()}


@dataclass
class Candidate:
    key: str
    name: str
    detector: object
    parts: dict[str, PartScores]
    fit_seconds: float
    score_seconds: float

    def row(self) -> dict:
        test = self.parts["test"]
        return {
            "detector": self.name,
            "ROC-AUC (test)": test.curve.roc_auc,
            "average precision (test)": test.curve.average_precision,
            "F1 at the validation threshold (test)": test.curve.at(self.detector.threshold_).metrics()["f1"],
            "fit s": self.fit_seconds,
            "scoring s": self.score_seconds,
        }


def fit_candidate(prepared: Prepared, key: str, epochs: Optional[int] = None, params: Optional[dict] = None) -> Candidate:
    """Fit the registry's detector ``key`` on the split, thresholded at max F1 on validation rows, and score every part."""
    t0 = time.perf_counter()
    settings = {"threshold_rule": "max_f1", **(params or {})}
    if epochs and DETECTORS[key].is_autoencoder:
        settings["epochs"] = epochs
    detector = fit_on_split(prepared, key, settings)
    name = DETECTORS[key].name
    fit_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    parts = score_all(detector, prepared)
    return Candidate(key, name, detector, parts, fit_seconds, time.perf_counter() - t0)


def compare(prepared: Prepared, keys: list[str], epochs: Optional[int] = None, progress: Progress = None) -> list[Candidate]:
    """Fit each candidate on the same split; raises DataError without labels."""
    if prepared.target.y is None:
        raise DataError("Comparing detectors needs a label column: choose one on the Data page.")
    results = []
    for i, key in enumerate(keys):
        if progress:
            progress(i / len(keys), f"Fitting {key} ({i + 1} of {len(keys)})…")
        results.append(fit_candidate(prepared, key, epochs))
    if progress:
        progress(1.0, "Done")
    return results


def comparison_table(results: list[Candidate]) -> pd.DataFrame:
    return pd.DataFrame([r.row() for r in results])


# -- random search ----------------------------------------------------------------------------
SEARCH_SPACE = {
    "code_size": (2, 3, 4, 6, 8, 12, 16),
    "first_width": (8, 16, 32, 64, 128),
    "depth": (1, 2),
    "dropout": (0.0, 0.1, 0.2),
    "learning_rate": (1e-4, 1e-2),  # log-uniform
}


def sample_params(rng: np.random.Generator, n_inputs: int) -> dict:
    code = int(rng.choice([c for c in SEARCH_SPACE["code_size"] if c < max(n_inputs, 3)] or [2]))
    first = int(rng.choice([w for w in SEARCH_SPACE["first_width"] if w > code] or [2 * code]))
    depth = int(rng.choice(SEARCH_SPACE["depth"]))
    hidden = [first] + ([max(code + 1, first // 2)] if depth == 2 else [])
    low, high = np.log10(SEARCH_SPACE["learning_rate"])
    return {"code_size": code, "hidden_sizes": tuple(hidden), "dropout": float(rng.choice(SEARCH_SPACE["dropout"])),
            "learning_rate": float(10 ** rng.uniform(low, high))}


def random_search(prepared: Prepared, n_trials: int = 8, epochs: int = 30, seed: int = 0, architecture: str = "dense", progress: Progress = None):
    """Random trials of code size, hidden widths, dropout and learning rate; best by validation average precision.

    Returns (results table sorted best first, the best Candidate).
    """
    if prepared.target.y is None:
        raise DataError("The search ranks trials by validation average precision, which needs a label column.")
    rng = np.random.default_rng(seed)
    n_inputs = len(prepared.features)
    rows, best = [], None
    for i in range(n_trials):
        params = sample_params(rng, n_inputs)
        if progress:
            progress(i / n_trials, f"Trial {i + 1} of {n_trials}: code {params['code_size']}, hidden {params['hidden_sizes']}")
        candidate = fit_candidate(prepared, f"ae:{architecture}", epochs, params)
        val_ap = candidate.parts["val"].curve.average_precision
        rows.append({"trial": i + 1, "code size": params["code_size"], "hidden sizes": ", ".join(map(str, params["hidden_sizes"])),
                     "dropout": params["dropout"], "learning rate": params["learning_rate"], "epochs run": candidate.detector.epochs_run_,
                     "AP (validation)": val_ap, "AP (test)": candidate.parts["test"].curve.average_precision, "fit s": candidate.fit_seconds})
        if best is None or val_ap > best[0]:
            best = (val_ap, candidate)
    if progress:
        progress(1.0, "Done")
    table = pd.DataFrame(rows).sort_values("AP (validation)", ascending=False, kind="stable").reset_index(drop=True)
    return table, best[1]
