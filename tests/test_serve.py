"""The HTTP service: MLflow's scoring protocol, the autoencoder's endpoints, limits and errors."""

import asyncio
import json
import logging
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from core.cli import main
from core.serve import Limits, create_app
from core.served_model import ServedModel
from tests.serving_fixtures import SAMPLE, running_server, shared_bundle

LIMITS = Limits(max_body_bytes=1_000_000, max_rows=4000)


@pytest.fixture(scope="module")
def bundle():
    return shared_bundle()


@pytest.fixture(scope="module")
def model(bundle):
    return ServedModel.from_bundle(bundle)


@pytest.fixture(scope="module")
def client(model):
    return TestClient(create_app(model, LIMITS), raise_server_exceptions=False)


@pytest.fixture(scope="module")
def rows():
    return pd.read_csv(SAMPLE).head(40)


def split_of(frame):
    return {"dataframe_split": {"columns": list(frame.columns), "data": frame.astype(object).where(frame.notna(), None).values.tolist()}}


def scores_of(response):
    assert response.status_code == 200, response.text
    return np.array([p["anomaly_score"] for p in response.json()["predictions"]])


def test_csv_body_scores_are_bit_identical_to_the_score_command(client, bundle, tmp_path):
    out = tmp_path / "scored.csv"
    assert main(["score", str(bundle), str(SAMPLE), "--out", str(out)]) == 0
    expected = pd.read_csv(out)
    answer = client.post("/invocations", content=SAMPLE.read_bytes(), headers={"Content-Type": "text/csv"})
    assert np.array_equal(scores_of(answer), expected["anomaly_score"].to_numpy())
    assert [p["is_anomaly"] for p in answer.json()["predictions"]] == expected["is_anomaly"].tolist()


def test_json_shapes_answer_the_same_scores_in_input_order(client, model, rows):
    split = scores_of(client.post("/invocations", json=split_of(rows)))
    records = scores_of(client.post("/invocations", json={"dataframe_records": json.loads(rows.to_json(orient="records"))}))
    csv = scores_of(client.post("/anomaly_score", content=rows.to_csv(index=False), headers={"Content-Type": "text/csv"}))
    direct = model.score(model.validate(rows))
    assert np.array_equal(split, direct) and np.array_equal(records, direct) and np.array_equal(csv, direct)
    reversed_scores = scores_of(client.post("/invocations", json=split_of(rows.iloc[::-1])))
    np.testing.assert_allclose(reversed_scores[::-1], direct, rtol=1e-6)


def test_missing_cells_are_imputed_like_the_file_reader(client, model, rows):
    holes = rows.copy()
    holes.loc[holes.index[:5], "rpm"] = np.nan
    holes.loc[holes.index[5:9], "machine"] = None
    answer = scores_of(client.post("/invocations", json=split_of(holes)))
    via_csv = scores_of(client.post("/invocations", content=holes.to_csv(index=False), headers={"Content-Type": "text/csv"}))
    assert np.isfinite(answer).all() and np.array_equal(answer, via_csv)


def test_reconstruct_encode_decode_and_explain_answer_in_file_units(client, model, rows):
    body = split_of(rows.head(5))
    rebuilt = client.post("/reconstruct", json=body).json()["reconstructions"]
    assert [list(r) for r in rebuilt] == [[f.name for f in model.features]] * 5
    assert all(r["machine"] in ("pump_a", "pump_b", "pump_c") for r in rebuilt)
    assert abs(rebuilt[0]["rpm"] - rows["rpm"].iloc[0]) < 0.5 * rows["rpm"].std() * 4  # file units, not z-scores
    encoded = client.post("/encode", json=body).json()
    assert len(encoded["codes"]) == 5 and len(encoded["codes"][0]) == len(encoded["code_names"])
    codes = pd.DataFrame(encoded["codes"], columns=encoded["code_names"])
    decoded = client.post("/decode", json=split_of(codes)).json()["rows"]
    for got, want in zip(decoded, rebuilt):  # decode(encode(x)) is the reconstruction of x
        assert got["machine"] == want["machine"]
        assert got["rpm"] == pytest.approx(want["rpm"], rel=1e-4)
    explained = client.post("/explain", json=body).json()["explanations"]
    for row in explained:
        assert sum(row["shares"].values()) == pytest.approx(1.0)
        assert sum(row["errors"].values()) == pytest.approx(row["reconstruction_error"])


@pytest.mark.parametrize("change, status, words", [
    (lambda f: f.drop(columns=["rpm"]), 422, ["lack", "'rpm'"]),
    (lambda f: f.assign(surprise=1), 422, ["does not know", "'surprise'"]),
    (lambda f: f.assign(rpm="fast"), 422, ["'rpm' needs numbers", "'fast'"]),
    (lambda f: f.assign(rpm=True), 422, ["'rpm' needs numbers"]),
])
def test_bad_rows_get_422_with_the_library_message(client, rows, change, status, words):
    answer = client.post("/invocations", json=split_of(change(rows.head(3))))
    assert answer.status_code == status
    assert answer.json()["error_code"] == "BAD_REQUEST" and all(w in answer.json()["message"] for w in words)


def test_non_finite_values_are_refused_by_json_and_csv(client, rows):
    text = json.dumps(split_of(rows.head(2))).replace(str(rows["rpm"].iloc[0]), "Infinity", 1)
    answer = client.post("/invocations", content=text, headers={"Content-Type": "application/json"})
    assert answer.status_code == 422 and "infinite" in answer.json()["message"]
    csv = rows.head(2).assign(rpm=["inf", "1"]).to_csv(index=False)
    answer = client.post("/invocations", content=csv, headers={"Content-Type": "text/csv"})
    assert answer.status_code == 400 and "infinite" in answer.json()["message"]


def test_limits_are_enforced_before_parsing(client, rows):
    big = pd.concat([rows] * 101)  # 4,040 rows > 4,000
    answer = client.post("/invocations", json=split_of(big))
    assert answer.status_code == 413 and "at most 4,000 rows" in answer.json()["message"]
    answer = client.post("/invocations", content=big.to_csv(index=False), headers={"Content-Type": "text/csv"})
    assert answer.status_code == 413
    def stream():  # no Content-Length: counted while it arrives
        for _ in range(30):
            yield b" " * 50_000

    assert client.post("/invocations", content=stream(), headers={"Content-Type": "application/json"}).status_code == 413


def test_an_oversized_content_length_is_refused_before_the_body_is_read(model):
    app = create_app(model, LIMITS)
    sent, reads = [], []

    async def receive():
        reads.append(1)
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/invocations", "raw_path": b"/invocations", "query_string": b"",
             "headers": [(b"content-length", b"5000000"), (b"content-type", b"application/json")], "asgi": {"version": "3.0"}}
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 413 and b"1,000,000 bytes" in sent[1]["body"] and not reads


@pytest.mark.parametrize("body, kind, status", [
    (b"{not json", "application/json", 400),
    (b'{"instances": [[1, 2]]}', "application/json", 400),
    (b'{"dataframe_split": {"columns": ["a"], "data": [[1, 2]]}}', "application/json", 400),
    (b"a,b\n1,2\n", "application/xml", 415),
    (b"", "text/csv", 400),
])
def test_unreadable_bodies_get_4xx_never_500(client, body, kind, status):
    answer = client.post("/invocations", content=body, headers={"Content-Type": kind})
    assert answer.status_code == status and "Traceback" not in answer.text and answer.json()["message"]


def test_unexpected_error_answers_a_generic_500_without_details(bundle, rows, caplog):
    broken = ServedModel.from_bundle(bundle)
    broken.score = lambda frame: (_ for _ in ()).throw(RuntimeError("secret internal detail"))
    client = TestClient(create_app(broken, LIMITS), raise_server_exceptions=False)
    with caplog.at_level(logging.INFO, logger="anomaly_lab.serve"):
        answer = client.post("/invocations", json=split_of(rows.head(2)))
    assert answer.status_code == 500 and answer.json()["error_code"] == "INTERNAL_ERROR"
    assert "secret" not in answer.text and "Traceback" not in answer.text
    assert "secret internal detail" in caplog.text  # the server log keeps it


def test_one_log_line_per_request_with_rows_status_and_ms(client, rows, caplog):
    with caplog.at_level(logging.INFO, logger="anomaly_lab.serve"):
        client.post("/invocations", json=split_of(rows.head(7)))
        client.post("/invocations", json=split_of(rows.head(2).drop(columns=["rpm"])))
    lines = [r.getMessage() for r in caplog.records if r.name == "anomaly_lab.serve"]
    assert len(lines) == 2
    assert lines[0].startswith("POST /invocations rows=7 status=200 ms=")
    assert lines[1].startswith("POST /invocations rows=2 status=422 ms=")


def test_threshold_override_is_used_and_reported(bundle, rows):
    model = ServedModel.from_bundle(bundle, threshold=0.0)
    answer = TestClient(create_app(model, LIMITS)).post("/invocations", json=split_of(rows.head(4))).json()
    assert answer["threshold"]["value"] == 0.0 and answer["threshold"]["source"] == "override"
    assert all(p["is_anomaly"] == 1 for p in answer["predictions"])


def test_metadata_names_features_classes_threshold_and_provenance(client, model):
    meta = client.get("/metadata").json()
    assert {"name": "machine", "type": "string", "levels": ["pump_a", "pump_b", "pump_c"]} in meta["features"]
    assert {"name": "rpm", "type": "number"} in meta["features"]
    assert meta["label"] == "status" and meta["normal_classes"] == ["normal"]
    assert meta["threshold"]["source"] == "bundle" and meta["threshold"]["rule"]
    assert len(meta["data"]["sha256"]) == 64 and meta["trained_at"] and meta["trained_with"]["keras"]
    assert meta["limits"]["max_body_bytes"] == 1_000_000 and meta["limits"]["max_rows"] == 4000
    assert client.get("/ping").status_code == 200 and client.get("/health").json()["status"] == "ok"
    assert client.get("/version").json()["keras"]


def test_openapi_documents_request_and_response_examples(client):
    spec = client.get("/openapi.json").json()
    body = spec["paths"]["/invocations"]["post"]["requestBody"]["content"]
    assert "machine" in body["application/json"]["examples"]["dataframe_split"]["value"]["dataframe_split"]["columns"]
    assert body["text/csv"]["example"].startswith("ambient_c,")
    assert spec["components"]["schemas"]["Predictions"]["example"]["predictions"]
    assert set(spec["paths"]) >= {"/invocations", "/anomaly_score", "/reconstruct", "/encode", "/decode", "/explain", "/metadata"}
    assert client.get("/docs").status_code == 200


def test_a_scoring_only_detector_scores_and_refuses_the_network_endpoints(rows):
    from core.baselines import IsolationForestDetector

    frame = pd.read_csv(SAMPLE)
    normal = frame[frame["status"] == "normal"].drop(columns=["status"])
    detector = IsolationForestDetector(random_state=0).fit(normal)
    client = TestClient(create_app(ServedModel(detector, {"label": "status"}), LIMITS))
    answer = client.post("/invocations", json=split_of(rows.head(5)))
    assert np.array_equal(scores_of(answer), detector.decision_function(rows.head(5).drop(columns=["status"])))
    for path in ("/reconstruct", "/encode", "/decode", "/explain"):
        refused = client.post(path, json=split_of(rows.head(2)))
        assert refused.status_code == 404 and "only autoencoders" in refused.json()["message"]
    assert client.get("/metadata").json()["capabilities"] == ["anomaly_score"]


def test_concurrent_requests_get_the_answers_of_serial_ones(model, rows):
    import httpx

    bodies = [split_of(rows.iloc[i:i + 1 + i % 5]) for i in range(24)]
    with running_server(create_app(model, LIMITS)) as url, httpx.Client(base_url=url, timeout=30) as http:
        serial = [http.post("/invocations", json=b).json() for b in bodies]
        with ThreadPoolExecutor(8) as pool:
            parallel = list(pool.map(lambda b: http.post("/invocations", json=b).json(), bodies))
    assert parallel == serial


def test_serve_command_loads_the_bundle_with_its_options(bundle, monkeypatch):
    import uvicorn

    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, **kw))
    assert main(["serve", str(bundle), "--port", "8123", "--threshold", "2.5", "--max-rows", "10"]) == 0
    assert seen["port"] == 8123 and seen["host"] == "127.0.0.1"
    meta = TestClient(seen["app"]).get("/metadata").json()
    assert meta["threshold"]["value"] == 2.5 and meta["limits"]["max_rows"] == 10


def test_a_variational_model_decodes_its_code_to_its_reconstruction(rows):
    from core.detector import AutoencoderDetector

    frame = pd.read_csv(SAMPLE)
    normal = frame[frame["status"] == "normal"].drop(columns=["status"]).head(300)
    model = ServedModel(AutoencoderDetector(architecture="variational", epochs=1, random_state=0).fit(normal), {"label": "status"})
    assert "decode" in model.capabilities
    valid = model.validate(rows.head(4))
    decoded, rebuilt = model.decode(model.encode(valid)), model.reconstruct(valid)
    np.testing.assert_allclose(decoded["rpm"], rebuilt["rpm"], rtol=1e-5)
    assert decoded["machine"].tolist() == rebuilt["machine"].tolist()


def test_a_review_band_saved_with_the_model_marks_rows_in_every_answer_unless_the_threshold_is_overridden(bundle, rows):
    from dataclasses import replace

    from core.bundle import bundle_bytes, load_bundle

    detector, context = load_bundle(bundle)
    scores = detector.decision_function(rows)
    low = float(np.quantile(scores[scores <= detector.threshold_], 0.5))
    raw = bundle_bytes(detector, context, replace(detector.fitted_threshold, review_from=low))
    expected = ((scores > low) & (scores <= detector.threshold_)).astype(int).tolist()
    client = TestClient(create_app(ServedModel.from_bundle(raw), LIMITS))
    answer = client.post("/invocations", json=split_of(rows)).json()
    assert answer["threshold"]["review_from"] == low and 0 < sum(expected) < len(rows)
    assert [p["for_review"] for p in answer["predictions"]] == expected
    assert [e["for_review"] for e in client.post("/explain", json=split_of(rows)).json()["explanations"]] == expected
    plain = TestClient(create_app(ServedModel.from_bundle(bundle), LIMITS)).post("/invocations", json=split_of(rows.head(3))).json()
    assert "review_from" not in plain["threshold"] and all(set(p) == {"anomaly_score", "is_anomaly"} for p in plain["predictions"])
    overridden = TestClient(create_app(ServedModel.from_bundle(raw, threshold=low), LIMITS)).post("/invocations", json=split_of(rows.head(3))).json()
    assert "review_from" not in overridden["threshold"] and "for_review" not in overridden["predictions"][0]  # chosen below another threshold
