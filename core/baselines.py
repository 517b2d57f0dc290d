"""Classical detectors behind the same contract as the autoencoder, for honest comparisons.

Each is fitted on normal training rows after the same preprocessing, scores with
``decision_function`` (higher = more abnormal) and gets its threshold from the
same rules in :mod:`core.thresholds`. Each adds only its model and its raw score.
"""

from __future__ import annotations

import time
from typing import Any, Optional

import numpy as np
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.neighbors import LocalOutlierFactor, NearestNeighbors
from sklearn.svm import OneClassSVM

from core.base import BaseDetector
from core.errors import DataError


class BaselineDetector(BaseDetector):
    """Shared fit: preprocess normal rows, fit ``model_``, score training rows, threshold."""

    _fitted_attribute = "model_"

    def __init__(self, scaler: str = "standard", threshold_rule: str = "auto", random_state: int = 0) -> None:
        self.scaler = scaler
        self.threshold_rule = threshold_rule
        self.random_state = random_state

    def _fit_model(self, x: np.ndarray) -> Any:
        raise NotImplementedError

    def _train_scores(self, x: np.ndarray) -> np.ndarray:
        """Scores of the training rows; neighbour methods override this so a row is not its own neighbour."""
        return self._score(x)

    def fit(self, X: Any, y: Optional[np.ndarray] = None, *, validation_data=None, **_: Any) -> "BaselineDetector":
        """Fit on the normal rows of ``X``; labelled ``validation_data`` serves label-using threshold rules."""
        t0 = time.perf_counter()
        train = self._intake(X, y)
        x = self.preprocessor_.transform(train)
        if len(x) < 3:
            raise DataError("There are fewer than 3 normal rows to fit on. Check the normal class.")
        self.model_ = self._fit_model(x)
        self.decision_scores_ = np.asarray(self._train_scores(x), dtype=np.float64)
        val_scores = val_y = None
        if validation_data is not None and validation_data[1] is not None:
            val_scores, val_y = self.decision_function(validation_data[0]), np.asarray(validation_data[1])
        self._fit_threshold(val_scores, val_y)
        self.fit_seconds_ = time.perf_counter() - t0
        return self


class IsolationForestDetector(BaselineDetector):
    """Random trees; rows isolated in few splits are anomalies."""

    def __init__(self, n_estimators: int = 200, scaler: str = "standard", threshold_rule: str = "auto", random_state: int = 0) -> None:
        super().__init__(scaler, threshold_rule, random_state)
        self.n_estimators = n_estimators

    def _fit_model(self, x):
        return IsolationForest(n_estimators=int(self.n_estimators), random_state=self.random_state).fit(x)

    def _score(self, x):
        return -self.model_.score_samples(x)


class LOFDetector(BaselineDetector):
    """How much sparser a row's neighbourhood is than its neighbours' (novelty mode)."""

    def __init__(self, n_neighbors: int = 20, scaler: str = "standard", threshold_rule: str = "auto", random_state: int = 0) -> None:
        super().__init__(scaler, threshold_rule, random_state)
        self.n_neighbors = n_neighbors

    def _fit_model(self, x):
        return LocalOutlierFactor(n_neighbors=min(int(self.n_neighbors), len(x) - 1), novelty=True).fit(x)

    def _train_scores(self, x):
        return -self.model_.negative_outlier_factor_

    def _score(self, x):
        return -self.model_.score_samples(x)


class PCADetector(BaselineDetector):
    """Reconstruction error of a PCA keeping a share of the normal rows' variance (a linear autoencoder)."""

    def __init__(self, variance: float = 0.9, scaler: str = "standard", threshold_rule: str = "auto", random_state: int = 0) -> None:
        super().__init__(scaler, threshold_rule, random_state)
        self.variance = variance

    def _fit_model(self, x):
        return PCA(n_components=float(self.variance), svd_solver="full", random_state=self.random_state).fit(x)

    def _score(self, x):
        back = self.model_.inverse_transform(self.model_.transform(x))
        return ((x - back) ** 2).mean(axis=1)


class OneClassSVMDetector(BaselineDetector):
    """RBF one-class SVM; slow beyond ~20,000 training rows."""

    def __init__(self, nu: float = 0.05, scaler: str = "standard", threshold_rule: str = "auto", random_state: int = 0) -> None:
        super().__init__(scaler, threshold_rule, random_state)
        self.nu = nu

    def _fit_model(self, x):
        return OneClassSVM(kernel="rbf", gamma="scale", nu=float(self.nu)).fit(x)

    def _score(self, x):
        return -self.model_.score_samples(x)


class KNNDetector(BaselineDetector):
    """Mean distance to the k nearest normal training rows (a training row does not count itself).

    Near the top of published normal-only leaderboards (ADBench) despite its simplicity.
    """

    def __init__(self, n_neighbors: int = 5, scaler: str = "standard", threshold_rule: str = "auto", random_state: int = 0) -> None:
        super().__init__(scaler, threshold_rule, random_state)
        self.n_neighbors = n_neighbors

    def _k(self, n_rows: int) -> int:
        return max(1, min(int(self.n_neighbors), n_rows - 1))

    def _fit_model(self, x):
        return NearestNeighbors(n_neighbors=self._k(len(x)) + 1).fit(x)

    def _train_scores(self, x):
        distances, _ = self.model_.kneighbors(x)
        return distances[:, 1:].mean(axis=1)  # the nearest is the row itself

    def _score(self, x):
        if len(x) == 0:
            return np.empty(0)
        distances, _ = self.model_.kneighbors(x, n_neighbors=self.model_.n_neighbors - 1)
        return distances.mean(axis=1)


class ECODModel:
    """Per-column sorted normal training values and skew signs: all ECOD needs to score new rows."""

    def __init__(self, x: np.ndarray) -> None:
        self.sorted_ = np.sort(x, axis=0)
        centred = x - x.mean(axis=0)
        spread = np.maximum(centred.std(axis=0), 1e-12)
        self.skew_ = ((centred / spread) ** 3).mean(axis=0)

    def tails(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """-log of the left and right empirical tail probabilities, per cell (never infinite)."""
        n = self.sorted_.shape[0]
        left = np.empty(x.shape)
        right = np.empty(x.shape)
        for j in range(x.shape[1]):
            column = self.sorted_[:, j]
            left[:, j] = np.searchsorted(column, x[:, j], side="right")
            right[:, j] = n - np.searchsorted(column, x[:, j], side="left")
        return -np.log((left + 1) / (n + 1)), -np.log((right + 1) / (n + 1))


class ECODDetector(BaselineDetector):
    """Empirical-CDF outlier detection (Li et al. 2022): how far in the tails each column lies.

    Per column, the left and right tail probabilities of a value under the normal
    training rows' empirical distribution; the score is the largest of the summed
    -log left tails, right tails, and the tail the column's skewness points to.
    No parameters, no randomness. Fitted on training rows only (PyOD refits on the
    scored rows too), so a row's score does not depend on the batch it arrives in.
    """

    def _fit_model(self, x):
        return ECODModel(x)

    def _score(self, x):
        left, right = self.model_.tails(x)
        auto = np.where(self.model_.skew_ < 0, left, right)
        return np.maximum.reduce([left.sum(axis=1), right.sum(axis=1), auto.sum(axis=1)])


__all__ = ["BaselineDetector", "IsolationForestDetector", "LOFDetector", "PCADetector", "OneClassSVMDetector",
           "KNNDetector", "ECODDetector"]
