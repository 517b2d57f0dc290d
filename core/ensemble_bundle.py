"""An ensemble in a bundle: one complete autoencoder bundle per network, and a JSON of how they are averaged.

Each member is written and read by the autoencoder's own bundle code (:mod:`core.bundle`), so it passes every
check a single model passes (safe Keras loading, JSON types, sizes); a member may only be an autoencoder, never
another ensemble or a baseline, so reading cannot nest.
"""

from __future__ import annotations

import math
import zipfile
from typing import Any

import numpy as np

from core.errors import DataError
from core.thresholds import Threshold

ENSEMBLE_TYPE = "ensemble"
ENSEMBLE = {"type": str, "params": {str: (int, float, str, bool, type(None), list)}, "scales": [(int, float)], "fit_seconds": (int, float),
            "threshold": Threshold.SCHEMA, "train_scores": [(int, float)]}


def member_name(i: int) -> str:
    return f"network_{i + 1}.zip"


def is_ensemble(detector: Any) -> bool:
    from core.ensemble import AutoencoderEnsemble

    return isinstance(detector, AutoencoderEnsemble)


def ensemble_state(detector) -> dict[str, Any]:
    """Everything but the networks, as JSON."""
    from core.autoencoder_state import stored_train_scores

    params = {name: value for name, value in detector.get_params().items() if name != "network"}  # each network's bundle holds its own
    return {"type": ENSEMBLE_TYPE, "params": params, "scales": [float(s) for s in detector.scales_],
            "fit_seconds": float(getattr(detector, "fit_seconds_", 0.0)), "threshold": detector.fitted_threshold.to_dict(),
            # the ensemble's own scores of its normal training rows, for label-free rules (each member keeps its own, sorted)
            "train_scores": stored_train_scores(detector.decision_scores_).tolist()}


def write_members(zf: zipfile.ZipFile, detector) -> None:
    """Each member as its own autoencoder bundle (its own fitted threshold; the ensemble's is in the JSON)."""
    from core.bundle import bundle_bytes

    for i, member in enumerate(detector.members_):
        zf.writestr(member_name(i), bundle_bytes(member))


def load_ensemble(state: dict[str, Any], zf: zipfile.ZipFile, names: list[str], max_bytes: int):
    """The ensemble a bundle's JSON describes, its members read from ``zf``; DataError when anything does not fit."""
    from core.bundle import _check, _read_member, load_bundle
    from core.detector import AutoencoderDetector
    from core.ensemble import MAX_NETWORKS, AutoencoderEnsemble

    _check(state, ENSEMBLE, "bundle.detector")
    scales = state["scales"]
    if not 2 <= len(scales) <= MAX_NETWORKS or any(not math.isfinite(s) or s <= 0 for s in scales):
        raise DataError(f"The bundle's ensemble has {len(scales)} scale(s), not 2 to {MAX_NETWORKS} positive numbers; the file is damaged.")
    if not state["train_scores"] or any(not math.isfinite(s) for s in state["train_scores"]):
        raise DataError("The bundle's training scores are empty or not finite; the file is damaged.")
    if not math.isfinite(state["threshold"]["value"]):
        raise DataError("The bundle's threshold is not a finite number, so nothing could be flagged. Save the model again with a threshold.")
    _check_layout(state, names, len(scales))
    members, budget = [], max_bytes  # what every network unpacks to, together, is bounded as one bundle is
    for i in range(len(scales)):
        name = member_name(i)
        if name not in names:
            raise DataError(f"The bundle lacks {name}, one of the ensemble's {len(scales)} networks. Choose a .zip saved by Anomaly Lab.")
        raw = _read_member(zf, name)
        nested, size = _peek(raw)
        if nested:
            raise DataError(f"The bundle's {name} is itself an ensemble; an ensemble holds single networks only, so the file is refused.")
        if size > budget:
            raise DataError(f"The bundle's networks unpack to more than {max_bytes / 1e6:,.1f} MB together; it was not made by Anomaly Lab and is refused.")
        try:
            member, _ = load_bundle(raw, budget)
        except DataError as exc:  # said of the network inside, not of the file the user chose
            raise DataError(f"The bundle's {name}, one of its {len(scales)} networks, cannot be read: {exc}") from None
        budget -= size
        if not isinstance(member, AutoencoderDetector):
            raise DataError(f"The bundle's {name} is not an autoencoder; an ensemble holds autoencoders only, so the file is refused.")
        members.append(member)
    first = members[0].preprocessor_.to_dict()
    if any(m.preprocessor_.to_dict() != first for m in members[1:]):
        raise DataError("The bundle's networks read their columns differently; they were not fitted together, so the file is damaged.")
    params = {k: v for k, v in state["params"].items() if k in AutoencoderEnsemble._get_param_names()}
    ensemble = AutoencoderEnsemble.from_members(members, [float(s) for s in scales], {**params, "n_networks": len(members)})
    ensemble.set_threshold(Threshold.from_dict(state["threshold"]))
    ensemble.fit_seconds_ = float(state["fit_seconds"])
    ensemble.decision_scores_ = np.asarray(state["train_scores"], dtype=np.float64)
    return ensemble


def _check_layout(state: dict[str, Any], names: list[str], n: int) -> None:
    """The networks the JSON counts (its scales, and n_networks where given) are exactly the networks in the zip."""
    from core.bundle import META_MEMBER

    declared = state["params"].get("n_networks", n)
    expected = {member_name(i) for i in range(n)}
    present = {name for name in names if name != META_MEMBER}
    if declared != n or present != expected:
        found = ", ".join(sorted(present)[:12]) or "none"
        raise DataError(f"The bundle's ensemble does not add up: {n} scale(s), n_networks {declared!r}, and these files beside "
                        f"{META_MEMBER}: {found}. It was changed after it was saved and is refused; save the model again.")


def _peek(raw: bytes) -> tuple[bool, int]:
    """Whether a member zip's JSON says it is an ensemble (read before loading it, so nesting never recurses), and what
    it unpacks to by its entries' declared sizes (which its loading enforces), in one opening. (False, 0) for what is
    no readable zip or JSON: its loading then says what is wrong, in words."""
    import io
    import json

    from core.bundle import META_MEMBER, MAX_JSON_BYTES, _ZIP_ERRORS

    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as inner:
            size = sum(info.file_size for info in inner.infolist())
            if META_MEMBER not in inner.namelist() or inner.getinfo(META_MEMBER).file_size > MAX_JSON_BYTES:
                return False, size
            meta = json.loads(inner.read(META_MEMBER).decode("utf-8"))
    except (*_ZIP_ERRORS, UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return False, 0
    nested = isinstance(meta, dict) and isinstance(meta.get("detector"), dict) and meta["detector"].get("type") == ENSEMBLE_TYPE
    return nested, size
