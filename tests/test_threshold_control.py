"""The live threshold control: its payload (Python) and its arithmetic and formatting (the same
JavaScript the browser runs, checked in headless Chromium against ThresholdCurve.at)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager

import numpy as np
import pytest

from core.evaluation import METRIC_LABELS
from core.metrics import Confusion, ThresholdCurve, metrics_from_counts
from tests.browser import SETTLED, browser_page, free_port, need_browser
from tests.conftest import ROOT
from ui.threshold_control import JS, MAX_POINTS, display_texts, payload, payload_bytes

APP = ROOT / "tests" / "benchmarks" / "threshold_control_app.py"


def _curve(n: int, seed: int = 0, labels: bool = True, ties: bool = False) -> ThresholdCurve:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.05).astype(np.int64)
    scores = np.exp(rng.normal(-2.0, 0.8, n) + 1.5 * y)
    if ties:
        scores = np.round(scores, 2)
    return ThresholdCurve(scores, y if labels else None)


# -- cut points (core.metrics) ---------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 7, 500, 200_000])
def test_cut_points_are_increasing_and_span_flag_all_to_flag_none(n):
    cuts = _curve(n).cut_points()
    assert np.all(np.diff(cuts.threshold) > 0)
    assert len(cuts) <= MAX_POINTS
    assert cuts.below[0] == 0 and cuts.below[-1] == n


def test_every_step_between_cut_points_changes_the_counts():
    cuts = _curve(200_000, ties=True).cut_points()
    assert np.all(np.diff(cuts.below) > 0)


def test_counts_at_every_cut_point_equal_threshold_curve_at():
    curve = _curve(50_000)
    cuts = curve.cut_points(max_points=500)
    for t, below, pos in zip(cuts.threshold, cuts.below, cuts.anomalies_below):
        conf = curve.at(t)
        assert (below, pos) == (conf.tn + conf.fn, conf.fn)


def test_cut_points_are_dense_where_rows_are_dense_and_reach_the_sparse_tail():
    curve = _curve(200_000)
    cuts = curve.cut_points(max_points=900)
    steps = np.diff(cuts.below)
    assert np.median(steps) <= 2 * 200_000 / 900  # quantile spacing in the bulk
    top = cuts.threshold > np.quantile(curve.sorted_scores, 0.999)
    assert top.sum() >= 20  # the 200 highest rows still get stops of their own


def test_included_value_gets_its_exact_counts():
    curve = _curve(100_000)
    value = float(np.quantile(curve.sorted_scores, 0.5)) + 1e-9
    cuts = curve.cut_points(include=(value,))
    i = int(np.flatnonzero(cuts.threshold == value)[0])
    conf = curve.at(value)
    assert (cuts.below[i], cuts.anomalies_below[i]) == (conf.tn + conf.fn, conf.fn)
    assert value not in curve.cut_points().threshold


def test_few_distinct_scores_make_a_complete_set():
    curve = ThresholdCurve(np.array([1.0, 1.0, 2.0, 3.0, 3.0]), np.array([0, 0, 0, 1, 1]))
    cuts = curve.cut_points()
    assert cuts.complete
    assert list(cuts.threshold[1:]) == [1.0, 2.0, 3.0]
    assert not _curve(10_000).cut_points().complete


def test_class_shares_are_shares_of_the_actual_class():
    conf = Confusion(0.5, tn=90, fp=10, fn=5, tp=15)
    assert conf.class_shares() == {"tn": 0.9, "fp": 0.1, "fn": 0.25, "tp": 0.75}
    assert Confusion(0.5, tn=3, fp=1, fn=0, tp=0).class_shares()["tp"] == 0.0


# -- payload (ui.threshold_control) ---------------------------------------------------------
def test_payload_of_a_million_rows_stays_small_and_round_trips_exactly():
    curve = _curve(1_000_000)
    data = payload(curve, log_scale=True, labelled=True, rows_label="test rows")
    assert payload_bytes(data) < 100_000
    back = json.loads(json.dumps(data))
    assert np.array_equal(np.array(back["t"]), curve.cut_points().threshold)


def test_payload_is_identical_for_the_same_curve():
    curve = _curve(20_000)
    one = payload(curve, log_scale=False, labelled=True, rows_label="rows")
    two = payload(curve, log_scale=False, labelled=True, rows_label="rows")
    assert json.dumps(one) == json.dumps(two)
    assert payload(curve, log_scale=True, labelled=True, rows_label="rows")["stamp"] != one["stamp"]


def test_payload_without_labels_carries_no_anomaly_counts():
    data = payload(_curve(5_000, labels=False), log_scale=True, labelled=True, rows_label="rows")
    assert data["anom"] is None and data["hist"]["anomaly"] is None and not data["labelled"]
    hidden = payload(_curve(5_000), log_scale=True, labelled=False, rows_label="rows")
    assert hidden["anom"] is None and sum(hidden["hist"]["normal"]) == 5_000


def test_display_texts_use_one_format_for_every_cell_and_metric():
    texts = display_texts(Confusion(1.0, tn=1234, fp=66, fn=5, tp=15))
    assert texts["tn_count"] == "1,234" and texts["fp_share"] == "5.1%" and texts["tp_share"] == "75.0%"
    assert set(METRIC_LABELS) <= set(texts) and len(texts["f1"]) == 5
    assert display_texts(Confusion(1.0, tn=7, fp=3, fn=0, tp=0), labelled=False) == {"flagged": "3", "share_flagged": "30.00%"}


# -- the browser's arithmetic and formatting, in Chromium --------------------------------------
@pytest.fixture(scope="module")
def chromium_page():
    """One Chromium for the module (Playwright's sync API allows one at a time); a fresh page per use."""
    need_browser()
    with browser_page() as first:
        yield lambda: first.context.new_page()


@pytest.fixture(scope="module")
def js_page(chromium_page):
    page = chromium_page()
    page.goto("about:blank")
    page.evaluate("async (src) => { window.ctl = await import(URL.createObjectURL(new Blob([src], {type: 'text/javascript'}))); }", JS)
    return page


def _tie_values() -> list[float]:
    rng = np.random.default_rng(3)
    values = [k / 16 for k in range(-40, 41)] + [k / 2**12 for k in range(0, 4096, 7)] + [0.0005, 0.0015, 0.9995, 2.5, 0.125, 1e-7, 123456.789]
    values += list(rng.random(400)) + list(rng.normal(0, 1e4, 100)) + list(10.0 ** rng.uniform(-9, 9, 200))
    return [float(v) for v in values]


def test_js_fixed_and_percent_format_like_python_including_exact_ties(js_page):
    values = _tie_values()
    got = js_page.evaluate("(vs) => vs.map(v => [ctl.fixed(v, 3), ctl.fixed(v, 1), ctl.percent(v, 1), ctl.percent(v, 2)])", values)
    want = [[f"{v:.3f}", f"{v:.1f}", f"{v:.1%}", f"{v:.2%}"] for v in values]
    assert got == want


def test_js_general_format_matches_python_g(js_page):
    values = _tie_values() + [0.0, 1e16, 1.5e-5, 12345.5, 99999.5, 0.00012345]
    got = js_page.evaluate("(vs) => vs.map(v => [ctl.general(v, 4), ctl.general(v, 5)])", values)
    assert got == [[f"{v:.4g}", f"{v:.5g}"] for v in values]


def test_js_thousands_grouping_matches_python(js_page):
    values = [0, 7, 999, 1000, 12345, 1_000_000, 987_654_321]
    assert js_page.evaluate("(vs) => vs.map(ctl.grouped)", values) == [f"{v:,}" for v in values]


def test_js_metrics_are_bit_identical_to_metrics_from_counts(js_page):
    rng = np.random.default_rng(5)
    counts = rng.integers(0, 1_000_000, size=(300, 4)).tolist() + [[0, 0, 5, 5], [3, 0, 0, 0], [0, 0, 0, 0]]
    got = js_page.evaluate("(cs) => cs.map(([tp, fp, tn, fn]) => ctl.metricsFromCounts(tp, fp, tn, fn))", counts)
    for (tp, fp, tn, fn), js in zip(counts, got):
        py = metrics_from_counts(tp, fp, tn, fn)
        assert {k: float(py[k]) for k in py} == {k: float(js[k]) for k in py}


@pytest.mark.parametrize("labels", [True, False])
def test_js_texts_at_every_cut_point_equal_python_formatting_of_at(js_page, labels):
    curve = _curve(300_000, seed=2, labels=labels, ties=True)
    data = payload(curve, log_scale=True, labelled=True, rows_label="rows")
    rng = np.random.default_rng(0)
    between = list(rng.uniform(curve.sorted_scores[0] - 1, curve.sorted_scores[-1] + 1, 50))
    values = [float(t) for t in data["t"]] + [float(v) for v in between]
    got = js_page.evaluate("([d, vs]) => vs.map(v => { const c = ctl.confusionAt(d, v); return c && ctl.texts(d, c); })", [data, values])
    checked = 0
    for v, texts in zip(values, got):
        if texts is None:  # between cut points that hide rows: the browser waits for Python
            assert v not in data["t"]
            continue
        assert texts == display_texts(curve.at(v), labelled=labels), v
        checked += 1
    assert checked >= len(data["t"])


# -- the component in a running app -------------------------------------------------------------
@contextmanager
def _app(**env):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 90
        while True:
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                pass
            if time.time() > deadline or proc.poll() is not None:
                raise RuntimeError("the test app did not start")
            time.sleep(0.3)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _shown(page, labelled: bool = True) -> dict[str, str]:
    if not labelled:
        return {k: page.locator(f'[data-metric="{k}"] .alab-value').inner_text() for k in ("flagged", "share_flagged")}
    out = {}
    for k in ("tn", "fp", "fn", "tp"):
        out[f"{k}_count"] = page.locator(f'[data-cell="{k}"] .alab-count').inner_text()
        out[f"{k}_share"] = page.locator(f'[data-cell="{k}"] .alab-share').inner_text()
    for k in METRIC_LABELS:
        out[k] = page.locator(f'[data-metric="{k}"] .alab-value').inner_text()
    out["detail"] = page.locator(".alab-sentence").first.inner_text().split(" — ", 1)[1]
    return out


def _python_value(page) -> float:
    return float(page.get_by_text("python threshold:").inner_text().split(":")[1])


@pytest.mark.browser
def test_drag_keys_and_typing_show_at_and_commit_the_exact_value(chromium_page):
    curve = _curve(20_000, ties=False)  # the app's curve: same seed and law (tests/benchmarks/threshold_control_app.py)
    with _app(ALAB_ROWS="20000", ALAB_LABELS="1", ALAB_LOG="1") as url:
        page = chromium_page()
        page.goto(url)
        slider = page.get_by_role("slider", name="Threshold")
        slider.wait_for(timeout=60_000)
        page.wait_for_selector(SETTLED)
        start = float(slider.get_attribute("aria-valuenow"))
        assert start == _python_value(page)
        assert _shown(page) == display_texts(curve.at(start))
        box = slider.bounding_box()
        page.mouse.move(box["x"] + 5, box["y"] + 40)
        page.mouse.down()
        for f in np.linspace(0.05, 0.95, 12):  # during the drag, before anything reaches Python
            page.mouse.move(box["x"] + f * box["width"], box["y"] + 40)
            v = float(slider.get_attribute("aria-valuenow"))
            assert _shown(page) == display_texts(curve.at(v)), v
        page.mouse.up()
        released = float(slider.get_attribute("aria-valuenow"))
        page.wait_for_function(f"() => document.body.innerText.includes('python threshold: {released!r}')", timeout=30_000)
        slider.focus()
        for key in ("Home", "ArrowRight", "PageUp", "PageUp", "End", "ArrowLeft", "PageDown"):
            page.keyboard.press(key)
            v = float(slider.get_attribute("aria-valuenow"))
            assert _shown(page) == display_texts(curve.at(v)), (key, v)
        page.wait_for_function(f"() => document.body.innerText.includes('python threshold: {v!r}')", timeout=30_000)
        typed = 0.3141592653589793
        box_input = page.get_by_label("Exact threshold")
        box_input.fill(repr(typed))
        box_input.press("Enter")
        page.wait_for_function(f"() => document.body.innerText.includes('python threshold: {typed!r}')", timeout=30_000)
        page.wait_for_selector(SETTLED)
        page.locator('.alab-slider[data-exact="true"]').wait_for(timeout=30_000)  # the exact counts arrived with the value
        assert _shown(page) == display_texts(curve.at(typed))
        page.get_by_role("button", name="Jump to the median").click()  # a change from Python moves the control
        median = float(np.median(curve.sorted_scores))
        page.wait_for_function(f"() => document.body.innerText.includes('python threshold: {median!r}')", timeout=30_000)
        page.locator(f'.alab-slider[aria-valuenow="{median!r}"]').wait_for(timeout=30_000)
        assert _shown(page) == display_texts(curve.at(median))


@pytest.mark.browser
def test_without_labels_the_control_shows_rows_flagged_only(chromium_page):
    curve = _curve(5_000, labels=False)
    with _app(ALAB_ROWS="5000", ALAB_LABELS="0", ALAB_LOG="0") as url:
        page = chromium_page()
        page.goto(url)
        slider = page.get_by_role("slider", name="Threshold")
        slider.wait_for(timeout=60_000)
        assert page.locator(".alab-matrix").is_hidden()
        slider.focus()
        page.keyboard.press("PageDown")
        v = float(slider.get_attribute("aria-valuenow"))
        assert _shown(page, labelled=False) == display_texts(curve.at(v), labelled=False)
        assert "flags" in slider.get_attribute("aria-valuetext")


# -- the Python side of a mounted control (AppTest, no browser) ---------------------------------
def _mounted(at) -> dict:
    return json.loads(at.get("bidi_component")[0].proto.json)


def test_rerun_sends_the_same_data_so_the_browser_cache_answers():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    first = at.get("bidi_component")[0].proto.json
    at.run()
    assert not at.exception and at.get("bidi_component")[0].proto.json == first


def test_a_value_set_by_python_moves_the_control_with_its_exact_counts():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    before = _mounted(at)
    at.session_state["threshold"] = 0.123456789
    at.run()
    after = _mounted(at)
    assert after["value"] == 0.123456789 and after["seq"] == before["seq"] + 1
    assert 0.123456789 in after["t"]
