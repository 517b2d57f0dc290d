"""One fitted detector behind the small surface that serving, Spark and MLflow need.

The adapter is the only code outside the detector that knows what a detector
offers: every detector scores rows (``decision_function`` + ``threshold_``);
an autoencoder also reconstructs, encodes, decodes and explains. Asking a
detector for what it lacks raises :class:`NotAvailable` with a plain message.
Nothing here is mutated after construction, so one instance serves many
threads.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.errors import DataError

#: Every detector answers these; the rest need an autoencoder.
SCORING = ("anomaly_score",)
AUTOENCODER_ONLY = ("reconstruct", "encode", "decode", "explain")


class NotAvailable(Exception):
    """The loaded detector cannot do what was asked (a baseline has no decoder)."""


def band_in_use(raw: bytes, threshold: float | None) -> float | None:
    """Where the review band saved in a bundle starts, as :class:`ServedModel` uses it (none under a threshold given
    instead of the bundle's: the band was chosen below the saved one), read from the JSON alone (Spark's driver)."""
    if threshold is not None:
        return None
    stored = _bundle_meta(raw).get("detector", {}).get("threshold", {}).get("review_from")
    return None if stored is None else float(stored)


@dataclass(frozen=True)
class ThresholdInUse:
    """The threshold answers use, where it came from, and the review band saved with it (rows scoring above
    ``review_from``, up to the threshold, go to a person; None: no band)."""

    value: float
    rule: str
    reason: str
    source: str  # "bundle" or "override"
    review_from: float | None = None

    def as_dict(self) -> dict[str, Any]:
        out = {"value": self.value, "rule": self.rule, "reason": self.reason, "source": self.source}
        return out if self.review_from is None else {**out, "review_from": self.review_from}


@dataclass(frozen=True)
class Feature:
    name: str
    kind: str  # "number" or "string"
    levels: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.kind}
        if self.levels:
            out["levels"] = list(self.levels)
        return out


def _bundle_meta(raw: bytes) -> dict[str, Any]:
    """The bundle's JSON (already validated by ``load_bundle``), for dates and versions."""
    from core.bundle import META_MEMBER

    with zipfile.ZipFile(BytesIO(raw)) as zf:
        return json.loads(zf.read(META_MEMBER).decode("utf-8"))


class ServedModel:
    """A read-only detector with its bundle's context and the threshold in use.

    Parameters
    ----------
    detector : fitted; needs ``decision_function``, ``threshold_`` and ``preprocessor_``.
    context : the bundle's context (label, normal classes, dataset name and hash).
    threshold : overrides the detector's ``threshold_`` when given.
    meta : the bundle's JSON (saved_at, versions), when loaded from a bundle.
    bundle_sha256 : hash of the bundle's bytes, when loaded from a bundle.
    """

    def __init__(self, detector, context: dict[str, Any] | None = None, threshold: float | None = None,
                 meta: dict[str, Any] | None = None, bundle_sha256: str | None = None) -> None:
        self.detector = detector
        self.context = dict(context or {})
        self.meta = dict(meta or {})
        self.bundle_sha256 = bundle_sha256
        if threshold is not None:
            if not np.isfinite(threshold):
                raise DataError(f"The threshold must be a finite number, got {threshold!r}.")
            self.threshold = ThresholdInUse(float(threshold), "manual", "set with --threshold when the service started", "override")
        else:
            saved = detector.fitted_threshold
            self.threshold = ThresholdInUse(float(saved.value), str(saved.rule), str(saved.reason), "bundle", saved.review_from)
        pre = detector.preprocessor_
        numeric = {c.name for c in pre.numeric}
        self.features = tuple(Feature(n, "number") if n in numeric else Feature(n, "string", tuple(pre.categorical.get(n, ())))
                              for n in pre.required_columns)
        self.numeric_names = [f.name for f in self.features if f.kind == "number"]
        label = self.context.get("label")
        known = set(self.context.get("features", [])) | set(map(str, getattr(detector, "feature_names_in_", [])))
        self.carried = sorted((known | ({label} if label else set())) - {f.name for f in self.features})
        self.capabilities = SCORING + tuple(c for c in AUTOENCODER_ONLY if self._can(c))
        self._decoder = self._build_decoder() if "decode" in self.capabilities else None
        if self._decoder is None:
            self.capabilities = tuple(c for c in self.capabilities if c != "decode")
        self._warm_up()
        _compile_forward(detector)

    @classmethod
    def from_bundle(cls, source: str | Path | bytes, threshold: float | None = None) -> ServedModel:
        """Load a bundle (safely: no pickle, Keras safe mode) and wrap it."""
        from core.bundle import load_bundle

        raw = bytes(source) if isinstance(source, (bytes, bytearray)) else _read_bundle_file(Path(source))
        detector, context = load_bundle(raw)
        return cls(detector, context, threshold, meta=_bundle_meta(raw), bundle_sha256=hashlib.sha256(raw).hexdigest())

    # -- what the detector offers ----------------------------------------------------------
    def _can(self, capability: str) -> bool:
        det = self.detector
        if capability == "explain":
            return hasattr(det, "score_parts") and hasattr(det, "split_by_feature")
        if capability == "reconstruct":  # an ensemble's: its networks' mean rebuild
            return hasattr(det, "reconstruct")
        return hasattr(det, "encode") and hasattr(det, "code_size_")

    def _build_decoder(self):
        """The network from its code to its output.

        A variational model's sampled code is its mean outside training, so its
        decoder is the chain of layers after the sampling layer. The dense family
        decodes in NumPy (:mod:`core.dense_forward`), without Keras.
        """
        forward = self.detector.dense_forward()
        if forward is not None:
            return lambda codes, training=False: forward.decode(codes)
        import keras

        model = self.detector.model_
        try:
            return keras.Model(model.get_layer("code").output, model.output)
        except ValueError:  # the output also depends on the log-variance branch
            pass
        names = [layer.name for layer in model.layers]
        if "sampled_code" not in names:
            return None
        code = x = keras.Input(shape=(int(model.get_layer("code").units),), name="code_in")
        for layer in model.layers[names.index("sampled_code") + 1:]:
            x = layer(x)
        return keras.Model(code, x)

    def require(self, capability: str) -> None:
        if capability not in self.capabilities:
            kind = getattr(self.detector, "name", type(self.detector).__name__)
            if capability == "decode" and "encode" in self.capabilities:
                why = "it has no decoder that takes the code alone"
            elif hasattr(self.detector, "members_"):
                why = (f"it averages the scores of {len(self.detector.members_)} autoencoders, and each reads a row through a code of its own, "
                       "so there is no one code to encode to or decode from (its /reconstruct and /explain give the networks' mean rebuild and errors)")
            else:
                why = "only autoencoders reconstruct, encode, decode and explain"
            extra = [f"/{c}" for c in AUTOENCODER_ONLY if c in self.capabilities]
            answers = ", ".join(["/invocations", "/anomaly_score", *extra][:-1]) + " and " + (["/invocations", "/anomaly_score", *extra][-1])
            raise NotAvailable(f"This model ({kind}) cannot {capability}: {why}. It answers {answers}.")

    @property
    def code_size(self) -> int:
        self.require("encode")
        return int(self.detector.code_size_)

    @property
    def code_names(self) -> list[str]:
        return [f"code_{i}" for i in range(self.code_size)]

    def example_row(self) -> dict[str, Any]:
        """A typical row (numeric medians, first text level): warm-up and the OpenAPI examples."""
        pre = self.detector.preprocessor_
        medians = {c.name: c.median for c in pre.numeric}
        return {f.name: (round(float(medians[f.name]), 6) if f.kind == "number" else (f.levels[0] if f.levels else "")) for f in self.features}

    def _warm_up(self) -> None:
        """Build every lazy attribute now, so requests only read shared state."""
        row = pd.DataFrame([self.example_row()])
        self.score(self.validate(row))
        if "explain" in self.capabilities:
            self.explain(self.validate(row))
        if "decode" in self.capabilities:
            self.decode(np.zeros((1, self.code_size), np.float32))

    # -- input checks ----------------------------------------------------------------------
    def validate(self, frame: pd.DataFrame, allow_extra: bool = False) -> pd.DataFrame:
        """The model's columns, numbers parsed; :class:`DataError` names what is wrong."""
        columns = [str(c) for c in frame.columns]
        needed = [f.name for f in self.features]
        missing = [c for c in needed if c not in columns]
        if missing:
            raise DataError(f"The rows lack column(s) the model needs: {', '.join(map(repr, missing))}. "
                            f"Send every feature column: {', '.join(map(repr, needed))}.")
        extra = [c for c in columns if c not in needed and c not in self.carried]
        if extra and not allow_extra:
            raise DataError(f"The rows have column(s) the model does not know: {', '.join(map(repr, extra[:10]))}. "
                            "Send only the model's feature columns (see GET /metadata).")
        data = {}
        for feature in self.features:
            values = frame[feature.name]
            data[feature.name] = _as_numbers(values, feature.name) if feature.kind == "number" else _as_text(values)
        return pd.DataFrame(data, index=pd.RangeIndex(len(frame)))

    # -- answers ---------------------------------------------------------------------------
    def score(self, rows: pd.DataFrame) -> np.ndarray:
        """Anomaly scores of validated rows, in one call (as ``python -m core score`` does)."""
        return np.asarray(self.detector.decision_function(rows), dtype=np.float64)

    def flags(self, scores: np.ndarray) -> np.ndarray:
        return (scores > self.threshold.value).astype(np.int8)

    @property
    def columns(self) -> tuple[str, ...]:
        """What :meth:`outputs` gives, in order."""
        from core.scoring import score_columns

        return score_columns(self.threshold.review_from)

    def outputs(self, scores: np.ndarray) -> dict[str, np.ndarray]:
        """Every column scoring adds (:data:`core.scoring.SCORE_COLUMNS`): the scores, the flags and, with a review band,
        ``for_review`` (0/1)."""
        from core.scoring import REVIEW_COLUMN, for_review

        out = {"anomaly_score": scores, "is_anomaly": self.flags(scores)}
        if self.threshold.review_from is not None:
            out[REVIEW_COLUMN] = for_review(scores, self.threshold.value, self.threshold.review_from)
        return out

    def reconstruct(self, rows: pd.DataFrame) -> pd.DataFrame:
        """Each row as the network rebuilds it, in the file's units."""
        self.require("reconstruct")
        return self._to_file_units(self.detector.reconstruct(rows))

    def encode(self, rows: pd.DataFrame) -> np.ndarray:
        self.require("encode")
        return np.asarray(self.detector.encode(rows), dtype=np.float64)

    def decode(self, codes: np.ndarray) -> pd.DataFrame:
        """Codes back to rows in the file's units; a text feature gets its most likely level."""
        self.require("decode")
        codes = np.asarray(codes, dtype=np.float32)
        if codes.ndim != 2 or codes.shape[1] != self.code_size:
            raise DataError(f"Each code needs {self.code_size} numbers ({', '.join(self.code_names)}); got {codes.shape[-1] if codes.ndim else 0}.")
        if not np.isfinite(codes).all():
            raise DataError("Codes must be finite numbers (no NaN or infinity).")
        return self._to_file_units(np.asarray(self._decoder(codes, training=False)))

    def explain(self, rows: pd.DataFrame) -> dict[str, Any]:
        """Score, reconstruction error and each feature's share of that error (one network pass)."""
        self.require("explain")
        parts = self.detector.score_parts(rows)
        errors = self.detector.split_by_feature(parts["cell_error"])
        total = np.asarray(parts["reconstruction_error"], dtype=np.float64)
        shares = errors.to_numpy(dtype=np.float64) / np.where(total > 0, total, 1.0)[:, None]
        return {"scores": np.asarray(parts["score"], dtype=np.float64), "errors": errors, "error": total,
                "shares": pd.DataFrame(shares, columns=errors.columns)}

    def _to_file_units(self, network_rows: np.ndarray) -> pd.DataFrame:
        pre = self.detector.preprocessor_
        network_rows = np.asarray(network_rows, dtype=np.float64)
        out = pre.inverse_numeric(network_rows[:, :len(pre.numeric)]) if pre.numeric else pd.DataFrame(index=range(len(network_rows)))
        start = len(pre.numeric)
        for name, levels in pre.categorical.items():
            block = network_rows[:, start:start + len(levels)]
            out[name] = np.asarray(levels, dtype=object)[block.argmax(axis=1)]
            start += len(levels)
        return out[[f.name for f in self.features]]

    def metadata(self) -> dict[str, Any]:
        det, ctx = self.detector, self.context
        dataset = ctx.get("dataset", {})
        return {
            "model": type(det).__name__,
            "features": [f.as_dict() for f in self.features],
            "carried_columns": self.carried,
            "label": ctx.get("label"),
            "normal_classes": ctx.get("normal_classes", []),
            "threshold": self.threshold.as_dict(),
            "bundle_threshold": float(det.threshold_),
            "score": det.score_description() if hasattr(det, "score_description") else "Higher is more abnormal.",
            "trained_at": self.meta.get("saved_at"),
            "data": {"name": dataset.get("name"), "sha256": dataset.get("sha256"), "rows": dataset.get("rows")},
            "bundle_sha256": self.bundle_sha256,
            "trained_with": self.meta.get("versions", {}),
            "capabilities": list(self.capabilities),
            "code_size": self.code_size if "encode" in self.capabilities else None,
        }


class _CompiledOutputs:
    """The detector's direct network call, traced once with ``tf.function``.

    Same kernels, same numbers (checked bit for bit in the tests), but about a
    tenth of eager Keras's per-call overhead, which dominates small requests.
    ``predict`` (used for large batches) is the model's own.
    """

    def __init__(self, outputs_model) -> None:
        import tensorflow as tf

        self.model = outputs_model
        width = int(outputs_model.input_shape[-1])
        self._call = tf.function(lambda x: outputs_model(x, training=False), input_signature=[tf.TensorSpec([None, width], tf.float32)])

    def __call__(self, x, training: bool = False):
        return self._call(x)

    def predict(self, *args, **kwargs):
        return self.model.predict(*args, **kwargs)


def _compile_forward(detector) -> None:
    """Swap in the traced call where the detector keeps its two-output model (autoencoders after warm-up).

    An optimisation only: a detector without that attribute scores as before, and the
    dense family, scored in NumPy, needs none (and must not import TensorFlow for it).
    """
    if getattr(detector, "dense_forward", lambda: None)() is not None:
        return
    outputs = getattr(detector, "_outputs_model", None)
    if outputs is None:  # a baseline or an ensemble: nothing to trace, and no reason to import Keras
        return
    import keras

    if isinstance(outputs, keras.Model) and len(outputs.input_shape) == 2:
        compiled = _CompiledOutputs(outputs)
        compiled(np.zeros((1, int(outputs.input_shape[-1])), np.float32))
        detector._outputs_model = compiled


def _read_bundle_file(path: Path) -> bytes:
    from core.bundle import MAX_BUNDLE_BYTES

    if not path.is_file():
        raise DataError(f"Model bundle not found: {path}. Check the path.")
    if path.stat().st_size > MAX_BUNDLE_BYTES:
        raise DataError(f"The bundle {path.name} is larger than {MAX_BUNDLE_BYTES // 2**20} MB; it was not made by Anomaly Lab.")
    return path.read_bytes()


_PLAIN_NUMBERS = {int, float, np.float64, np.float32, np.int64, np.int32}


def _as_numbers(values: pd.Series, name: str) -> np.ndarray:
    """A numeric feature as float64: empty cells are missing (imputed); text, booleans and infinity are refused."""
    if pd.api.types.is_bool_dtype(values):
        raise DataError(f"Column {name!r} needs numbers, not true/false.")
    if pd.api.types.is_numeric_dtype(values):
        out = values.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        objects = values.to_numpy(dtype=object)
        present = ~pd.isna(objects)
        if set(map(type, objects[present])) <= _PLAIN_NUMBERS:  # the usual JSON request: numbers and nulls
            out = np.where(present, objects, np.nan).astype(np.float64)
        else:
            out = _parse_numbers(objects, present, name)
    bad = np.flatnonzero(np.isinf(out))
    if len(bad):
        raise DataError(f"Column {name!r} has {len(bad)} infinite value(s) (first in row {bad[0] + 1}). "
                        "Send finite numbers, or null for a missing value.")
    return out


def _parse_numbers(objects: np.ndarray, present: np.ndarray, name: str) -> np.ndarray:
    """Numbers sent as text ("1.5") are read; anything else names its first row."""
    out = np.full(len(objects), np.nan)
    wrong = []
    for i in np.flatnonzero(present):
        value = objects[i]
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (str, int, float, np.number)):
            wrong.append(i)
            continue
        if isinstance(value, str) and (not value.strip() or value.strip().lower() == "nan"):
            continue
        try:
            out[i] = float(value)
        except ValueError:
            wrong.append(i)
    if wrong:
        raise DataError(f"Column {name!r} needs numbers; row {wrong[0] + 1} has {str(objects[wrong[0]])[:40]!r} "
                        f"({len(wrong)} such row(s)). Send numbers, or null for a missing value.")
    return out


def _as_text(values: pd.Series) -> np.ndarray:
    """A text feature as objects; a missing cell stays missing (NaN), as the CSV reader leaves it."""
    objects = values.to_numpy(dtype=object)
    present = ~pd.isna(objects)
    if not set(map(type, objects[present])) <= {str}:
        bad = [i for i in np.flatnonzero(present) if isinstance(objects[i], (list, dict))]
        if bad:
            raise DataError(f"Column {values.name!r} needs text; row {bad[0] + 1} has a list or object.")
    return np.where(present, objects, np.nan)


def frame_from_json(payload: Any, max_rows: int) -> pd.DataFrame:
    """MLflow's JSON shapes: ``dataframe_split`` or ``dataframe_records``; rows counted before building."""
    if not isinstance(payload, dict):
        raise DataError("The JSON body must be an object with 'dataframe_split' or 'dataframe_records'.")
    keys = [k for k in ("dataframe_split", "dataframe_records") if k in payload]
    if len(keys) != 1:
        raise DataError("The JSON body needs exactly one of 'dataframe_split' or 'dataframe_records' "
                        f"(got {', '.join(map(repr, list(payload)[:5])) or 'no key'}).")
    if keys[0] == "dataframe_split":
        split = payload["dataframe_split"]
        if not isinstance(split, dict) or not isinstance(split.get("columns"), list) or not isinstance(split.get("data"), list):
            raise DataError("'dataframe_split' needs 'columns' (a list of names) and 'data' (a list of rows).")
        columns, data = [str(c) for c in split["columns"]], split["data"]
        _check_rows(len(data), max_rows)
        for i, row in enumerate(data):
            if not isinstance(row, list) or len(row) != len(columns):
                raise DataError(f"Row {i + 1} of 'data' must be a list of {len(columns)} values, one per column.")
        if len(set(columns)) != len(columns):
            raise DataError("'columns' names a column twice; each name must be unique.")
        return pd.DataFrame(data, columns=columns, dtype=object) if data else pd.DataFrame(columns=columns)
    records = payload["dataframe_records"]
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise DataError("'dataframe_records' must be a list of objects, one per row.")
    _check_rows(len(records), max_rows)
    return pd.DataFrame.from_records(records).astype(object) if records else pd.DataFrame()


def frame_from_csv(body: bytes, max_rows: int, max_bytes: int) -> pd.DataFrame:
    """A CSV body, read by the same reader as training; lines counted before parsing."""
    from core.data import read_table

    _check_rows(max(body.count(b"\n") - 1, 0) if body.endswith(b"\n") else body.count(b"\n"), max_rows, "lines")
    return read_table(body, name="request body", max_bytes=max_bytes).frame


class TooManyRows(DataError):
    """More rows than one request may carry."""


def _check_rows(n: int, max_rows: int, what: str = "rows") -> None:
    if n > max_rows:
        raise TooManyRows(f"The request has {n:,} {what}; at most {max_rows:,} rows per request. Split it into smaller requests.")
    if n == 0 and what == "rows":
        raise DataError("The request has no rows. Send at least one row.")


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts (NaN becomes null)."""
    clean = frame.astype(object).where(frame.notna(), None)
    return [dict(zip(clean.columns, (v.item() if isinstance(v, np.generic) else v for v in row))) for row in clean.itertuples(index=False, name=None)]


def codes_from_frame(frame: pd.DataFrame, names: Sequence[str]) -> np.ndarray:
    """The code columns of a decode request, as numbers."""
    missing = [n for n in names if n not in frame.columns]
    extra = [c for c in frame.columns if c not in names]
    if missing or extra:
        raise DataError(f"A code has the columns {', '.join(names)}; "
                        + (f"missing {', '.join(map(repr, missing))}" if missing else f"unknown {', '.join(map(repr, map(str, extra[:10])))}") + ".")
    return np.column_stack([_as_numbers(frame[n], n) for n in names]) if len(frame) else np.empty((0, len(names)))
