"""Property-based tests: whatever the bytes or the JSON, the answer is a result or a DataError."""

import io
import json
import math
import zipfile

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.bundle import META_MEMBER, bundle_bytes, load_bundle
from core.data import read_table
from core.errors import DataError
from core.scoring import score_table

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
CSV_ALPHABET = st.sampled_from(list(",;\t|\n\r\"' .-+eE0123456789abcNA\x85\u2028\x0c\x00é=@"))
csv_like = st.lists(CSV_ALPHABET, max_size=400).map("".join)
encodings = st.sampled_from(["utf-8", "utf-16", "cp1252", "latin-1", "utf-8-sig"])


def _read(raw: bytes):
    try:
        return read_table(raw)
    except DataError:
        return None


@SETTINGS
@given(st.binary(max_size=2000))
def test_any_bytes_give_a_table_or_a_data_error(raw):
    table = _read(raw)
    assert table is None or table.frame.shape[0] >= 1


@SETTINGS
@given(csv_like, encodings)
def test_any_csv_like_text_gives_a_table_or_a_data_error(text, encoding):
    table = _read(text.encode(encoding, errors="replace"))
    assert table is None or (table.frame.shape[1] >= 2 and len(set(table.frame.columns)) == table.frame.shape[1])


@pytest.fixture(scope="module")
def ab_detector():
    from core.detector import AutoencoderDetector

    x = pd.DataFrame(np.random.default_rng(0).normal(size=(200, 2)), columns=["a", "b"]).assign(k=["u", "v"] * 100)
    return AutoencoderDetector(epochs=2, random_state=0).fit(x)


cell = st.one_of(
    st.floats(allow_nan=True, allow_infinity=False, width=64).map(repr),
    st.integers(min_value=-10**45, max_value=10**45).map(str),
    st.text(alphabet=st.sampled_from(list("abc -+=,.;\"\u2028\x85é")), max_size=8),
    st.just(""),
)


@SETTINGS
@given(st.lists(st.tuples(cell, cell, cell), min_size=1, max_size=30), st.sampled_from([",", ";", "\t"]))
def test_any_table_read_table_accepts_scores_one_finite_score_per_row_or_data_error(ab_detector, rows, delimiter):
    def quote(v):
        return '"' + v.replace('"', '""') + '"' if any(ch in v for ch in delimiter + '"\r\n\x85\u2028') else v
    text = delimiter.join(["a", "b", "k"]) + "\n" + "\n".join(delimiter.join(quote(v) for v in row) for row in rows) + "\n"
    table = _read(text.encode())
    if table is None:
        return
    try:
        scores = score_table(ab_detector, table.frame)
    except DataError:
        return
    assert scores.shape == (len(table.frame),) and np.all(np.isfinite(scores))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@pytest.fixture(scope="module")
def good_bundle(ab_detector):
    return bundle_bytes(ab_detector, {"features": ["a", "b", "k"]})


def _replace_meta(good: bytes, meta_bytes: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as zin, zipfile.ZipFile(out, "w") as zout:
        for name in zin.namelist():
            zout.writestr(name, meta_bytes if name == META_MEMBER else zin.read(name))
    return out.getvalue()


def _load(raw: bytes):
    try:
        return load_bundle(raw)[0]
    except DataError:
        return None


@SETTINGS
@given(json_values)
def test_any_json_gives_a_detector_or_a_data_error(good_bundle, value):
    assert _load(_replace_meta(good_bundle, json.dumps(value).encode())) is None  # random JSON is never a detector


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, child in node.items():
            yield from _paths(child, prefix + (key,))
    elif isinstance(node, list):
        for i, child in enumerate(node[:3]):
            yield from _paths(child, prefix + (i,))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.data())
def test_any_field_replaced_by_any_json_gives_a_detector_or_a_data_error(good_bundle, data):
    with zipfile.ZipFile(io.BytesIO(good_bundle)) as zf:
        meta = json.loads(zf.read(META_MEMBER))
    paths = [p for p in _paths(meta) if p]
    path = data.draw(st.sampled_from(paths))
    node = meta
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = data.draw(json_values)
    detector = _load(_replace_meta(good_bundle, json.dumps(meta).encode()))
    if detector is not None:
        assert math.isfinite(detector.threshold_)
        scores = detector.decision_function(pd.DataFrame({"a": [0.1, 5.0], "b": [0.2, -3.0], "k": ["u", "v"]}))
        assert scores.shape == (2,)
