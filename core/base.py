"""What every detector shares: scikit-learn parameters, intake, preprocessing, threshold, predict.

A detector subclass supplies its own model (``_fit_model``) and its raw score
(``_score``); this class owns the rest, once. Parameters come from each
subclass's ``__init__`` signature through :class:`sklearn.base.BaseEstimator`,
so ``get_params``, ``set_params``, ``clone`` and ``repr`` cannot drift from it.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from core.errors import DataError
from core.preprocess import SCALERS, Preprocessor
from core.thresholds import Threshold, choose_threshold


def as_frame(X: Any) -> pd.DataFrame:
    """A table of rows and columns; arrays get columns x0, x1, …"""
    if isinstance(X, pd.DataFrame):
        return X
    array = np.asarray(X)
    if array.ndim != 2:
        raise DataError(f"Expected a 2-D table of rows and columns, got an array of shape {array.shape}.")
    return pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])


def normal_mask(n_rows: int, y: Optional[np.ndarray]) -> np.ndarray:
    """Rows to learn from: ``y == 0`` (all rows without labels)."""
    return np.ones(n_rows, bool) if y is None else (np.asarray(y) == 0)


class BaseDetector(BaseEstimator):
    """Fitted on normal rows; ``predict`` is 1 where ``decision_function`` exceeds ``threshold_``.

    Attributes (after ``fit``)
    --------------------------
    preprocessor_ : the scaling and encoding learnt from normal training rows.
    feature_names_in_, n_features_in_ : the columns ``fit`` saw.
    decision_scores_ : scores of the normal training rows (for label-free rules).
    threshold_, threshold_rule_, threshold_reason_ : the cut, its rule and why.
    fit_seconds_ : wall time of the fit.
    """

    #: The fitted attribute whose presence means "fitted".
    _fitted_attribute = "preprocessor_"

    @property
    def name(self) -> str:
        """The detector's display name, from :mod:`core.registry`."""
        from core.registry import name_of

        return name_of(self)

    # -- intake --------------------------------------------------------------------------
    def _intake(self, X: Any, y: Optional[np.ndarray]) -> pd.DataFrame:
        """Check the scaler, learn the preprocessor on the normal rows, return those rows."""
        if getattr(self, "scaler", "standard") not in SCALERS:
            raise DataError(f"Scaler must be one of {', '.join(SCALERS)}, got {self.scaler!r}.")
        frame = as_frame(X)
        normal = normal_mask(len(frame), y)
        if normal.sum() < 2:
            raise DataError("There are fewer than 2 normal rows to train on. Check the normal class.")
        train = frame.loc[normal] if isinstance(X, pd.DataFrame) else frame[normal]
        self._take_intake(Preprocessor(scaler=getattr(self, "scaler", "standard")).fit(train, list(frame.columns)), frame.columns)
        return train

    def _take_intake(self, preprocessor: Preprocessor, columns: Any) -> None:
        """Hold a fitted intake: the preprocessor and the columns it was fitted on (an ensemble takes its networks')."""
        self.feature_names_in_ = np.asarray(columns, dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        self.preprocessor_ = preprocessor

    def _check_fitted(self) -> None:
        if not hasattr(self, self._fitted_attribute):
            raise NotFittedError(f"This {type(self).__name__} is not fitted yet. Call 'fit' first.")

    def transform_features(self, X: Any) -> np.ndarray:
        """Rows in the model's input space (scaled, imputed, one-hot)."""
        self._check_fitted()
        return self.preprocessor_.transform(as_frame(X))

    # -- scoring ---------------------------------------------------------------------------
    def _score(self, x: np.ndarray) -> np.ndarray:
        """Raw anomaly score of preprocessed rows (higher = more abnormal)."""
        raise NotImplementedError

    def decision_function(self, X: Any) -> np.ndarray:
        """Anomaly score per row; higher is more abnormal."""
        return self._score(self.transform_features(X))

    def predict(self, X: Any) -> np.ndarray:
        """1 for rows scored above ``threshold_`` (anomalies), else 0."""
        return (self.decision_function(X) > self.threshold_).astype(np.int8)

    # -- threshold -------------------------------------------------------------------------
    def _fit_threshold(self, val_scores: Optional[np.ndarray], val_y: Optional[np.ndarray]) -> Threshold:
        """Apply ``threshold_rule`` to the training scores and (labelled) validation scores."""
        chosen = choose_threshold(getattr(self, "threshold_rule", "auto"), self.decision_scores_, val_scores, val_y)
        self.set_threshold(chosen)
        return chosen

    def set_threshold(self, threshold: Threshold | float, rule: str = "manual", reason: str = "set by hand") -> None:
        """Use another threshold (for example the one a user picked on the slider)."""
        if not isinstance(threshold, Threshold):
            threshold = Threshold(float(threshold), rule, reason)
        self.threshold_ = threshold.value
        self.threshold_rule_ = threshold.rule
        self.threshold_reason_ = threshold.reason
        self.threshold_set_on_ = threshold.set_on
        self.threshold_review_from_ = threshold.review_from

    @property
    def fitted_threshold(self) -> Threshold:
        """The threshold in use with its rule, reason, (set by hand) the rows it was set on and its review band."""
        return Threshold(self.threshold_, self.threshold_rule_, self.threshold_reason_, getattr(self, "threshold_set_on_", None),
                         getattr(self, "threshold_review_from_", None))
