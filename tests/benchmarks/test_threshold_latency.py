"""The live threshold control in headless Chromium: pointer move → confusion-matrix text changed.

For 10,000 and 1,000,000 scored rows: median and p95 over 100 moves of a held pointer (the
browser answers alone; nothing goes to Python until release), the bytes the websocket carried
for the first page load and for a rerun after a release (the curve's payload should not travel
again), and the control's server time per rerun. Prints numbers, asserts none of them.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser import SETTLED
from tests.test_threshold_control import _app, _curve, chromium_page  # noqa: F401  (fixture)
from ui.threshold_control import CSS, JS, payload, payload_bytes

pytestmark = [pytest.mark.benchmark, pytest.mark.browser]
MOVES = 100

WATCH = """(cell) => {
  window.__changed = null;
  window.__text = cell.textContent;
  new MutationObserver(() => {
    if (window.__changed === null && cell.textContent !== window.__text) {
      window.__text = cell.textContent;
      window.__changed = performance.now();
      requestAnimationFrame(() => { window.__painted = performance.now(); });
    }
  }).observe(cell, {childList: true, characterData: true, subtree: true});
}"""


@pytest.mark.parametrize("rows", [10_000, 1_000_000])
def test_pointer_move_to_confusion_matrix_text(chromium_page, rows):  # noqa: F811
    curve = _curve(rows)
    data = payload(curve, log_scale=True, labelled=True, rows_label="test rows")
    with _app(ALAB_ROWS=str(rows), ALAB_LABELS="1", ALAB_LOG="1") as url:
        page = chromium_page()
        frames: list[int] = []
        page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(len(payload))))
        page.goto(url)
        slider = page.get_by_role("slider", name="Threshold")
        slider.wait_for(timeout=120_000)
        page.wait_for_selector(SETTLED)
        first_load = sum(frames)
        box = slider.bounding_box()
        y = box["y"] + 40
        cell = page.locator('[data-cell="fp"] .alab-count')
        cell.element_handle().evaluate(WATCH)
        # Positions over the crowded middle of the log axis, alternating so every move changes the counts.
        spots = np.linspace(0.30, 0.70, MOVES)
        xs = box["x"] + box["width"] * np.column_stack([spots[: MOVES // 2], spots[MOVES // 2:]]).ravel()
        page.mouse.move(xs[0] - 3, y)
        page.mouse.down()
        changed, painted, skipped = [], [], 0
        last = cell.inner_text()
        for x in xs:
            t0 = page.evaluate("() => { window.__changed = null; window.__painted = null; return performance.now(); }")
            page.mouse.move(float(x), y)
            try:
                page.wait_for_function("() => window.__painted !== null", timeout=1_000, polling=1)
            except PlaywrightTimeout:  # the move landed on the same cut point: nothing changes
                skipped += 1
                continue
            changed.append(page.evaluate("() => window.__changed") - t0)
            painted.append(page.evaluate("() => window.__painted") - t0)
            assert cell.inner_text() != last
            last = cell.inner_text()
        frames.clear()
        page.mouse.up()
        released = float(slider.get_attribute("aria-valuenow"))
        page.wait_for_function(f"() => document.body.innerText.includes('python threshold: {released!r}')", timeout=60_000)
        page.wait_for_selector(SETTLED)
        rerun_bytes = sum(frames)
        server = page.get_by_text("server: control").inner_text()
    med, p95 = np.median(changed), np.percentile(changed, 95)
    print(f"\n{rows:,} scored rows, {len(data['t']):,} cut points: pointer move → confusion-matrix text changed "
          f"median {med:.1f} ms, p95 {p95:.1f} ms over {len(changed)} moves ({skipped} moves changed nothing); "
          f"to the next frame median {np.median(painted):.1f} ms, p95 {np.percentile(painted, 95):.1f} ms "
          f"(target median ≤ 50, p95 ≤ 100; ratio {med / 50:.2f}, {p95 / 100:.2f})")
    print(f"  bytes per model: payload JSON {payload_bytes(data):,} B (+ JS {len(JS.encode()):,} B, CSS {len(CSS.encode()):,} B once); "
          f"websocket: first load {first_load:,} B, the rerun after a release {rerun_bytes:,} B; {server}")
    json.dumps(data)
