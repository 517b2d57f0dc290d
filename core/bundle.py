"""Save and load a fitted detector as one zip: the model plus a JSON of everything else.

No pickle: a bundle a user uploads can only contain a ``.keras`` model (loaded
with ``safe_mode=True``) or, for a classical baseline, a ``skops`` file loaded
with an explicit list of trusted types (:mod:`core.baseline_bundle`), and JSON,
all checked before use.
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Union

import keras

from core.errors import DataError
from core.thresholds import Threshold

SCHEMA_VERSION = 1
MODEL_MEMBER = "model.keras"
META_MEMBER = "detector.json"
MAX_BUNDLE_BYTES = 512 * 1024 * 1024

Dest = Union[str, Path, BinaryIO]


def _versions() -> dict[str, str]:
    import numpy
    import pandas
    import sklearn

    import tensorflow

    return {"keras": keras.__version__, "tensorflow": tensorflow.__version__, "numpy": numpy.__version__, "pandas": pandas.__version__, "scikit-learn": sklearn.__version__}


def save_bundle(detector, dest: Dest, context: dict[str, Any] | None = None, threshold: Threshold | None = None) -> None:
    """Write ``detector`` (fitted) and ``context`` (label column, normal classes, dataset...) to a zip.

    ``threshold`` replaces the detector's own in the saved file (the one a user
    chose on the Threshold page) without changing the detector in memory.
    """
    from core.autoencoder_state import autoencoder_state
    from core.baseline_bundle import BASELINE_MEMBER, baseline_model_bytes, baseline_state, is_baseline

    baseline = is_baseline(detector)
    state = baseline_state(detector) if baseline else autoencoder_state(detector)
    if threshold is not None:
        state["threshold"] = {"value": float(threshold.value), "rule": threshold.rule, "reason": threshold.reason}
    meta = {
        "schema_version": SCHEMA_VERSION,
        "kind": "anomaly-lab-detector",
        "saved_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": _versions(),
        "detector": state,
        "context": context or {},
    }
    if baseline:  # a scikit-learn model, saved with skops (see core.baseline_bundle)
        with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(BASELINE_MEMBER, baseline_model_bytes(detector))
            zf.writestr(META_MEMBER, json.dumps(meta, indent=1))
        return
    with tempfile.TemporaryDirectory() as tmp:
        model_path = Path(tmp) / MODEL_MEMBER
        detector.model_.save(model_path)
        with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.write(model_path, MODEL_MEMBER)
            zf.writestr(META_MEMBER, json.dumps(meta, indent=1))


def bundle_bytes(detector, context: dict[str, Any] | None = None, threshold: Threshold | None = None) -> bytes:
    buffer = io.BytesIO()
    save_bundle(detector, buffer, context, threshold)
    return buffer.getvalue()


def _safe_member(name: str) -> bool:
    path = PurePosixPath(name.replace("\\", "/"))
    return not path.is_absolute() and ".." not in path.parts and not (len(name) > 1 and name[1] == ":")


def load_bundle(source: Union[str, Path, bytes, BinaryIO]):
    """Read a bundle; returns ``(detector, context)`` or raises :class:`DataError`."""
    from core.autoencoder_state import autoencoder_from_state
    from core.baseline_bundle import BASELINE_MEMBER, load_baseline

    if isinstance(source, (bytes, bytearray)):
        source = io.BytesIO(source)
    try:
        zf = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError):
        raise DataError("This is not a model bundle: it is not a zip file. Choose a .zip saved by Anomaly Lab.") from None
    with zf:
        names = zf.namelist()
        unsafe = [n for n in names if not _safe_member(n)]
        if unsafe:
            raise DataError(f"The bundle has unsafe file paths ({', '.join(unsafe[:3])}); it was not made by Anomaly Lab and is refused.")
        if sum(info.file_size for info in zf.infolist()) > MAX_BUNDLE_BYTES:
            raise DataError("The bundle unpacks to more than 512 MB; it was not made by Anomaly Lab and is refused.")
        if META_MEMBER not in names or (MODEL_MEMBER not in names and BASELINE_MEMBER not in names):
            raise DataError(f"The bundle lacks {META_MEMBER} or {MODEL_MEMBER}. Choose a .zip saved by Anomaly Lab.")
        try:
            meta = json.loads(zf.read(META_MEMBER).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise DataError(f"The bundle's {META_MEMBER} is not valid JSON; the file is damaged.") from None
        _validate_meta(meta)
        if meta["detector"].get("type") == "baseline":  # skops model, trusted types only
            if BASELINE_MEMBER not in names:
                raise DataError(f"The bundle lacks {BASELINE_MEMBER}. Choose a .zip saved by Anomaly Lab.")
            return load_baseline(meta["detector"], zf.read(BASELINE_MEMBER)), meta.get("context", {})
        if MODEL_MEMBER not in names:
            raise DataError(f"The bundle lacks {META_MEMBER} or {MODEL_MEMBER}. Choose a .zip saved by Anomaly Lab.")
        with tempfile.TemporaryDirectory() as tmp:
            model_path = Path(tmp) / MODEL_MEMBER
            model_path.write_bytes(zf.read(MODEL_MEMBER))
            try:
                model = keras.saving.load_model(model_path, safe_mode=True, compile=False)
            except Exception as exc:  # Keras raises many types for damaged or unsafe files
                raise DataError(f"The model inside the bundle could not be loaded safely ({type(exc).__name__}: {str(exc)[:200]}).") from None
    try:
        detector = autoencoder_from_state(meta["detector"], model)
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"The bundle's settings do not fit its model ({exc}); the file is damaged.") from None
    return detector, meta.get("context", {})


def _validate_meta(meta: Any) -> None:
    if not isinstance(meta, dict) or meta.get("kind") != "anomaly-lab-detector":
        raise DataError("The bundle's JSON is not an Anomaly Lab detector description.")
    version = meta.get("schema_version")
    if version != SCHEMA_VERSION:
        raise DataError(f"The bundle has schema version {version!r}; this version of Anomaly Lab reads version {SCHEMA_VERSION}. Re-save the model with this version.")
    if not isinstance(meta.get("detector"), dict) or not isinstance(meta.get("context", {}), dict):
        raise DataError("The bundle's JSON lacks the detector settings; the file is damaged.")
