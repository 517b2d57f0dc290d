"""The flow in one place: Table → Target → Split → Detector → Scores → ThresholdCurve.

Each step is one function; later steps only read earlier objects. The app,
the command line and a notebook call these instead of wiring the steps by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Sequence

import numpy as np
import pandas as pd

from core.data import Table, name_list, read_table
from core.errors import DataError
from core.metrics import ThresholdCurve
from core.plots import CurvePoints, HistogramBins, curve_points, histogram_bins
from core.split import Split, make_split
from core.target import Target, feature_choice, likely_label_columns, make_target, validate_features

if TYPE_CHECKING:  # Keras loads only where a network is built or trained
    from core.detector import AutoencoderDetector
    from core.training import ProgressHook


@dataclass
class Prepared:
    """What training needs: the table, the label choice, the features and the split."""

    table: Table
    target: Target
    features: list[str]
    split: Split
    #: Said in words when the normal training rows were capped (None when all are used).
    train_note: Optional[str] = None

    def rows(self, part: str) -> pd.DataFrame:
        return self.table.frame.iloc[self.split.part(part)][self.features]

    def labels(self, part: str) -> Optional[np.ndarray]:
        return None if self.target.y is None else self.target.y[self.split.part(part)]

    def normal_rows(self, part: str = "train") -> pd.DataFrame:
        """The part's normal rows (all of them without a label): what detectors are fitted on."""
        rows, y = self.rows(part), self.labels(part)
        return rows if y is None else rows[y == 0]

    def context(self) -> dict[str, Any]:
        """What a bundle keeps besides the model, so a session can be restored."""
        return {
            "dataset": {"name": self.table.name, "sha256": self.table.sha256, "rows": int(self.table.shape[0]), "columns": int(self.table.shape[1])},
            "label": self.target.label,
            "normal_classes": list(self.target.normal_classes),
            "features": list(self.features),
            "split_seed": self.split.seed,
        }


#: Above this many normal training rows, training uses a seeded sample of them (validation and test rows stay whole).
MAX_TRAIN_ROWS = 200_000


def cap_training_rows(split: Split, y: Optional[np.ndarray], max_rows: int = MAX_TRAIN_ROWS) -> tuple[Split, Optional[str]]:
    """The split with at most ``max_rows`` normal training rows (a seeded sample), and the sentence that says so.

    Anomalous training rows, validation and test rows are all kept.
    """
    train = split.train
    normal = train if y is None else train[y[train] == 0]
    if len(normal) <= max_rows:
        return split, None
    rng = np.random.default_rng(split.seed)
    kept = rng.choice(normal, size=max_rows, replace=False)
    others = train if y is None else train[y[train] != 0]
    new_train = np.sort(np.concatenate([kept, others if y is not None else np.empty(0, dtype=train.dtype)]))
    note = (f"Training uses a random sample of {max_rows:,} of the {len(normal):,} normal training rows (seed {split.seed}) "
            "to keep training time and memory bounded; every validation and test row is scored.")
    return Split(train=new_train, val=split.val, test=split.test, seed=split.seed), note


#: Training needs this many normal rows in the table (60 % of them, 20 rows, train the network).
MIN_NORMAL_ROWS = 34


def _check_row_counts(n_rows: int, target: Target) -> None:
    """Too few rows said in words, before scikit-learn's split fails on them."""
    if target.y is None:
        if n_rows < MIN_NORMAL_ROWS:
            raise DataError(f"The table has {n_rows} data row(s); training needs at least {MIN_NORMAL_ROWS} "
                            "(20 for training after the 60/20/20 split). Add rows.")
        return
    n_normal = int((target.y == 0).sum())
    if n_normal < MIN_NORMAL_ROWS:
        raise DataError(f"The normal class(es) {name_list(target.normal_classes)} have {n_normal} row(s); training needs at least "
                        f"{MIN_NORMAL_ROWS} normal rows (20 for training after the 60/20/20 split). Mark more classes normal or add rows.")


def prepare(table: Table, label: Optional[str], normal: Sequence[object] = (), features: Optional[Sequence[str]] = None, seed: int = 0,
            max_train_rows: int = MAX_TRAIN_ROWS) -> Prepared:
    """Validate the choices and split the rows; raises :class:`~core.errors.DataError` with the fix."""
    target = make_target(table.frame, label, normal)
    _check_row_counts(len(table.frame), target)
    if features is None:
        choice = feature_choice(table.frame, label)
        if not choice.features:
            reasons = "; ".join(f"{str(c)!r}: {why}" for c, why in list(choice.excluded.items())[:10])
            raise DataError(f"No column can be a feature ({reasons}). An autoencoder needs numeric columns that vary; add such columns.")
        features = choice.features
    chosen = validate_features(table.frame, features, label)
    try:
        split = make_split(len(table.frame), target.y, seed=seed)
    except ValueError as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(f"The rows cannot be split into training, validation and test parts ({str(exc).split('. ')[0]}). "
                        "Add rows of the rarest class, or train with 'no label'.") from None
    split, note = cap_training_rows(split, target.y, max_train_rows)
    return Prepared(table, target, chosen, split, train_note=note)


def prepare_from_context(table: Table, context: dict[str, Any]) -> Prepared:
    """The split a saved model was trained with, rebuilt on ``table`` (same columns needed)."""
    missing = [c for c in context.get("features", []) if c not in table.frame.columns]
    label = context.get("label")
    no_label = label is not None and label not in table.frame.columns
    if missing or no_label:
        what = [f"feature column(s) the saved model reads: {name_list(missing)}"] if missing else []
        what += [f"its label column '{label}', which its validation and test rows are split on"] if no_label else []
        raise DataError(
            f"The table '{table.name}' lacks {' and '.join(what)}. "
            "Load a table with the same columns to see the Threshold page; the Score page works without it."
        )
    return prepare(table, context.get("label"), context.get("normal_classes", []), context.get("features"), seed=int(context.get("split_seed", 0)))


def new_detector(prepared: Prepared, params: Optional[dict[str, Any]] = None) -> AutoencoderDetector:
    """The autoencoder ``params`` describe, seeded by the split unless they say otherwise; with ``n_networks`` above 1,
    an ensemble of that many such networks (:class:`core.ensemble.AutoencoderEnsemble`)."""
    from core.detector import AutoencoderDetector

    params = dict(params or {})
    params.setdefault("random_state", prepared.split.seed)
    n_networks = int(params.pop("n_networks", 1))
    if n_networks == 1:
        return AutoencoderDetector(**params)
    from core.ensemble import AutoencoderEnsemble

    own = {name: params.pop(name) for name in AutoencoderEnsemble.OWN if name in params}
    return AutoencoderEnsemble(n_networks=n_networks, network=params or None, **own)


def begin_training(prepared: Prepared, params: Optional[dict[str, Any]] = None) -> AutoencoderDetector:
    """A detector with data and network ready; run ``detector.trainer_.run`` then ``end_fit``."""
    detector = new_detector(prepared, params)
    y_val = prepared.labels("val")
    return detector.begin_fit(prepared.rows("train"), prepared.labels("train"), validation_data=(prepared.rows("val"), y_val))


@dataclass
class TrainResult:
    prepared: Prepared
    detector: AutoencoderDetector

    @property
    def context(self) -> dict[str, Any]:
        return self.prepared.context()


def train_from_csv(path, label: Optional[str], normal: Sequence[object] = (), features=None, seed: int = 0, params=None,
                   hooks: Optional[list[ProgressHook]] = None, key: str = "ae:dense") -> TrainResult:
    """Read, split and fit the registry's detector ``key`` (the dense autoencoder by default)."""
    from core.registry import fit_on_split

    prepared = prepare(read_table(path), label, normal, features, seed)
    return TrainResult(prepared, fit_on_split(prepared, key, params, hooks=hooks))


@dataclass
class PartScores:
    """One part's scores with everything the Threshold page draws, computed once per model."""

    part: str
    positions: np.ndarray
    scores: np.ndarray
    y: Optional[np.ndarray]
    curve: ThresholdCurve
    bins: HistogramBins
    bins_log: HistogramBins
    points: Optional[CurvePoints]
    cell_error: Optional[np.ndarray] = field(default=None, repr=False)


def score_part(detector, prepared: Prepared, part: str) -> PartScores:
    """One part's scores; autoencoders also keep each cell's error (for explanations)."""
    rows = prepared.rows(part)
    parts = detector.score_parts(rows) if hasattr(detector, "score_parts") else {"score": detector.decision_function(rows), "cell_error": None}
    y = prepared.labels(part)
    has_both = y is not None and len(np.unique(y)) == 2
    curve = ThresholdCurve(parts["score"], y if has_both else None)
    return PartScores(
        part=part,
        positions=prepared.split.part(part),
        scores=parts["score"],
        y=y if has_both else None,
        curve=curve,
        bins=histogram_bins(parts["score"], y if has_both else None),
        bins_log=histogram_bins(parts["score"], y if has_both else None, log_x=True),
        points=curve_points(curve) if has_both else None,
        cell_error=parts["cell_error"],
    )


def score_all(detector: AutoencoderDetector, prepared: Prepared) -> dict[str, PartScores]:
    """Validation and test scores (train too, for label-free rules and drift)."""
    return {part: score_part(detector, prepared, part) for part in ("train", "val", "test")}


SAMPLE_DIR = Path(__file__).resolve().parent.parent / "sample_data"
#: Bundled samples with the label and normal class a new user starts with.
SAMPLES = {
    "machine_sensors.csv": ("Machine sensors: 12 pump sensors, 5 % faults of three kinds", "status", ["normal"]),
    "heartbeats.csv": ("Heartbeats: 64-sample signals, 20 % abnormal beats", "rhythm", ["normal"]),
}


def load_sample(name: str) -> Table:
    if name not in SAMPLES:
        raise DataError(f"There is no bundled sample {name!r}; choose one of {', '.join(SAMPLES)}.")
    return read_table(SAMPLE_DIR / name, name=name)


def guess_label(frame: pd.DataFrame) -> Optional[str]:
    """A likely label column: one with a conventional name (:func:`core.target.likely_label_columns`), else the
    last column if it has 2–20 classes. Among several, the one whose largest class holds the most rows: an
    anomaly label has a class most rows belong to (CTG's NSP, 78 % normal, rather than its 10 CLASS patterns)."""
    candidates = likely_label_columns(frame)
    if candidates:
        return max(candidates, key=lambda c: frame[c].value_counts(normalize=True).iloc[0])  # the first on ties
    last = frame.columns[-1]
    return last if 2 <= frame[last].nunique() <= 20 else None


def parse_hidden_sizes(text: str) -> tuple[int, ...]:
    """'64, 32' → (64, 32); raises DataError with the expected form."""
    try:
        sizes = tuple(int(part) for part in text.replace(";", ",").split(",") if part.strip())
    except ValueError:
        raise DataError(f"Hidden sizes must be whole numbers separated by commas, like '64, 32' (got {text!r}).") from None
    if not sizes or any(s < 1 or s > 4096 for s in sizes):
        raise DataError(f"Give one to a few hidden sizes between 1 and 4096, like '64, 32' (got {text!r}).")
    return sizes


#: What the Train form sets, in the detector's terms: a training begun ahead must match the click's parameters.
TRAIN_FORM_FIELDS = ("hidden_sizes", "code_size", "dropout", "activation", "loss", "scaler", "epochs", "batch_size", "learning_rate",
                     "patience", "random_state", "score", "architecture")


def form_params(defaults: dict[str, Any]) -> dict[str, Any]:
    """The parameters the Train form gives before anything in it is changed (from :func:`suggested_params`)."""
    return {name: defaults[name] for name in TRAIN_FORM_FIELDS}


def signal_problem(prepared: Prepared) -> Optional[str]:
    """Why the chosen features are not one signal for conv1d / LSTM (None when they are)."""
    from core.detector import sequence_problem
    from core.preprocess import Preprocessor

    return sequence_problem(Preprocessor("standard").fit(prepared.normal_rows("train"), prepared.features))


def suggested_params(prepared: Prepared) -> dict[str, Any]:
    """The detector's defaults, with the sizes it would pick for this data filled in,
    and ``sequence_problem``: why rows are not signals (None when they are)."""
    from core.detector import AutoencoderDetector, default_batch_size, sequence_problem
    from core.preprocess import Preprocessor

    detector = AutoencoderDetector(random_state=prepared.split.seed)
    params = detector.get_params()
    normal = prepared.normal_rows("train")
    preprocessor = Preprocessor(scaler=params["scaler"]).fit(normal, prepared.features)
    hidden, code = detector.resolved_architecture(len(preprocessor.output_names))
    params.update(hidden_sizes=hidden, code_size=code, batch_size=default_batch_size(len(normal)), sequence_problem=sequence_problem(preprocessor))
    return params
