"""Server start → Data page interactive, in headless Chromium (issue 16, item 3).

The browser is started first; the clock starts when `streamlit run app.py` is launched and stops
when the Data page's file uploader is visible and the script has finished. Also prints when the
health endpoint first answered, so start-up (imports) and the first script run can be told apart.

Every end time is taken in the browser (:func:`tests.browser.watch_first_seen`), the frame after the
change: a time taken when Playwright's wait returns is up to 0.5 s late, since it polls every 500 ms
once its first few tries have missed.
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest

from tests.browser import SETTLED, browser_page, first_seen, forget_seen, free_port, last_click, need_browser, stop_process, watch_first_seen
from tests.conftest import ROOT

pytestmark = [pytest.mark.benchmark, pytest.mark.browser]


#: The Data page interactive: its file uploader visible in an app whose script has finished.
DATA_PAGE_READY = f'{SETTLED} [data-testid="stFileUploader"]'


def _start_to_interactive(page) -> tuple[float, float]:
    port = free_port()
    watch_first_seen(page, ready=DATA_PAGE_READY)
    t0 = time.time()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        while True:
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.02)
            assert proc.poll() is None, "the app did not start"
        healthy = time.time() - t0
        page.goto(f"http://127.0.0.1:{port}")
        page.wait_for_selector(DATA_PAGE_READY, timeout=120_000)
        return healthy, first_seen(page, "ready") - t0
    finally:
        stop_process(proc, timeout=30)


def test_server_start_to_data_page_interactive():
    need_browser()
    with browser_page() as first:
        results = [_start_to_interactive(first.context.new_page()) for _ in range(3)]
    healthy, ready = np.array(results).T
    print(f"\nserver start → Data page interactive: median {np.median(ready):.2f} s (runs {', '.join(f'{r:.2f}' for r in ready)}; target ≤ 3 s, "
          f"ratio {np.median(ready) / 3:.2f}); health endpoint answered after {np.median(healthy):.2f} s")


FIRST_POINT = '[data-testid="stPlotlyChart"] .scatterlayer .points path'


def _press_train_to_first_point(pause: float) -> list[float]:
    import re

    from tests.browser import running_app

    need_browser()
    times = []
    with running_app() as url, browser_page() as first:
        for _ in range(4):
            page = first.context.new_page()
            watch_first_seen(page, point=FIRST_POINT)
            page.goto(url)
            page.get_by_text("Ready to train").wait_for(timeout=120_000)
            page.get_by_role("link", name="Go to Train").first.click()
            page.get_by_text("Press Train to start").wait_for(timeout=120_000)
            page.wait_for_selector(SETTLED, timeout=120_000)
            time.sleep(pause)
            forget_seen(page, "point")
            page.get_by_role("button", name=re.compile("^Train the dense autoencoder")).click()
            page.wait_for_selector(FIRST_POINT, timeout=120_000)
            times.append(first_seen(page, "point") - last_click(page))
            page.close()
    return times


def test_press_train_to_first_chart_point():
    """From the click on Train (bundled sample, default settings) to the loss chart's first marker, in a fresh
    browser session each time, the click the moment the Train page's script has finished."""
    times = _press_train_to_first_point(0.0)
    later = np.median(times[1:])
    print(f"\npress Train → first chart point: first in a fresh server {times[0]:.2f} s; later sessions median {later:.2f} s "
          f"(runs {', '.join(f'{t:.2f}' for t in times)}; target ≤ 1 s, ratio {later:.2f})")


def test_press_train_after_reading_the_page_to_first_chart_point():
    """The same, the click 2 s after the Train page's script has finished, as a reader would: the browser has
    then started the Plotly script for the page's (empty) loss chart, which the Data page no longer loads."""
    times = _press_train_to_first_point(2.0)
    later = np.median(times[1:])
    print(f"\npress Train 2 s after the page → first chart point: first in a fresh server {times[0]:.2f} s; later sessions median {later:.2f} s "
          f"(runs {', '.join(f'{t:.2f}' for t in times)}; target ≤ 1 s, ratio {later:.2f})")
