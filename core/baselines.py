"""Classical detectors behind the same contract as the autoencoder, for honest comparisons.

Each is fitted on normal training rows after the same preprocessing, scores with
``decision_function`` (higher = more abnormal) and gets its threshold from the
same rules in :mod:`core.thresholds`.
"""

from __future__ import annotations

import time
from typing import Any, Optional

import numpy as np
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.exceptions import NotFittedError
from sklearn.neighbors import LocalOutlierFactor
from sklearn.svm import OneClassSVM

from core.detector import _as_frame
from core.preprocess import Preprocessor
from core.thresholds import Threshold, choose_threshold


class BaselineDetector:
    """Shared fitting and thresholding; subclasses build the model and its raw score."""

    name = "baseline"

    def __init__(self, scaler: str = "standard", threshold_rule: str = "auto", random_state: int = 0) -> None:
        self.scaler = scaler
        self.threshold_rule = threshold_rule
        self.random_state = random_state

    def _make(self, n_rows: int, n_cols: int):
        raise NotImplementedError

    def _raw_score(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def fit(self, X: Any, y: Optional[np.ndarray] = None, *, validation_data=None, **_: Any) -> "BaselineDetector":
        t0 = time.perf_counter()
        frame = _as_frame(X)
        normal = np.ones(len(frame), bool) if y is None else (np.asarray(y) == 0)
        train = frame[normal]
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        self.n_features_in_ = frame.shape[1]
        self.preprocessor_ = Preprocessor(scaler=self.scaler).fit(train, list(frame.columns))
        x = self.preprocessor_.transform(train)
        self.model_ = self._make(*x.shape)
        self.model_.fit(x)
        self.decision_scores_ = self._raw_score(x)
        val_scores = val_y = None
        if validation_data is not None and validation_data[1] is not None:
            val_scores, val_y = self.decision_function(validation_data[0]), np.asarray(validation_data[1])
        t = choose_threshold(self.threshold_rule, self.decision_scores_, val_scores, val_y)
        self.threshold_, self.threshold_rule_, self.threshold_reason_ = t.value, t.rule, t.reason
        self.fit_seconds_ = time.perf_counter() - t0
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        if not hasattr(self, "model_"):
            raise NotFittedError(f"This {type(self).__name__} is not fitted yet. Call 'fit' first.")
        return self._raw_score(self.preprocessor_.transform(_as_frame(X)))

    def predict(self, X: Any) -> np.ndarray:
        return (self.decision_function(X) > self.threshold_).astype(np.int8)

    def set_threshold(self, threshold: Threshold) -> None:
        self.threshold_, self.threshold_rule_, self.threshold_reason_ = threshold.value, threshold.rule, threshold.reason


class IsolationForestDetector(BaselineDetector):
    name = "Isolation Forest"

    def _make(self, n_rows, n_cols):
        return IsolationForest(n_estimators=200, random_state=self.random_state)

    def _raw_score(self, x):
        return -self.model_.score_samples(x)


class LOFDetector(BaselineDetector):
    name = "Local Outlier Factor"

    def _make(self, n_rows, n_cols):
        return LocalOutlierFactor(n_neighbors=min(20, n_rows - 1), novelty=True)

    def _raw_score(self, x):
        return -self.model_.score_samples(x)


class PCADetector(BaselineDetector):
    """Reconstruction error of a PCA keeping 90 % of the normal rows' variance."""

    name = "PCA reconstruction"

    def _make(self, n_rows, n_cols):
        return PCA(n_components=0.9, svd_solver="full", random_state=self.random_state)

    def _raw_score(self, x):
        back = self.model_.inverse_transform(self.model_.transform(x))
        return ((x - back) ** 2).mean(axis=1)


class OneClassSVMDetector(BaselineDetector):
    """RBF one-class SVM; slow beyond ~20,000 training rows."""

    name = "One-class SVM"

    def _make(self, n_rows, n_cols):
        return OneClassSVM(kernel="rbf", gamma="scale", nu=0.05)

    def _raw_score(self, x):
        return -self.model_.score_samples(x)


BASELINES = {"iforest": IsolationForestDetector, "lof": LOFDetector, "pca": PCADetector, "ocsvm": OneClassSVMDetector}
