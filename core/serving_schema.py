"""The service's OpenAPI text: request bodies with examples built from the model's own
features, and response schemas with examples. Kept apart so ``core.serve`` reads as the service."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

REQUEST_DOC = (
    "Rows in one of MLflow's shapes: `{\"dataframe_split\": {\"columns\": [...], \"data\": [[...], ...]}}`, "
    "`{\"dataframe_records\": [{...}, ...]}`, or a CSV body with `Content-Type: text/csv` (read exactly as training "
    "read its file). Numeric features take numbers or null (missing, imputed with the training median); text "
    "features take text. Columns the model does not know are refused, except the training label and unused "
    "training columns, which are ignored. Answers keep the input's row order."
)


class Error(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": {"error_code": "BAD_REQUEST", "message": "The rows lack column(s) the model needs: 'rpm'. Send every feature column: ..."}})
    error_code: str = Field(description="BAD_REQUEST, REQUEST_LIMIT_EXCEEDED, UNSUPPORTED_MEDIA_TYPE, NOT_AVAILABLE or INTERNAL_ERROR")
    message: str = Field(description="What is wrong and how to fix it")


class ThresholdOut(BaseModel):
    value: float
    rule: str
    reason: str
    source: str = Field(description="'bundle', or 'override' when the service was started with --threshold")
    review_from: float | None = Field(None, description="Where the review band saved with the model starts (absent without one, and under --threshold)")


class Prediction(BaseModel):
    anomaly_score: float = Field(description="Higher is more abnormal")
    is_anomaly: int = Field(description="1 when anomaly_score > threshold, else 0")
    for_review: int | None = Field(None, description="With a review band saved with the model: 1 when review_from < anomaly_score <= threshold, else 0")


_THRESHOLD = {"value": 3.21, "rule": "max_f1", "reason": "highest F1 on the validation rows", "source": "bundle"}


class Predictions(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": {"predictions": [{"anomaly_score": 1.02, "is_anomaly": 0}, {"anomaly_score": 7.9, "is_anomaly": 1}], "threshold": _THRESHOLD}})
    predictions: list[Prediction]
    threshold: ThresholdOut


class Reconstructions(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": {"reconstructions": [{"machine": "pump_a", "rpm": 1987.5, "power_kw": 9.1}]}})
    reconstructions: list[dict[str, Any]] = Field(description="Each row rebuilt, in the file's units; a text feature gets its most likely level")


class Codes(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": {"code_names": ["code_0", "code_1"], "codes": [[0.41, -1.2]]}})
    code_names: list[str]
    codes: list[list[float]]


class Decoded(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": {"rows": [{"machine": "pump_b", "rpm": 2012.0, "power_kw": 9.4}]}})
    rows: list[dict[str, Any]]


class Explanation(BaseModel):
    anomaly_score: float
    is_anomaly: int
    for_review: int | None = Field(None, description="As in a prediction: only with a review band")
    reconstruction_error: float = Field(description="The row's reconstruction loss; 'errors' add up to it")
    errors: dict[str, float | None] = Field(description="Each feature's part of the reconstruction error")
    shares: dict[str, float | None] = Field(description="Each feature's share of the reconstruction error (sums to 1)")


class Explanations(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": {"explanations": [{"anomaly_score": 7.9, "is_anomaly": 1, "reconstruction_error": 0.8,
                                                                                "errors": {"rpm": 0.6, "power_kw": 0.2}, "shares": {"rpm": 0.75, "power_kw": 0.25}}],
                                                             "threshold": _THRESHOLD}})
    explanations: list[Explanation]
    threshold: ThresholdOut


_ERRORS = {
    400: {"model": Error, "description": "The body could not be read (not JSON, not CSV, wrong shape)"},
    413: {"model": Error, "description": "Body or row count over the service's limits"},
    415: {"model": Error, "description": "Content-Type other than application/json or text/csv"},
    422: {"model": Error, "description": "Rows that do not fit the model: missing or unknown columns, wrong types, infinite values"},
    500: {"model": Error, "description": "Unexpected; the server log has the details, the answer has none"},
}
_NOT_AVAILABLE = {404: {"model": Error, "description": "This model cannot do this (a baseline has no network)"}}

RESPONSES: dict[str, dict] = {
    "invocations": {200: {"model": Predictions}, **_ERRORS},
    "anomaly_score": {200: {"model": Predictions}, **_ERRORS},
    "reconstruct": {200: {"model": Reconstructions}, **_NOT_AVAILABLE, **_ERRORS},
    "encode": {200: {"model": Codes}, **_NOT_AVAILABLE, **_ERRORS},
    "decode": {200: {"model": Decoded}, **_NOT_AVAILABLE, **_ERRORS},
    "explain": {200: {"model": Explanations}, **_NOT_AVAILABLE, **_ERRORS},
}


def request_examples(model, name: str) -> dict[str, Any]:
    """The request body's schema and examples, using the model's own feature names."""
    if name == "decode" and "decode" in model.capabilities:
        row = {n: 0.0 for n in model.code_names}
    else:
        row = model.example_row()
    columns = list(row)
    csv = ",".join(columns) + "\n" + ",".join(str(v) for v in row.values()) + "\n"
    return {"requestBody": {"required": True, "content": {
        "application/json": {
            "schema": {"type": "object", "properties": {
                "dataframe_split": {"type": "object", "properties": {"columns": {"type": "array", "items": {"type": "string"}},
                                                                     "data": {"type": "array", "items": {"type": "array", "items": {}}}}},
                "dataframe_records": {"type": "array", "items": {"type": "object"}}}},
            "examples": {
                "dataframe_split": {"summary": "columns + rows", "value": {"dataframe_split": {"columns": columns, "data": [list(row.values())]}}},
                "dataframe_records": {"summary": "one object per row", "value": {"dataframe_records": [row]}},
            },
        },
        "text/csv": {"schema": {"type": "string"}, "example": csv},
    }}}
