"""Every detector, named once: key, name, one-line description, parameters, whether it needs a signal.

The Compare page, the quality benchmark and the bundle code read this table;
nothing else keeps a list of detectors. ``fit_on_split`` trains any of them on a
prepared split (the Train page's live path uses ``begin_training`` instead, to
run the epochs in pieces).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Optional

from core.errors import DataError
from core.architectures import ARCHITECTURES, SEQUENCE_ARCHITECTURES

#: The one-class SVM is quadratic in the training rows: offered up to this many.
OCSVM_MAX_TRAIN_ROWS = 20_000


@dataclass(frozen=True)
class DetectorSpec:
    key: str
    name: str
    description: str
    class_path: str  # "module:Class", imported on first use (the autoencoder imports Keras)
    fixed: dict[str, Any] = field(default_factory=dict)  # parameters the key itself sets
    needs_sequence: bool = False
    max_train_rows: Optional[int] = None

    @property
    def cls(self) -> type:
        module, name = self.class_path.split(":")
        return getattr(importlib.import_module(module), name)

    @property
    def params(self) -> tuple[str, ...]:
        """The parameters a user may set (the class's ``__init__`` signature, less what the key fixes)."""
        return tuple(p for p in self.cls._get_param_names() if p not in self.fixed)

    @property
    def is_autoencoder(self) -> bool:
        return self.key.startswith("ae:")

    def make(self, **params: Any):
        unknown = sorted(set(params) - set(self.cls._get_param_names()))
        if unknown:
            raise DataError(f"{self.name} has no parameter(s) {', '.join(unknown)}; it takes {', '.join(self.params)}.")
        return self.cls(**{**params, **self.fixed})

    def why_not(self, n_normal_rows: int, signal_problem: Optional[str]) -> Optional[str]:
        """Why this detector does not apply to the data (None when it does)."""
        if self.needs_sequence and signal_problem:
            return f"{self.name} reads a row as a signal, but {signal_problem}"
        if self.max_train_rows is not None and n_normal_rows > self.max_train_rows:
            return f"{self.name} is too slow beyond {self.max_train_rows:,} normal training rows"
        return None


_AE = "core.detector:AutoencoderDetector"
DETECTORS: dict[str, DetectorSpec] = {
    **{f"ae:{a}": DetectorSpec(f"ae:{a}", f"AE {a}", d, _AE, {"architecture": a}, needs_sequence=a in SEQUENCE_ARCHITECTURES)
       for a, d in ARCHITECTURES.items()},
    "ae:ensemble": DetectorSpec("ae:ensemble", "AE ensemble", "Three dense autoencoders (other seeds), their scores averaged: "
                                "steadier than one, three times the fit.", "core.ensemble:AutoencoderEnsemble"),
    "iforest": DetectorSpec("iforest", "Isolation Forest", "200 random trees; rows isolated in few splits are anomalies.",
                            "core.baselines:IsolationForestDetector"),
    "lof": DetectorSpec("lof", "Local Outlier Factor", "How much sparser a row's neighbourhood is than its neighbours'.",
                        "core.baselines:LOFDetector"),
    "pca": DetectorSpec("pca", "PCA reconstruction", "A linear autoencoder: error after keeping 90 % of the variance.",
                        "core.baselines:PCADetector"),
    "ocsvm": DetectorSpec("ocsvm", "One-class SVM", "An RBF boundary around the normal rows (under 20,000 training rows).",
                          "core.baselines:OneClassSVMDetector", max_train_rows=OCSVM_MAX_TRAIN_ROWS),
    "knn": DetectorSpec("knn", "kNN distance", "Mean distance to the 5 nearest normal training rows; strong on public benchmarks.",
                        "core.baselines:KNNDetector"),
    "ecod": DetectorSpec("ecod", "ECOD", "How far into each column's tails a row lies (empirical CDFs; no parameters).",
                         "core.baselines:ECODDetector"),
}
BASELINE_KEYS = tuple(k for k in DETECTORS if not k.startswith("ae:"))


def spec(key: str) -> DetectorSpec:
    if key not in DETECTORS:
        raise DataError(f"There is no detector {key!r}; choose one of {', '.join(DETECTORS)}.")
    return DETECTORS[key]


def make_detector(key: str, **params: Any):
    """A new, unfitted detector by key (``"ae:dense"``, ``"knn"``, …)."""
    return spec(key).make(**params)


def key_of(detector) -> str:
    """The registry key of a detector object (autoencoders by their architecture)."""
    cls = type(detector)
    for key, s in DETECTORS.items():
        if s.class_path == f"{cls.__module__}:{cls.__name__}" and all(getattr(detector, p) == v for p, v in s.fixed.items()):
            return key
    raise DataError(f"{cls.__name__} is not a registered detector.")


def name_of(detector) -> str:
    return DETECTORS[key_of(detector)].name


def available(n_normal_rows: int, signal_problem: Optional[str]) -> dict[str, DetectorSpec]:
    """The detectors that apply to data with this many normal training rows (and this reason rows are not signals)."""
    return {k: s for k, s in DETECTORS.items() if s.why_not(n_normal_rows, signal_problem) is None}


def fit_on_split(prepared, key: str = "ae:dense", params: Optional[dict[str, Any]] = None, *, hooks=None, stop=None):
    """Fit one detector on a prepared split: normal training rows, validation rows for early
    stopping, the score-part choice and label-using threshold rules. Seeded by the split unless
    ``params`` say otherwise. Returns the fitted detector."""
    settings = {"random_state": prepared.split.seed, **(params or {})}
    detector = make_detector(key, **settings)
    train, y_train = prepared.rows("train"), prepared.labels("train")
    validation = (prepared.rows("val"), prepared.labels("val"))
    if spec(key).is_autoencoder:
        return detector.fit(train, y_train, validation_data=validation, hooks=hooks, stop=stop)
    return detector.fit(train, y_train, validation_data=validation)
