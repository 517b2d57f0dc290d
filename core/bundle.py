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
import zlib
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Optional, Union


from core.architectures import DENSE_FAMILY
from core.errors import DataError
from core.thresholds import Threshold

SCHEMA_VERSION = 1
MODEL_MEMBER = "model.keras"
META_MEMBER = "detector.json"
MAX_BUNDLE_BYTES = 512 * 1024 * 1024

Dest = Union[str, Path, BinaryIO]


def _version(module: str, *distributions: str) -> str:
    """A library's version without importing it (TensorFlow takes seconds to import)."""
    import sys
    from importlib import metadata

    loaded = sys.modules.get(module)
    if loaded is not None and getattr(loaded, "__version__", None):
        return str(loaded.__version__)
    for name in distributions or (module,):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return "unknown"


def _versions() -> dict[str, str]:
    return {"keras": _version("keras"), "tensorflow": _version("tensorflow", "tensorflow", "tensorflow-cpu", "tensorflow-intel"),
            "numpy": _version("numpy"), "pandas": _version("pandas"), "scikit-learn": _version("sklearn", "scikit-learn")}


def save_bundle(detector, dest: Dest, context: dict[str, Any] | None = None, threshold: Threshold | None = None) -> None:
    """Write ``detector`` (fitted) and ``context`` (label column, normal classes, dataset...) to a zip.

    ``threshold`` replaces the detector's own in the saved file (the one a user
    chose on the Threshold page) without changing the detector in memory.
    """
    from core.autoencoder_state import autoencoder_state
    from core.baseline_bundle import BASELINE_MEMBER, baseline_model_bytes, baseline_state, is_baseline

    from core.ensemble_bundle import ensemble_state, is_ensemble, write_members

    baseline, ensemble = is_baseline(detector), is_ensemble(detector)
    state = baseline_state(detector) if baseline else ensemble_state(detector) if ensemble else autoencoder_state(detector)
    if threshold is not None:
        state["threshold"] = threshold.to_dict()
    meta = {
        "schema_version": SCHEMA_VERSION,
        "kind": "anomaly-lab-detector",
        "saved_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": _versions(),
        "detector": state,
        "context": context or {},
    }
    if ensemble:  # one autoencoder bundle per network (see core.ensemble_bundle)
        with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            write_members(zf, detector)
            zf.writestr(META_MEMBER, json.dumps(meta, indent=1))
        return
    if baseline:  # a scikit-learn model, saved with skops (see core.baseline_bundle)
        with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(BASELINE_MEMBER, baseline_model_bytes(detector))
            zf.writestr(META_MEMBER, json.dumps(meta, indent=1))
        return
    archive = detector.keras_archive() if hasattr(detector, "keras_archive") else None
    if archive is not None:  # loaded from a bundle and not retrained: the same network, without Keras
        with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(MODEL_MEMBER, archive)
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


#: No member of a bundle, nor of the ``.keras`` archive inside it, may unpack to more than this.
MAX_MEMBER_BYTES = MAX_BUNDLE_BYTES
#: A JSON member (detector.json, the model's config.json and metadata.json) is parsed only below this size.
MAX_JSON_BYTES = 32 * 1024 * 1024
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, zlib.error, NotImplementedError, RuntimeError, ValueError)


def load_bundle(source: Union[str, Path, bytes, BinaryIO], max_bytes: Optional[int] = None):
    """Read a bundle; returns ``(detector, context)`` or raises :class:`DataError`.

    ``max_bytes`` caps the uncompressed size of every member and of the whole,
    for the bundle and for the ``.keras`` archive inside it, before anything is
    parsed or extracted (a small file must not inflate to gigabytes); default
    :data:`MAX_MEMBER_BYTES`.
    """
    from core.autoencoder_state import autoencoder_from_state
    from core.baseline_bundle import BASELINE_MEMBER, load_baseline
    from core.ensemble_bundle import load_ensemble, member_name

    max_bytes = MAX_MEMBER_BYTES if max_bytes is None else max_bytes
    if isinstance(source, (bytes, bytearray)):
        source = io.BytesIO(source)
    try:
        zf = zipfile.ZipFile(source)
    except _ZIP_ERRORS:
        raise DataError("This is not a model bundle: it is not a zip file (or it is damaged). Choose a .zip saved by Anomaly Lab.") from None
    with zf:
        names = check_archive(zf, max_bytes, "bundle")
        if META_MEMBER in names and member_name(0) in names:  # several networks (core.ensemble_bundle)
            meta = _read_json(zf, META_MEMBER, "The bundle's")
            validate_bundle_json(meta)
            return load_ensemble(meta["detector"], zf, names, max_bytes), meta.get("context", {})
        if META_MEMBER not in names or (MODEL_MEMBER not in names and BASELINE_MEMBER not in names):
            lacking = META_MEMBER if META_MEMBER not in names else f"the model ({MODEL_MEMBER} for an autoencoder, {BASELINE_MEMBER} for a baseline)"
            raise DataError(f"The bundle lacks {lacking}: a bundle holds {META_MEMBER} and the model. Choose a .zip saved by Anomaly Lab.")
        meta = _read_json(zf, META_MEMBER, "The bundle's")
        baseline = isinstance(meta, dict) and isinstance(meta.get("detector"), dict) and meta["detector"].get("type") == "baseline"
        member = BASELINE_MEMBER if baseline else MODEL_MEMBER
        if member not in names:
            raise DataError(f"The bundle lacks {member}. Choose a .zip saved by Anomaly Lab.")
        model_bytes = _read_member(zf, member)
    validate_bundle_json(meta)
    if baseline:  # a scikit-learn model saved with skops: trusted types only (core.baseline_bundle)
        detector = load_baseline(meta["detector"], model_bytes)
        _smoke_test(detector)
        return detector, meta.get("context", {})
    check_keras_archive(model_bytes, max_bytes)
    forward = None
    if meta["detector"]["params"].get("architecture", "dense") in DENSE_FAMILY:
        from core.dense_forward import DenseForward

        forward = DenseForward.from_keras_archive(model_bytes)
    if forward is None:  # conv1d, LSTM, or anything the NumPy reader does not recognise: Keras reads it
        network = {"model": load_keras_model(model_bytes)}
    else:  # scored in NumPy; Keras reads the archive only if something needs the Keras model
        network = {"archive": model_bytes, "forward": forward}
    try:
        detector = autoencoder_from_state(meta["detector"], **network)
        _smoke_test(detector)
    except DataError:
        raise
    except Exception as exc:  # any mismatch between settings and model is damage, said in words
        raise DataError(f"The bundle's settings do not fit its model ({type(exc).__name__}: {str(exc)[:200]}); the file is damaged.") from None
    return detector, meta.get("context", {})


def load_keras_model(model_bytes: bytes):
    """A ``.keras`` file's bytes as a Keras model, in safe mode (no Lambda or unknown layers); DataError when refused."""
    with tempfile.TemporaryDirectory() as tmp:
        model_path = Path(tmp) / MODEL_MEMBER
        model_path.write_bytes(model_bytes)
        try:
            import keras

            import core.network  # noqa: F401  (registers the variational model's sampling layer)

            return keras.saving.load_model(model_path, safe_mode=True, compile=False)
        except Exception as exc:  # Keras raises many types for damaged or unsafe files
            detail = " ".join(str(exc).split())
            detail = detail if len(detail) <= 300 else detail[:300].rsplit(" ", 1)[0] + " …"
            raise DataError(f"The model inside the bundle could not be loaded safely ({type(exc).__name__}: {detail}). "
                            "Use a bundle saved by Anomaly Lab; custom or Lambda layers are refused.") from None


def check_archive(zf: zipfile.ZipFile, max_bytes: int, what: str) -> list[str]:
    """Member names after refusing unsafe paths and any member (or total) over ``max_bytes`` uncompressed."""
    try:
        infos = zf.infolist()
    except _ZIP_ERRORS:
        raise DataError(f"The {what} is a damaged zip file. Save the model again.") from None
    names = [info.filename for info in infos]
    unsafe = [n for n in names if not _safe_member(n)]
    if unsafe:
        raise DataError(f"The {what} has unsafe file paths ({', '.join(map(repr, unsafe[:3]))}); it was not made by Anomaly Lab and is refused.")
    if len(names) != len(set(names)):
        raise DataError(f"The {what} has a file twice; it was not made by Anomaly Lab and is refused.")
    big = [i for i in infos if i.file_size > max_bytes]
    if big or sum(i.file_size for i in infos) > max_bytes:
        raise DataError(f"The {what} unpacks to more than {max_bytes / 1e6:,.0f} MB ({big[0].filename if big else 'in total'}); "
                        "it was not made by Anomaly Lab and is refused.")
    return names


def _read_member(zf: zipfile.ZipFile, name: str) -> bytes:
    try:
        return zf.read(name)
    except _ZIP_ERRORS as exc:
        raise DataError(f"The bundle is damaged: {name} cannot be unpacked ({type(exc).__name__}). Save the model again.") from None


def _read_json(zf: zipfile.ZipFile, name: str, whose: str) -> Any:
    if zf.getinfo(name).file_size > MAX_JSON_BYTES:
        raise DataError(f"{whose} {name} is larger than {MAX_JSON_BYTES // 2**20} MB; it was not made by Anomaly Lab and is refused.")
    raw = _read_member(zf, name)
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError, ValueError):
        raise DataError(f"{whose} {name} is not valid JSON (or nests too deeply); the file is damaged.") from None


def check_keras_archive(data: bytes, max_bytes: int) -> None:
    """The ``.keras`` file is a zip too: cap its members and check its JSON before Keras parses it."""
    try:
        inner = zipfile.ZipFile(io.BytesIO(data))
    except _ZIP_ERRORS:
        raise DataError(f"The model inside the bundle could not be loaded: {MODEL_MEMBER} is not a Keras archive; the file is damaged.") from None
    with inner:
        names = check_archive(inner, max_bytes, f"bundle's {MODEL_MEMBER}")
        for name in ("config.json", "metadata.json"):
            if name in names:
                _read_json(inner, name, f"The bundle's {MODEL_MEMBER}:")
        for info in inner.infolist():
            if info.file_size and not info.is_dir():
                try:
                    with inner.open(info) as fh:
                        while fh.read(1 << 20):
                            pass
                except _ZIP_ERRORS as exc:
                    raise DataError(f"The bundle's {MODEL_MEMBER} is damaged: {info.filename} cannot be unpacked ({type(exc).__name__}).") from None


def _smoke_test(detector) -> None:
    """Score one made-up row, so a bundle whose parts do not fit together fails here, not later."""
    import numpy as np
    import pandas as pd

    pre = detector.preprocessor_
    row = {c.name: [c.median] for c in pre.numeric}
    row.update({name: [levels[0]] for name, levels in pre.categorical.items()})
    scores = detector.decision_function(pd.DataFrame(row))
    if scores.shape != (1,) or not np.all(np.isfinite(scores)):
        raise DataError("The bundle's model gives no finite score for a typical row; the file is damaged.")


# -- the bundle's JSON: one declarative schema, types and not only keys ----------------------------

NUMBER = (int, float)
_SCHEMA_OPTIONAL = "?"


def _number_list(depth: int = 1):
    return [NUMBER] if depth == 1 else [_number_list(depth - 1)]


NUMERIC_COLUMN = {"name": str, "median": NUMBER, "kind": str, "a": NUMBER, "b": NUMBER, "knots": [NUMBER], "probs": [NUMBER], "lam?": NUMBER}
PREPROCESSOR = {"scaler": str, "numeric": [NUMERIC_COLUMN], "categorical": {str: [str]}, "findings": [str], "feature_names": [str], "dropped": [str]}
STORED_ARRAY = {"shape": [int], "float32_base64": str}
DETECTOR = {
    "params": {str: (int, float, str, bool, type(None), list)},
    "preprocessor": PREPROCESSOR,
    "feature_names_in": [str],
    "history": {str: [NUMBER]},
    "epochs_run": int,
    "best_epoch": int,
    "best_val_loss": NUMBER,
    "stopped_by_user": bool,
    "early_stopped?": bool,
    "fit_seconds": NUMBER,
    "threshold": Threshold.SCHEMA,
    "score_parts?": [str],
    "score_selection?": {str: NUMBER},
    "score_stats": {"latent_mean": [NUMBER], "latent_precision": _number_list(2), "cell_error_scale": [NUMBER], "latent_scale": NUMBER,
                    "reference_codes?": STORED_ARRAY, "neighbour_scale?": NUMBER, "cell_reference?": STORED_ARRAY, "tail_scale?": NUMBER,
                    "value_reference?": STORED_ARRAY, "tails_scale?": NUMBER},
    "train_scores": [NUMBER],
}
CONTEXT = {
    "dataset?": {"name?": str, "sha256?": str, "rows?": int, "columns?": int},
    "label?": (str, type(None)),
    "normal_classes?": [(str, int, float, bool)],
    "features?": [str],
    "split_seed?": int,
}
BASELINE = {
    "type": str,
    "key": str,
    "params": {str: (int, float, str, bool, type(None), list)},
    "preprocessor": PREPROCESSOR,
    "feature_names_in": [str],
    "fit_seconds": NUMBER,
    "threshold": Threshold.SCHEMA,
    "train_scores": [NUMBER],
}
BUNDLE = {"schema_version": int, "kind": str, "saved_at?": str, "versions?": {str: str}, "detector": DETECTOR, "context?": CONTEXT}
BASELINE_BUNDLE = {**BUNDLE, "detector": BASELINE}
#: Known objects allow no other keys, except these (a newer writer may add context, versions, params).
OPEN_OBJECTS = ("context", "versions", "params")


def _type_name(spec) -> str:
    if isinstance(spec, dict):
        return "an object"
    if isinstance(spec, list):
        return "a list"
    names = {int: "a whole number", float: "a number", str: "text", bool: "true/false", type(None): "null", list: "a list"}
    specs = spec if isinstance(spec, tuple) else (spec,)
    return " or ".join(dict.fromkeys(names.get(t, t.__name__) for t in specs))


def _check(value: Any, spec, path: str) -> None:
    """Raise DataError unless ``value`` matches ``spec`` (a type or tuple, ``[spec]`` or ``{key: spec}``)."""
    def wrong() -> DataError:
        return DataError(f"The bundle's JSON is damaged: {path} must be {_type_name(spec)}, not {type(value).__name__}. Save the model again.")

    if isinstance(spec, list):
        if not isinstance(value, list):
            raise wrong()
        for i, item in enumerate(value):
            _check(item, spec[0], f"{path}[{i}]")
        return
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            raise wrong()
        if len(spec) == 1 and next(iter(spec)) is str:  # a mapping: text keys, uniform values
            item_spec = spec[str]
            for key, item in value.items():
                _check(item, item_spec, f"{path}.{key}")
            return
        for key, item_spec in spec.items():
            name = key.rstrip(_SCHEMA_OPTIONAL)
            if name in value:
                _check(value[name], item_spec, f"{path}.{name}")
            elif not key.endswith(_SCHEMA_OPTIONAL):
                raise DataError(f"The bundle's JSON is damaged: {path}.{name} is missing. Save the model again.")
        known = {k.rstrip(_SCHEMA_OPTIONAL) for k in spec}
        extra = [k for k in value if k not in known]
        if extra and path.rsplit(".", 1)[-1] not in OPEN_OBJECTS:
            raise DataError(f"The bundle's JSON has unknown field(s) in {path}: {', '.join(map(repr, extra[:5]))}; it was not made by this version of Anomaly Lab.")
        return
    types = spec if isinstance(spec, tuple) else (spec,)
    if isinstance(value, bool) and bool not in types:
        raise wrong()
    if not isinstance(value, types):
        raise wrong()


def validate_bundle_json(meta: Any) -> None:
    """The bundle's JSON against :data:`BUNDLE` (types, not only keys), plus the values a type cannot say."""
    import math

    if not isinstance(meta, dict) or meta.get("kind") != "anomaly-lab-detector":
        raise DataError("The bundle's JSON is not an Anomaly Lab detector description.")
    version = meta.get("schema_version")
    if version != SCHEMA_VERSION:
        raise DataError(f"The bundle has schema version {version!r}; this version of Anomaly Lab reads version {SCHEMA_VERSION}. Re-save the model with this version.")
    kind = meta["detector"].get("type") if isinstance(meta.get("detector"), dict) else None
    if kind not in (None, "baseline", "ensemble"):  # an autoencoder's state has no type
        raise DataError(f"The bundle's detector type {str(kind)[:40]!r} is not one this version of Anomaly Lab reads (an autoencoder, a "
                        "baseline or an ensemble); the file was changed or made by a newer version. Save the model again.")
    if kind == "ensemble":  # its own fields and each network's bundle are checked by core.ensemble_bundle
        _check({k: v for k, v in meta.items() if k != "detector"}, {k: v for k, v in BUNDLE.items() if k != "detector"}, "bundle")
        return
    baseline = kind == "baseline"
    _check(meta, BASELINE_BUNDLE if baseline else BUNDLE, "bundle")
    state = meta["detector"]
    value = state["threshold"]["value"]
    if not math.isfinite(value):
        raise DataError(f"The bundle's threshold is {value}, not a finite number, so nothing could be flagged. Save the model again with a threshold.")
    if baseline:
        pre = state["preprocessor"]
        if any(not math.isfinite(x) for column in pre["numeric"] for x in (column["median"], column["a"], column["b"], *column["knots"], *column["probs"])):
            raise DataError("The bundle's scaling holds a non-finite number; the file is damaged.")
        return
    from core.preprocess import SCALERS
    from core.score_stats import NETWORK_PARTS, SCORE_PARTS

    parts = state.get("score_parts", list(NETWORK_PARTS))
    if not parts or any(p not in SCORE_PARTS for p in parts) or len(set(parts)) != len(parts):
        raise DataError(f"The bundle's score parts {parts!r} are not a non-empty choice of {', '.join(SCORE_PARTS)}; the file is damaged.")
    pre = state["preprocessor"]
    if pre["scaler"] not in SCALERS or any(c["kind"] not in SCALERS for c in pre["numeric"]):
        raise DataError(f"The bundle's scaler is not one of {', '.join(SCALERS)}; the file is damaged.")
    stats = state["score_stats"]
    n_outputs = len(pre["numeric"]) + sum(len(levels) for levels in pre["categorical"].values())
    n_code = len(stats["latent_mean"])
    if len(stats["cell_error_scale"]) != n_outputs or len(stats["latent_precision"]) != n_code or any(len(r) != n_code for r in stats["latent_precision"]):
        raise DataError(f"The bundle's settings do not fit its model (score statistics for {len(stats['cell_error_scale'])} columns and a "
                        f"{n_code}-wide code, preprocessing for {n_outputs} columns); the file is damaged.")
    reference = stats.get("cell_reference")
    if reference is not None and (len(reference["shape"]) != 2 or reference["shape"][1] != n_outputs or reference["shape"][0] < 1):
        raise DataError(f"The bundle's reference errors have shape {reference['shape']}, not (rows, {n_outputs}); the file is damaged.")
    values = stats.get("value_reference")
    if values is not None and (len(values["shape"]) != 2 or values["shape"][1] != n_outputs or values["shape"][0] < 1):
        raise DataError(f"The bundle's reference values have shape {values['shape']}, not (rows, {n_outputs}); the file is damaged.")
    if "tails" in parts and values is None:
        raise DataError("The bundle's score uses the tails part but holds no reference values for it; the file is damaged.")
    for column in pre["numeric"]:
        numbers = [column["median"], column["a"], column["b"], *column["knots"], *column["probs"]]
        if not all(math.isfinite(x) for x in numbers):
            raise DataError(f"The bundle's scaling of '{column['name']}' holds a non-finite number; the file is damaged.")


def _validate_meta(meta: Any) -> None:
    """Kept for callers of the old name."""
    validate_bundle_json(meta)
