"""Malformed tables and bundles through every page (AppTest): an error that says what
is wrong, never an exception element, and the last good table, choices and model stay."""

import json

import numpy as np
import pytest

from core.bundle import bundle_bytes
from core.pipeline import begin_training, load_sample, prepare
from tests.hostile import _members, _zip
from tests.test_app import app, errors, session, texts, trained_state  # noqa: F401 - the fixture is shared

PAGES = ["pages/data.py", "pages/train.py", "pages/threshold.py", "pages/inspect.py", "pages/score.py", "pages/compare.py"]


def _csv(header: str, rows: list[str]) -> bytes:
    return ("\n".join([header] + rows) + "\n").encode()


def _numbers(n: int, value: str = "{v:.3f}") -> list[str]:
    rng = np.random.default_rng(0)
    return [f"{value.format(v=rng.normal())},{rng.normal():.3f},{'bad' if i % 10 == 0 else 'ok'}" for i in range(n)]


TABLES = {
    "one data row": _csv("a,b,label", ["1,2,ok"]),
    "two data rows": _csv("a,b,label", ["1,2,ok", "3,4,bad"]),
    "one column": _csv("a", [str(i) for i in range(50)]),
    "text only": _csv("a,b,label", [f"x{i},y{i % 3},ok" for i in range(60)]),
    "all missing": _csv("a,b,label", [",,"] * 60),
    "infinite values": _csv("a,b,label", [f"{'inf' if i % 7 == 0 else i},{i},{'bad' if i % 10 == 0 else 'ok'}" for i in range(60)]),
    "duplicate headers": _csv("a,a,label", _numbers(60)),
    "normal class of 3 rows": _csv("a,b,label", [f"{i},{i * 2},{'ok' if i < 3 else 'bad'}" for i in range(60)]),
    "empty file": b"",
    "header only": b"a,b,label\n",
    "binary bytes": bytes(range(256)) * 20,
    "utf-16 text": "a,b,label\n".encode("utf-16") + "".join(f"{i},{i},ok\n" for i in range(40)).encode("utf-16-le"),
    "values of 1e308": _csv("a,b,label", [f"{'1e308' if i % 2 else '-1e308'},{i},{'bad' if i % 10 == 0 else 'ok'}" for i in range(60)]),
    "integers of 10^40": _csv("a,b,label", [f"{10 ** 40 + i},{i},{'bad' if i % 10 == 0 else 'ok'}" for i in range(60)]),
    "label with empty cells": _csv("a,b,label", [f"{i},{i},{'' if i % 5 == 0 else 'ok'}" for i in range(60)]),
    "label with one class": _csv("a,b,label", [f"{i},{i * 3 % 7},ok" for i in range(60)]),
    "identical rows": _csv("a,b,label", ["1,1,ok"] * 60),
    "ragged rows": _csv("a,b,label", _numbers(30) + ["1,2,3,4,5"] + _numbers(30)),
    "markdown and html in names": _csv("[x](http://example.com),<img src=x onerror=alert(1)>,label", _numbers(60)),
    "formula header": _csv("=cmd|' /C calc'!A0,b,label", _numbers(60)),
    "a cell over 128 KiB": _csv("a,b,label", _numbers(30) + ["1," + "9" * 140_000 + ",ok"]),
    "cp1252 0x85 inside a cell": b"a,b,note\n" + b"".join(f"{i},{i % 5},x\x85y\n".encode("latin-1") for i in range(60)),
}


@pytest.fixture(scope="module")
def bundles(trained_state):  # noqa: F811
    _, prepared, detector, _ = trained_state
    good = bundle_bytes(detector, prepared.context())
    members = _members(good)
    meta = json.loads(members["detector.json"])

    def with_meta(change) -> bytes:
        copy = json.loads(json.dumps(meta))
        change(copy)
        return _zip({**members, "detector.json": json.dumps(copy).encode()})

    other = prepare(load_sample("heartbeats.csv"), "rhythm", ["normal"], seed=0)
    small = begin_training(other, {"epochs": 1})
    small.trainer_.run()
    small.end_fit()
    return {
        "not a zip": b"not a zip at all",
        "empty zip": _zip({}),
        "truncated bundle": good[: len(good) // 2],
        "pickle inside": _zip({"model.pkl": b"\x80\x04\x95...", "detector.json": b"{}"}),
        "path traversal member": _zip({"../evil.txt": b"x", **members}),
        "json not an object": _zip({**members, "detector.json": b"[1, 2, 3]"}),
        "nan threshold": with_meta(lambda m: m["detector"].__setitem__("threshold", {"value": float("nan"), "rule": "manual", "reason": "x"})),
        "bundle of other columns": bundle_bytes(small, other.context()),
    }


def _walk(at, pages=PAGES) -> None:
    for page in pages:
        at.switch_page(page)
        at.run()
        assert not at.exception, (page, at.exception)


@pytest.mark.parametrize("case", list(TABLES))
def test_a_hostile_table_gets_a_message_or_loads_and_no_page_raises(case, trained_state):  # noqa: F811
    at = app(None, trained_state)
    before = session(at)
    table_before, run_before = before.table, before.run
    at.file_uploader(key="data_upload").set_value((f"{case}.csv", TABLES[case], "text/csv"))
    at.run()
    assert not at.exception, at.exception
    now = session(at)
    refused = now.table is table_before
    if refused:
        assert any("Could not use" in e for e in errors(at)), texts(at)
        assert now.run is run_before and now.prepared is not None
        _walk(at, ["pages/threshold.py"])  # the model is still in use, on the previous table
    else:
        _walk(at)


def test_markdown_in_a_file_name_and_its_columns_is_shown_as_plain_text(trained_state):  # noqa: F811
    at = app(None, trained_state)
    at.file_uploader(key="data_upload").set_value(("[click](http://evil.example) ![x](http://evil.example/x.png).csv", TABLES["markdown and html in names"], "text/csv"))
    at.run()
    assert not at.exception, at.exception
    heading = at.subheader[0].value
    assert "\\[click\\]\\(http\\:\u200b//" in heading  # escaped, and the URL broken: shown as the characters, never a link


@pytest.mark.parametrize("case", ["not a zip", "empty zip", "truncated bundle", "pickle inside", "path traversal member", "json not an object",
                                  "nan threshold", "bundle of other columns"])
def test_a_hostile_bundle_gets_a_message_and_no_page_raises(case, bundles, trained_state):  # noqa: F811
    at = app(None, trained_state)
    run_before = session(at).run
    at.file_uploader(key="data_bundle").set_value((f"{case}.zip", bundles[case], "application/zip"))
    at.run()
    assert not at.exception, at.exception
    now = session(at)
    if case == "bundle of other columns":
        assert now.run.origin == "restored" and now.scored_run is None and any("lacks feature column" in w.value for w in at.warning)
        _walk(at)
    else:
        assert any("Could not restore" in e for e in errors(at)), texts(at)
        assert now.run is run_before
        _walk(at, ["pages/threshold.py"])


def test_the_whole_hostile_catalogue_through_the_data_page(trained_state, monkeypatch):  # noqa: F811
    """Every table and bundle of tests/hostile.py uploaded one after another in one session:
    never an exception element; a refused file says so by name and changes nothing."""
    import core.bundle
    from tests.hostile import BUNDLES, hostile_tables

    _, prepared, detector, _ = trained_state
    good = bundle_bytes(detector, prepared.context())
    at = app(None, trained_state)
    for i, (name, raw, filename) in enumerate(hostile_tables()):
        before = session(at)
        table, run = before.table, before.run
        if not filename.endswith((".csv", ".txt", ".tsv")):  # the browser's file picker allows these only
            filename += ".csv"
        at.file_uploader(key="data_upload").set_value((f"{i}-{filename}", raw, "text/csv"))
        at.run()
        assert not at.exception, (name, at.exception)
        if session(at).table is table and raw:  # (an empty file is no upload at all to Streamlit)
            assert any(f"Could not use '{i}-" in e for e in errors(at)), (name, texts(at))
            assert session(at).run is run
    for i, case in enumerate(BUNDLES):
        monkeypatch.setattr(core.bundle, "MAX_MEMBER_BYTES", case.max_bytes or core.bundle.MAX_BUNDLE_BYTES)
        run = session(at).run
        at.file_uploader(key="data_bundle").set_value((f"{i}-{case.name}.zip", case.build(good), "application/zip"))
        at.run()
        assert not at.exception, (case.name, at.exception)
        if case.expect != "ok":
            assert any(f"Could not restore '{i}-" in e for e in errors(at)) or session(at).run.study is None, (case.name, texts(at))


def test_a_text_column_named_in_markdown_is_plain_in_the_train_page_caption(trained_state):  # noqa: F811
    at = app(None, trained_state)
    rows = [f"{v},{i % 3},{'bad' if i % 10 == 0 else 'ok'}" for i, v in enumerate(np.random.default_rng(0).normal(size=60))]
    rows = [f"{r.split(',')[0]},level{r.split(',')[1]},{r.split(',')[2]}" for r in rows]
    at.file_uploader(key="data_upload").set_value(("text.csv", _csv("a,**bold** [x](http://evil.example),label", rows), "text/csv"))
    at.run()
    at.switch_page("pages/train.py")
    at.run()
    assert not at.exception, at.exception
    caption = next(c.value for c in at.caption if "text feature" in c.value)
    assert "\\*\\*bold\\*\\* \\[x\\]\\(http\\:\u200b//" in caption, caption
