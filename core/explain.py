"""Why is this row an anomaly? Per-row and overall explanations from a fitted detector.

Everything that covers all shown rows (per-feature errors, latent codes) is
computed once per model and part; selecting a row costs one pass of that row
through the network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import pandas as pd

from core.pipeline import PartScores, Prepared

OUTCOMES = {"TP": "anomaly caught", "FP": "false alarm", "FN": "missed anomaly", "TN": "normal kept"}
MAX_LATENT_POINTS = 5000


def outcomes(y: Optional[np.ndarray], predicted: np.ndarray) -> np.ndarray:
    """TP / FP / FN / TN per row (or 'flagged' / 'passed' without labels)."""
    if y is None:
        return np.where(predicted == 1, "flagged", "passed")
    return np.select([(y == 1) & (predicted == 1), (y == 0) & (predicted == 1), (y == 1) & (predicted == 0)], ["TP", "FP", "FN"], "TN")


def row_table(prepared: Prepared, part: PartScores, threshold: float) -> pd.DataFrame:
    """The shown rows, highest score first: file row number, label, score, prediction, outcome."""
    predicted = (part.scores > threshold).astype(np.int8)
    frame = pd.DataFrame({
        "row": part.positions + 1,
        "anomaly_score": part.scores,
        "prediction": np.where(predicted == 1, "anomaly", "normal"),
        "outcome": outcomes(part.y, predicted),
    })
    label = prepared.target.label
    if label is not None:
        frame.insert(1, label, prepared.table.frame[label].to_numpy()[part.positions])
    return frame.sort_values("anomaly_score", ascending=False, kind="stable").reset_index(drop=True)


def filter_rows(table: pd.DataFrame, outcomes_wanted: list[str], search: str = "") -> pd.DataFrame:
    """Rows whose outcome is wanted and whose row number or label contains ``search``."""
    out = table[table["outcome"].isin(outcomes_wanted)] if outcomes_wanted else table
    text = search.strip().lower()
    if text:
        hay = out.drop(columns=["anomaly_score"]).astype(str).apply(lambda col: col.str.lower())
        out = out[hay.apply(lambda col: col.str.contains(text, regex=False)).any(axis=1)]
    return out


def per_feature_errors(detector, part: PartScores) -> pd.DataFrame:
    """Each shown row's error split over the input features (once per model and part)."""
    return detector.split_by_feature(part.cell_error)


def per_feature_rarity(detector, prepared: Prepared, part: PartScores) -> Optional[pd.DataFrame]:
    """With the tails part in the score: how rare each shown row's value of each feature is among the normal
    training values (its surprise; a one-hot group's rarest level), once per model and part; else None."""
    reader = tails_reader(detector)
    if reader is None:
        return None
    return _rarity(reader, detector.transform_features(prepared.table.frame.iloc[part.positions][prepared.features]))


def reads_reconstruction(detector) -> bool:
    """Whether the score reads the reconstruction error (for an ensemble: whether any of its networks' scores does)."""
    readers = getattr(detector, "members_", None) or [detector]
    return any("reconstruction" in getattr(d, "score_parts_", ("reconstruction",)) for d in readers)


def tails_reader(detector):
    """The network whose table of normal training values says how rare a value is: the detector when its score reads
    the tails part, an ensemble's first network that reads it, else None."""
    if hasattr(detector, "tails_member"):
        return detector.tails_member
    return detector if "tails" in getattr(detector, "score_parts_", ()) else None


def _rarity(detector, x: np.ndarray) -> pd.DataFrame:
    """Each row's surprise per input feature among the normal training values (a one-hot group's rarest level)."""
    surprise = detector.score_stats_.tails_table.per_column(x)
    return pd.DataFrame({name: surprise[:, cols].max(axis=1) for name, cols in detector.preprocessor_.groups})


def feature_importance(per_feature: pd.DataFrame, y: Optional[np.ndarray]) -> pd.DataFrame:
    """Mean per-feature error of normal and anomalous rows, the features that separate them first."""
    if y is None:
        out = pd.DataFrame({"all rows": per_feature.mean()})
        return out.sort_values("all rows", ascending=False)
    out = pd.DataFrame({"normal rows": per_feature[y == 0].mean(), "anomalous rows": per_feature[y == 1].mean()})
    out["ratio"] = out["anomalous rows"] / out["normal rows"].replace(0, np.nan)
    return out.sort_values("anomalous rows", ascending=False)


def is_sequence(prepared: Prepared, detector) -> bool:
    """Rows are signals when every feature is numeric, there are many, and they share one scale."""
    from core.detector import sequence_problem  # Keras: imported where a row is shown, not when the Threshold page loads

    return sequence_problem(detector.preprocessor_) is None


@dataclass
class RowExplanation:
    position: int  # 0-based row in the file
    score: float
    original: pd.Series  # numeric features, the file's units
    reconstruction: pd.Series  # the same features, inverse-transformed
    contributions: pd.Series  # every used feature's share of the reconstruction error, largest first
    parts: dict[str, float] = field(default_factory=dict)  # each part the score adds, scaled (empty for a plain loss or distance)
    rarity: Optional[pd.Series] = None  # with the tails part: each feature's surprise among normal training values, largest first
    beyond: float = np.inf  # a surprise above this lies past the normal extremes
    of_networks: bool = False  # the parts are an ensemble's networks, whose scaled scores the score averages (not adds)

    def rarest(self, n: int = 3) -> list[tuple[str, str]]:
        """The ``n`` features whose values are rarest among the normal training values, and how rare, in words."""
        if self.rarity is None:
            return []
        return [(name, "beyond every normal training value" if surprise > self.beyond else f"about 1 in {np.exp(surprise):,.0f}")
                for name, surprise in self.rarity.head(n).items()]



def explain_row(detector, prepared: Prepared, position: int) -> RowExplanation:
    """One row against its reconstruction in the file's own units, which features drive its error, and, when the
    score reads it, how rare each of its values is among the normal training values. For an ensemble: the networks'
    mean reconstruction and errors, and each network's scaled score as the parts."""
    row = prepared.table.frame.iloc[[position]]
    parts = detector.score_parts(row)
    numeric_names = [c.name for c in detector.preprocessor_.numeric]
    original = detector.preprocessor_.inverse_numeric(parts["x"]).iloc[0]
    original.index = numeric_names
    # Missing cells were imputed: show what the network saw, which is the median.
    reconstruction = detector.preprocessor_.inverse_numeric(parts["reconstruction"]).iloc[0]
    contributions = detector.split_by_feature(parts["cell_error"]).iloc[0].sort_values(ascending=False)
    explanation = RowExplanation(position, float(parts["score"][0]), original, reconstruction, contributions)
    if "network_scores" in parts:
        explanation.parts = {f"network {m + 1}": float(value) for m, value in enumerate(parts["network_scores"][0])}
        explanation.of_networks = True
        reader = tails_reader(detector)
    elif detector.score in ("auto", "combined"):
        stats = detector.score_stats_
        scaled = stats.scaled_parts(parts["cell_error"], parts["codes"], detector.score_parts_, values=parts["x"])
        explanation.parts = {name: float(value[0]) for name, value in scaled.items()}
        reader = detector if "tails" in explanation.parts else None
    else:
        reader = None
    if reader is not None:
        explanation.rarity = _rarity(reader, parts["x"]).iloc[0].astype(float).sort_values(ascending=False)
        explanation.beyond = reader.score_stats_.tails_table.log_n
    return explanation


def code_reader(detector):
    """The network whose codes the latent view draws: the detector itself, or an ensemble's first network (each
    network has a code space of its own, so their codes cannot be drawn together)."""
    return detector.members_[0] if hasattr(detector, "members_") else detector


@dataclass
class LatentPoints:
    frame: pd.DataFrame  # x, y, row, label, score
    axes: tuple[str, str]
    subsampled_from: Optional[int]  # rows before subsampling, None when all are shown


def latent_points(detector, prepared: Prepared, part: PartScores, max_points: int = MAX_LATENT_POINTS, seed: int = 0) -> LatentPoints:
    """The code of each shown row in 2-D: the code itself when it has two units, else its first two principal components."""
    positions = part.positions
    chosen = np.arange(len(positions))
    subsampled = None
    if len(chosen) > max_points:
        chosen = np.sort(np.random.default_rng(seed).choice(len(chosen), max_points, replace=False))
        subsampled = len(positions)
    codes = code_reader(detector).encode(prepared.table.frame.iloc[positions[chosen]][prepared.features])
    if codes.shape[1] == 2:
        xy, axes = codes, ("code 1", "code 2")
    elif codes.shape[1] == 1:
        xy, axes = np.column_stack([codes[:, 0], np.zeros(len(codes))]), ("code 1", "")
    else:
        from sklearn.decomposition import PCA

        pca = PCA(n_components=2, random_state=seed).fit(codes)
        xy = pca.transform(codes)
        ratio = pca.explained_variance_ratio_
        axes = (f"PC 1 of the code ({ratio[0]:.0%} of its variance)", f"PC 2 ({ratio[1]:.0%})")
    y = part.y[chosen] if part.y is not None else None
    frame = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "row": positions[chosen] + 1,
                          "label": np.where(y == 1, "anomaly", "normal") if y is not None else "unlabelled",
                          "score": part.scores[chosen]})
    return LatentPoints(frame, axes, subsampled)
