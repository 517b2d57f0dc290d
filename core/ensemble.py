"""Several default autoencoders on the same rows, their scores averaged: the measured way past one network's luck.

Each member is the default :class:`core.detector.AutoencoderDetector` with its own seed (s, s + 1000, …), so it
starts from other weights, sees the rows in another order and makes its own ``score="auto"`` part choice on the
validation rows. Each member's scores are divided by their mean on its normal training rows (every member's score
then averages 1 on normal rows, whatever parts it adds) and the quotients are averaged. Measured in the README
("An ensemble of default detectors"): level with or ahead of one network on all fifteen table-and-seed groups, for
three times the fit and about twice the scoring. Not the default for that cost: the Compare page and the command
line (``--networks 3``) offer it.
"""

from __future__ import annotations

import time
from typing import Any, Optional

import numpy as np

from core.base import BaseDetector
from core.errors import DataError

MAX_NETWORKS = 10


class AutoencoderEnsemble(BaseDetector):
    """The mean of ``n_networks`` default dense autoencoders' scaled scores.

    Parameters
    ----------
    n_networks : how many networks (2 to 10); member m is seeded ``random_state + 1000·m``.
    epochs : most epochs for each network.
    threshold_rule : the ensemble's own threshold rule on its averaged scores (see :mod:`core.thresholds`).
    random_state : seed of the first network.

    Attributes
    ----------
    Those of :class:`core.base.BaseDetector`, ``members_`` (the fitted autoencoders) and ``scales_``
    (each member's mean score on its normal training rows).
    """

    def __init__(self, n_networks: int = 3, epochs: int = 100, threshold_rule: str = "auto", random_state: int = 0) -> None:
        self.n_networks = n_networks
        self.epochs = epochs
        self.threshold_rule = threshold_rule
        self.random_state = random_state

    _fitted_attribute = "members_"

    def _check_params(self) -> None:
        if not 2 <= int(self.n_networks) <= MAX_NETWORKS:
            raise DataError(f"An ensemble needs 2 to {MAX_NETWORKS} networks, got {self.n_networks}. For one network, train an autoencoder.")
        if int(self.epochs) < 1:
            raise DataError(f"Epochs must be at least 1, got {self.epochs}.")

    def fit(self, X: Any, y: Optional[np.ndarray] = None, *, validation_data: Optional[tuple[Any, Optional[np.ndarray]]] = None,
            hooks=None, stop=None) -> "AutoencoderEnsemble":
        """Fit every member on the normal rows of ``X`` exactly as one autoencoder is fitted, then threshold the mean."""
        from core.detector import AutoencoderDetector

        self._check_params()
        self.__dict__.pop("members_", None)
        started = time.perf_counter()
        members = []
        for m in range(int(self.n_networks)):
            member = AutoencoderDetector(epochs=int(self.epochs), threshold_rule=self.threshold_rule, random_state=int(self.random_state) + 1000 * m)
            members.append(member.fit(X, y, validation_data=validation_data, hooks=hooks, stop=stop))
        self._take_members(members, [float(member.decision_scores_.mean()) or 1.0 for member in members])
        self.decision_scores_ = np.mean([member.decision_scores_ / scale for member, scale in zip(members, self.scales_)], axis=0)
        val_scores = val_y = None
        if validation_data is not None and validation_data[1] is not None:
            val_scores, val_y = self.decision_function(validation_data[0]), np.asarray(validation_data[1])
        self._fit_threshold(val_scores, val_y)
        self.fit_seconds_ = time.perf_counter() - started
        return self

    def _take_members(self, members: list, scales: list[float]) -> None:
        """Hold fitted members; they share their intake (the same rows and scaler give the same preprocessing)."""
        first = members[0]
        self.preprocessor_ = first.preprocessor_
        self.feature_names_in_ = first.feature_names_in_
        self.n_features_in_ = first.n_features_in_
        self.scales_ = list(scales)
        self.members_ = list(members)

    def _score(self, x: np.ndarray) -> np.ndarray:
        return np.mean([member._score(x) / scale for member, scale in zip(self.members_, self.scales_)], axis=0)

    def score_description(self) -> str:
        """What the score adds up, in one sentence (for the UI and reports)."""
        self._check_fitted()
        parts = "; ".join(f"network {i + 1}: {' + '.join(m.score_parts_)}" for i, m in enumerate(self.members_))
        return (f"Anomaly score: the mean of {len(self.members_)} dense autoencoders' scores, each divided by its mean on normal training "
                f"rows ({parts}).")

    @classmethod
    def from_members(cls, members: list, scales: list[float], params: dict[str, Any]) -> "AutoencoderEnsemble":
        """An ensemble of already fitted members (a loaded bundle); the threshold is set by the caller."""
        ensemble = cls(**params)
        ensemble._take_members(members, scales)
        return ensemble

