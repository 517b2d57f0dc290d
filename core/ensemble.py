"""Several autoencoders on the same rows, their scores averaged: the measured way past one network's luck.

Each member is an :class:`core.detector.AutoencoderDetector` (the default dense one unless ``network`` says
otherwise) with its own seed (s, s + 1000, …), so it starts from other weights, sees the rows in another order and
makes its own ``score="auto"`` part choice on the validation rows. Each member's scores are divided by their mean on
its normal training rows (every member's score then averages 1 on normal rows, whatever parts it adds) and the
quotients are averaged. Measured in the README ("An ensemble of default detectors"): level with or ahead of one
network on all fifteen table-and-seed groups, for three times the fit and about 1.5 times the scoring. Not the
default for that cost: the Train page ("Networks"), the Compare page and the command line (``--networks 3``) offer it.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np
import pandas as pd

from core.base import BaseDetector
from core.errors import DataError

MAX_NETWORKS = 10


class EnsembleTrainer:
    """An ensemble's networks trained one after another, resumable as one network's :class:`core.training.Trainer` is.

    Each network is begun (its data and layers built) only when the one before has finished, so the Train page's
    live view reads the network being trained through ``state`` and ``epochs``, and a click that interrupts a run
    resumes in the same network. A stop (or a failure) ends the ensemble with the networks that finished (see :meth:`AutoencoderEnsemble.end_fit`).
    """

    def __init__(self, n_networks: int, begin_network: Callable[[int], Any]) -> None:
        self.n_networks = n_networks
        self._begin_network = begin_network
        self.members: list = [begin_network(0)]

    @property
    def network(self) -> int:
        """The network being trained, 1-based."""
        return len(self.members)

    @property
    def _current(self):
        return self.members[-1].trainer_

    @property
    def state(self):
        """The training state of the network being trained."""
        return self._current.state

    @property
    def epochs(self) -> int:
        return self._current.epochs

    @property
    def seconds(self) -> float:
        """Training seconds of every network so far."""
        return sum(member.trainer_.state.seconds for member in self.members)

    @property
    def finished_states(self) -> list:
        """The states of the networks trained before the one running."""
        return [member.trainer_.state for member in self.members[:-1]]

    @property
    def _ended(self) -> bool:
        """Whether the ensemble ends with the network running: a stop, a failure, or the last network."""
        state = self.state
        return state.failure is not None or state.stopped_by_user or self.network == self.n_networks

    @property
    def finished(self) -> bool:
        return self._current.finished and self._ended

    def run(self, hooks=None, stop=None):
        """Train until every network is done, or a stop; returns the last network's state."""
        while True:
            state = self._current.run(hooks=hooks, stop=stop)
            if not self._current.finished or self._ended:
                return state
            self.members.append(self._begin_network(self.network))

    def stop(self) -> None:
        """Stop the network being trained; the ones after it are not trained."""
        self._current.stop()

    def trace_ahead(self) -> None:
        self._current.trace_ahead()


class AutoencoderEnsemble(BaseDetector):
    """The mean of ``n_networks`` autoencoders' scaled scores.

    Parameters
    ----------
    n_networks : how many networks (2 to 10); network m is seeded ``random_state + 1000·m``.
    epochs : most epochs for each network.
    threshold_rule : the ensemble's own threshold rule on its averaged scores (see :mod:`core.thresholds`).
    random_state : seed of the first network.
    network : the other parameters of every network (:class:`core.detector.AutoencoderDetector`'s), None for its
        defaults: the ensemble measured in the README is of default dense networks.

    Attributes
    ----------
    Those of :class:`core.base.BaseDetector`, ``members_`` (the fitted autoencoders) and ``scales_``
    (each member's mean score on its normal training rows).
    """

    def __init__(self, n_networks: int = 3, epochs: int = 100, threshold_rule: str = "auto", random_state: int = 0,
                 network: Optional[dict[str, Any]] = None) -> None:
        self.n_networks = n_networks
        self.epochs = epochs
        self.threshold_rule = threshold_rule
        self.random_state = random_state
        self.network = network

    _fitted_attribute = "members_"
    #: The ensemble's own parameters, which its networks take from it (or, the seed, from it and their place).
    OWN = ("epochs", "threshold_rule", "random_state")

    def _check_params(self) -> None:
        from core.detector import AutoencoderDetector

        if not 2 <= int(self.n_networks) <= MAX_NETWORKS:
            raise DataError(f"An ensemble needs 2 to {MAX_NETWORKS} networks, got {self.n_networks}. For one network, train an autoencoder.")
        if int(self.epochs) < 1:
            raise DataError(f"Epochs must be at least 1, got {self.epochs}.")
        unknown = sorted(set(self.network or {}) - set(AutoencoderDetector._get_param_names()) | set(self.network or {}) & set(self.OWN))
        if unknown:
            raise DataError(f"An ensemble's networks take autoencoder parameters other than {', '.join(self.OWN)} (the ensemble's own); "
                            f"not {', '.join(map(repr, unknown))}.")

    @property
    def architecture(self) -> str:
        return (self.network or {}).get("architecture", "dense")

    def fit(self, X: Any, y: Optional[np.ndarray] = None, *, validation_data: Optional[tuple[Any, Optional[np.ndarray]]] = None,
            hooks=None, stop=None) -> "AutoencoderEnsemble":
        """Fit every network on the normal rows of ``X`` exactly as one autoencoder is fitted, then threshold the mean.
        (A ``stop`` during the first network leaves that network alone, which is then returned: see :meth:`end_fit`.)"""
        self.begin_fit(X, y, validation_data=validation_data)
        self.trainer_.run(hooks=hooks, stop=stop)
        return self.end_fit()

    def begin_fit(self, X: Any, y: Optional[np.ndarray] = None, *, validation_data=None) -> "AutoencoderEnsemble":
        """Begin the first network; then call ``trainer_.run`` (any number of times) and :meth:`end_fit`."""
        self._check_params()
        self.__dict__.pop("members_", None)
        self._fit_data = (X, y, validation_data)
        self.trainer_ = EnsembleTrainer(int(self.n_networks), self._begin_network)
        return self

    def _begin_network(self, m: int):
        from core.detector import AutoencoderDetector

        X, y, validation_data = self._fit_data
        network = AutoencoderDetector(**{**(self.network or {}), "epochs": int(self.epochs), "threshold_rule": self.threshold_rule,
                                         "random_state": int(self.random_state) + 1000 * m})
        return network.begin_fit(X, y, validation_data=validation_data)

    def end_fit(self):
        """Finish the networks that finished, scale and average their scores, and threshold the mean.

        Ended early (a Stop or a failure), the ensemble holds the networks that finished before it, each with its best
        weights: a network cut off after an epoch or two would weigh as much as the others. ``n_networks`` then says how
        many are held, ``networks_asked_`` how many were asked for and ``ended_in_`` in which network the training ended.
        When only one network is held (the first finished, or the first cut short, as far as it got), it is the model and
        is returned instead, with those attributes set on it."""
        begun = self.trainer_.members
        finished = [member for member in begun if _completed(member)]
        kept = finished or begun[:1]
        members = [member.end_fit() for member in kept]  # the first raises, in words, when it has no epoch
        asked = int(self.n_networks)
        last = begun[-1].trainer_.state
        ended_by = "Stop" if last.stopped_by_user else ("a failure" if last.failure is not None else "")
        if len(members) == 1:
            model = members[0]
            model.networks_asked_, model.ended_in_, model.ended_by_ = asked, len(begun), ended_by  # what the summary says of the others
            return model
        self.ended_in_, self.ended_by_ = len(begun), ended_by
        self.networks_asked_ = asked
        self.n_networks = len(members)
        _, _, validation_data = self._fit_data
        del self._fit_data, self.trainer_
        self._take_members(members, [float(member.decision_scores_.mean()) or 1.0 for member in members])
        self.decision_scores_ = np.mean([member.decision_scores_ / scale for member, scale in zip(members, self.scales_)], axis=0)
        val_scores = val_y = None
        if validation_data is not None and validation_data[1] is not None:
            val_scores, val_y = self.decision_function(validation_data[0]), np.asarray(validation_data[1])
        self._fit_threshold(val_scores, val_y)
        self.fit_seconds_ = float(sum(member.fit_seconds_ for member in members))
        return self

    def _take_members(self, members: list, scales: list[float]) -> None:
        """Hold fitted members; they share their intake (the same rows and scaler give the same preprocessing)."""
        self._take_intake(members[0].preprocessor_, members[0].feature_names_in_)
        self.scales_ = list(scales)
        self.members_ = list(members)
        self._tails_from = self._tails_sources()

    def _tails_sources(self) -> list[Optional[int]]:
        """For each network whose score reads the tails part, the first network that reads it from the same normal values
        (under core.column_tails.MAX_QUANTILE_ROWS normal training rows always: the seed then draws no sample); None for
        a network that does not read it."""
        readers = [m for m, member in enumerate(self.members_) if "tails" in member.score_parts_]
        return [next(j for j in readers if j == m or self.members_[m].score_stats_.reads_tails_like(self.members_[j].score_stats_))
                if m in readers else None for m in range(len(self.members_))]

    def _score(self, x: np.ndarray) -> np.ndarray:
        """The mean of the networks' scaled scores. The tails part reads the rows, not a network: it is computed once for
        the networks that read it from the same normal values (a sixth of an ensemble of three's scoring)."""
        tails: dict[int, np.ndarray] = {}
        scores = []
        for member, scale, source in zip(self.members_, self.scales_, self._tails_from):
            if source is not None and source not in tails:
                tails[source] = self.members_[source].score_stats_.tails(x)
            scores.append(member._score(x, tails=None if source is None else tails[source]) / scale)
        return np.mean(scores, axis=0)

    def score_parts(self, X: Any) -> dict[str, np.ndarray]:
        """What the score is made of, for explaining a row: every network's reconstruction and per-cell errors averaged
        (the networks share their intake, so their cells line up), each network's scaled score (``network_scores``, one
        column a network) and their mean, the score. ``codes`` are the first network's: each network has its own code space."""
        from core.losses import elementwise_loss

        self._check_fitted()
        x = self.transform_features(X)
        recon_sum = cells_sum = codes = None
        network_scores = np.empty((len(x), len(self.members_)))
        for m, (member, scale) in enumerate(zip(self.members_, self.scales_)):
            recon, member_codes = member._network_outputs(x)
            cells = elementwise_loss(member.loss, x, recon)
            network_scores[:, m] = member._combine(cells, member_codes, values=x) / scale
            recon_sum = recon if recon_sum is None else recon_sum + recon  # running sums: one extra matrix, not one a network
            cells_sum = cells if cells_sum is None else cells_sum + cells
            codes = member_codes if codes is None else codes
        n = len(self.members_)
        cell_error = cells_sum / n
        return {"x": x, "reconstruction": recon_sum / n, "codes": codes, "cell_error": cell_error, "reconstruction_error": cell_error.mean(axis=1),
                "network_scores": network_scores, "score": network_scores.mean(axis=1)}

    def reconstruct(self, X: Any) -> np.ndarray:
        """The networks' mean output for each row, in network space (what Inspect draws against the row)."""
        self._check_fitted()
        x = self.transform_features(X)
        return np.mean([member._network_outputs(x)[0] for member in self.members_], axis=0)

    def split_by_feature(self, cell_error: np.ndarray) -> pd.DataFrame:
        """Each input feature's share of the networks' mean per-cell error (rows sum to the mean reconstruction loss)."""
        return self.members_[0].split_by_feature(cell_error)

    @property
    def tails_member(self):
        """The first network whose score reads the tails part, or None: its table of normal training values speaks for
        every network's (each is read from the same normal training rows)."""
        return next((member for member in self.members_ if "tails" in member.score_parts_), None)

    def score_description(self) -> str:
        """What the score adds up, in one sentence (for the UI and reports)."""
        self._check_fitted()
        parts = "; ".join(f"network {i + 1}: {' + '.join(m.score_parts_)}" for i, m in enumerate(self.members_))
        return (f"Anomaly score: the mean of {len(self.members_)} {self.architecture} autoencoders' scores, each divided by its mean on normal "
                f"training rows ({parts}).")

    @classmethod
    def from_members(cls, members: list, scales: list[float], params: dict[str, Any]) -> "AutoencoderEnsemble":
        """An ensemble of already fitted members (a loaded bundle); the threshold is set by the caller. Without a
        ``network`` in ``params``, the first member's parameters that differ from the autoencoder's defaults are it."""
        if "network" not in params:
            params = {**params, "network": network_params(members[0])}
        ensemble = cls(**params)
        ensemble._take_members(members, scales)
        return ensemble


def _completed(member) -> bool:
    """Whether a network ran to its own end (early stopping or its last epoch), not cut short by a Stop or a failure."""
    state = member.trainer_.state
    return member.trainer_.finished and not state.stopped_by_user and state.failure is None


def stopped_early(detector) -> str:
    """Why a trained ensemble (or the one network left of it) holds fewer networks than were asked for, in a
    sentence; '' when it holds them all."""
    asked = getattr(detector, "networks_asked_", None)
    kept = len(getattr(detector, "members_", [detector]))
    if asked is None or asked <= kept:
        return ""
    ended_in, ended_by = getattr(detector, "ended_in_", kept), getattr(detector, "ended_by_", "") or "Stop"
    if ended_in == kept:  # cut short in the first network, which is kept as far as it got
        return f"Of the {asked} networks asked for, {ended_by} ended the training in network 1: this network alone is the model"
    model = "network 1 alone" if kept == 1 else f"the {kept} networks finished before it"
    return (f"Of the {asked} networks asked for, {ended_by} ended the training in network {ended_in}, which is left out "
            f"unfinished: the model is {model}")


def network_params(member) -> Optional[dict[str, Any]]:
    """A network's parameters other than the ensemble's own and its defaults (None when all are defaults)."""
    from core.detector import AutoencoderDetector

    defaults = AutoencoderDetector().get_params()
    own = {name: value for name, value in member.get_params().items() if name not in AutoencoderEnsemble.OWN and value != defaults[name]}
    return own or None
