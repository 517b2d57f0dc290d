"""An HTTP service over one bundle: MLflow's scoring protocol plus the autoencoder's own endpoints.

``python -m core serve model.zip`` starts it on uvicorn. Limits are checked before
any parsing (``Content-Length``, then bytes counted while the body streams in,
then rows or lines); a user-fixable problem answers 4xx with the library's
message; anything else answers a generic 500 and logs its traceback on the
server only. The model is read-only after start-up, so requests share no
mutable state; the network runs in the thread pool so the event loop stays free.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from core.errors import DataError
from core.served_model import (
    NotAvailable,
    ServedModel,
    TooManyRows,
    codes_from_frame,
    frame_from_csv,
    frame_from_json,
    records,
)
from core.serving_schema import REQUEST_DOC, RESPONSES, request_examples

log = logging.getLogger("anomaly_lab.serve")
API_VERSION = "1"


@dataclass(frozen=True)
class Limits:
    """What one request may carry; checked before parsing."""

    max_body_bytes: int = 16 * 1024 * 1024
    max_rows: int = 50_000
    #: requests computing at once (the rest wait their turn); 0 = one per CPU core
    model_threads: int = 0


class BodyTooLarge(Exception):
    pass


class UnsupportedType(DataError):
    pass


def _error(status: int, code: str, message: str) -> JSONResponse:
    """MLflow's error shape: ``{"error_code": ..., "message": ...}``."""
    return JSONResponse({"error_code": code, "message": message}, status_code=status)


class Guard:
    """ASGI middleware: refuses an oversized ``Content-Length`` before the app reads a byte,
    turns any unexpected exception into a generic 500, and logs one line per request."""

    def __init__(self, app, limits: Limits) -> None:
        self.app, self.limits = app, limits

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        scope.setdefault("state", {})["rows"] = None
        status = {"code": 500, "sent": False}

        async def send_logged(message) -> None:
            if message["type"] == "http.response.start":
                status["code"], status["sent"] = message["status"], True
            await send(message)

        try:
            length = dict(scope.get("headers", [])).get(b"content-length")
            if length is not None and (not length.isdigit() or int(length) > self.limits.max_body_bytes):
                response = _error(413, "REQUEST_LIMIT_EXCEEDED", f"The body is larger than {self.limits.max_body_bytes:,} bytes, "
                                  "the limit of this service. Send fewer rows per request.")
                await response(scope, receive, send_logged)
            else:
                await self.app(scope, receive, send_logged)
        except Exception:
            log.exception("unexpected error on %s %s", scope.get("method"), scope.get("path"))
            if not status["sent"]:
                await _error(500, "INTERNAL_ERROR", "Internal error; the server log has the details.")(scope, receive, send_logged)
        rows = scope["state"].get("rows")
        log.info("%s %s rows=%s status=%s ms=%.1f", scope.get("method"), scope.get("path"), "-" if rows is None else rows,
                 status["code"], (time.perf_counter() - start) * 1000)


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, counted while it streams in (a client may lie about or omit Content-Length)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"The body is larger than {limit:,} bytes, the limit of this service. Send fewer rows per request.")
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(model: ServedModel, limits: Limits = Limits()) -> FastAPI:
    """The FastAPI app over ``model``; ``uvicorn.run(create_app(...))`` serves it."""
    app = FastAPI(
        title="Anomaly Lab model service",
        version=API_VERSION,
        description=("Scores rows with one Anomaly Lab bundle. `POST /invocations` follows MLflow's scoring protocol "
                     "(`dataframe_split`, `dataframe_records` or a CSV body with `Content-Type: text/csv`). "
                     f"Limits: {limits.max_body_bytes:,} bytes and {limits.max_rows:,} rows per request. "
                     "Errors answer `{\"error_code\", \"message\"}`."),
    )

    app.add_middleware(Guard, limits=limits)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:  # pragma: no cover - Guard answers first
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _error(500, "INTERNAL_ERROR", "Internal error; the server log has the details.")

    def rows_of(request: Request, body: bytes, kind: str):
        """The request's rows as a table (in a worker thread: parsing a large body must not block the loop)."""
        if kind in ("text/csv", "application/csv"):
            frame = frame_from_csv(body, limits.max_rows, limits.max_body_bytes)
        elif kind in ("application/json", ""):
            try:
                payload = json.loads(body)
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise DataError(f"The body is not valid JSON ({exc}).") from None
            frame = frame_from_json(payload, limits.max_rows)
        else:
            raise UnsupportedType(f"Content-Type {kind!r} is not supported; send application/json or text/csv.")
        if len(frame) > limits.max_rows:
            raise TooManyRows(f"The request has {len(frame):,} rows; at most {limits.max_rows:,} rows per request. Split it into smaller requests.")
        request.scope["state"]["rows"] = len(frame)
        return frame

    def endpoint(path: str, summary: str, kind: str) -> Callable:
        def register(compute: Callable[[Any], dict[str, Any]]) -> Callable:
            def work(request: Request, body: bytes, content_type: str) -> bytes:
                answer = compute(rows_of(request, body, content_type))
                return json.dumps(answer, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")

            async def handler(request: Request) -> Response:
                try:
                    if kind != "score":
                        model.require(path.strip("/"))
                    body = await _read_body(request, limits.max_body_bytes)
                    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
                    async with slots:
                        answer = await run_in_threadpool(work, request, body, content_type)
                except BodyTooLarge as exc:
                    return _error(413, "REQUEST_LIMIT_EXCEEDED", str(exc))
                except TooManyRows as exc:
                    return _error(413, "REQUEST_LIMIT_EXCEEDED", str(exc))
                except UnsupportedType as exc:
                    return _error(415, "UNSUPPORTED_MEDIA_TYPE", str(exc))
                except NotAvailable as exc:
                    return _error(404, "NOT_AVAILABLE", str(exc))
                except DataError as exc:
                    return _error(422 if request.scope["state"].get("rows") is not None else 400, "BAD_REQUEST", str(exc))
                return Response(answer, media_type="application/json")

            handler.__name__ = path.strip("/") or "root"
            app.add_api_route(path, handler, methods=["POST"], summary=summary, description=REQUEST_DOC,
                              responses=RESPONSES[path.strip("/")], openapi_extra=request_examples(model, path.strip("/")))
            return compute
        return register

    threshold = model.threshold.as_dict()
    slots = asyncio.Semaphore(limits.model_threads or os.cpu_count() or 1)

    def predictions(frame) -> dict[str, Any]:
        outputs = model.outputs(model.score(model.validate(frame)))
        columns = {name: values.tolist() for name, values in outputs.items()}
        return {"predictions": [dict(zip(columns, row)) for row in zip(*columns.values())], "threshold": threshold}

    endpoint("/invocations", "Score rows (MLflow scoring protocol)", "score")(predictions)
    endpoint("/anomaly_score", "Score rows (same answer as /invocations)", "score")(predictions)

    @endpoint("/reconstruct", "Each row as the network rebuilds it, in the file's units", "reconstruct")
    def _reconstruct(frame) -> dict[str, Any]:
        return {"reconstructions": records(model.reconstruct(model.validate(frame)))}

    @endpoint("/encode", "Each row's code (the bottleneck)", "encode")
    def _encode(frame) -> dict[str, Any]:
        return {"code_names": model.code_names, "codes": model.encode(model.validate(frame)).tolist()}

    @endpoint("/decode", "Codes back to rows in the file's units", "decode")
    def _decode(frame) -> dict[str, Any]:
        return {"rows": records(model.decode(codes_from_frame(frame, model.code_names)))}

    @endpoint("/explain", "Each feature's share of each row's reconstruction error", "explain")
    def _explain(frame) -> dict[str, Any]:
        out = model.explain(model.validate(frame))
        columns = {name: values.tolist() for name, values in model.outputs(out["scores"]).items()}
        return {"explanations": [
            {**dict(zip(columns, scored)), "reconstruction_error": e, "errors": err, "shares": share}
            for *scored, e, err, share in zip(*columns.values(), out["error"].tolist(), records(out["errors"]), records(out["shares"]))
        ], "threshold": threshold}

    @app.get("/ping", response_class=PlainTextResponse, summary="Liveness (MLflow): 200 with a newline")
    async def ping() -> str:
        return "\n"

    @app.get("/health", summary="Readiness: the model is loaded and answers")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "model": type(model.detector).__name__, "threshold": model.threshold.value}

    @app.get("/version", summary="Versions of the service and the libraries it runs on")
    async def version() -> dict[str, Any]:
        return {"api": API_VERSION, **_library_versions()}

    @app.get("/metadata", summary="Features and their types, label and normal classes, threshold and its rule, training date, data hash, versions")
    async def metadata() -> dict[str, Any]:
        return {**model.metadata(), "limits": asdict(limits), "serving_with": _library_versions()}

    return app


def _library_versions() -> dict[str, str]:
    import fastapi
    import keras
    import pandas
    import sklearn

    return {"python": platform.python_version(), "keras": keras.__version__, "numpy": np.__version__, "pandas": pandas.__version__,
            "scikit-learn": sklearn.__version__, "fastapi": fastapi.__version__}


def serve(bundle: str, host: str = "127.0.0.1", port: int = 8000, threshold: float | None = None, limits: Limits = Limits()) -> None:
    """Load ``bundle`` once, then serve it until interrupted (one process; scale with more processes)."""
    import uvicorn

    model = ServedModel.from_bundle(bundle, threshold=threshold)
    print(f"serving {bundle} ({type(model.detector).__name__}, threshold {model.threshold.value:.6g} from the {model.threshold.source}) "
          f"on http://{host}:{port}", file=sys.stderr, flush=True)
    uvicorn.run(create_app(model, limits), host=host, port=port, access_log=False, log_level="info", log_config=_log_config())


def _log_config() -> dict[str, Any]:
    """Uvicorn's logging set-up plus the service's one line per request, with a timestamp."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["requests"] = {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    config["handlers"]["requests"] = {"class": "logging.StreamHandler", "formatter": "requests", "stream": "ext://sys.stderr"}
    config["loggers"][log.name] = {"handlers": ["requests"], "level": "INFO", "propagate": False}
    return config
