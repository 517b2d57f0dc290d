"""Starting the real app on a free port and driving it in Debian's headless Chromium."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
SETTLED = '[data-testid="stApp"][data-test-script-state="notRunning"][data-test-connection-state="CONNECTED"]'
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"


def need_browser() -> None:
    """Skip without Chromium locally; in CI (CI=true) a missing browser is a failure."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run should have installed it")
        pytest.skip("chromium is not installed (apt-get install chromium)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_app(*flags: str):
    """The app on a free port; ``flags`` are extra ``streamlit run`` options (e.g. ``--server.disconnectedSessionTTL``, ``5``)."""
    port = free_port()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    log = open(ROOT / "test-artifacts" / f"streamlit-{port}.log", "w") if (ROOT / "test-artifacts").exists() else subprocess.DEVNULL
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none", *flags],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    running_app.pid = proc.pid  # for tests that watch the server's own CPU
    try:
        deadline = time.time() + 90
        while True:
            try:
                if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                pass
            if time.time() > deadline or proc.poll() is not None:
                raise RuntimeError("the app did not start")
            time.sleep(0.3)
        yield url
    finally:
        stop_process(proc)


def stop_process(proc: subprocess.Popen, timeout: float = 10) -> None:
    """Terminate a server process, and kill it if it has not ended within ``timeout`` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def browser_page(width: int = 1280, height: int = 1000):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
            yield context.new_page()
        finally:
            browser.close()


def settle(page, text: str | None = None, timeout: float = 90_000) -> None:
    if text:
        page.get_by_text(text).first.wait_for(timeout=timeout)
    page.wait_for_selector(SETTLED, timeout=timeout)


#: Installed before the page's own scripts (``page.add_init_script``): records, in the browser's own clock
#: (milliseconds since the epoch, comparable with Python's ``time.time()`` on the same machine), when each
#: named CSS selector first matches a visible element, and when the frame after it ran (what is painted),
#: and every click. Playwright's own waits poll at 0, 20, 50, 100, 100 ms and then every 500 ms, so a
#: time taken when ``wait_for_selector`` returns can be up to half a second late; this cannot.
FIRST_SEEN = """(watched) => {
  const now = () => performance.timeOrigin + performance.now();
  window.__seen = {}; window.__clicks = [];
  document.addEventListener('click', () => window.__clicks.push(now()), true);
  const check = () => {
    for (const [name, selector] of Object.entries(watched)) {
      if (window.__seen[name]) continue;
      const hit = [...document.querySelectorAll(selector)].some(e => e.checkVisibility({opacityProperty: true, visibilityProperty: true}));
      if (hit) { const at = now(); window.__seen[name] = {at, painted: null}; requestAnimationFrame(() => { window.__seen[name].painted = now(); }); }
    }
  };
  new MutationObserver(check).observe(document, {subtree: true, childList: true, attributes: true});
}"""


def watch_first_seen(page, **selectors: str) -> None:
    """Record in the page when each selector (by name) first matches a visible element; read with :func:`first_seen`."""
    page.add_init_script(f"({FIRST_SEEN})({json.dumps(selectors)})")


def first_seen(page, name: str) -> float:
    """When ``name``'s selector was first visible and painted, in seconds since the epoch (``time.time()``'s clock)."""
    page.wait_for_function("(name) => window.__seen && window.__seen[name] && window.__seen[name].painted", arg=name, timeout=30_000)
    return page.evaluate("(name) => window.__seen[name].painted", name) / 1000


def forget_seen(page, name: str) -> None:
    """Watch for ``name``'s selector anew, e.g. before a click whose effect is to be timed."""
    page.evaluate("(name) => { delete window.__seen[name]; window.__clicks = []; }", name)


def last_click(page) -> float:
    """When the page last received a click, in seconds since the epoch."""
    return page.evaluate("() => window.__clicks[window.__clicks.length - 1]") / 1000


def shoot(page, name: str) -> Path:
    """A full-page screenshot: the viewport grows to the page's height first, since
    Streamlit scrolls inside its own container."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # Widgets whose code the browser is still fetching show as grey skeletons on a first load.
    page.wait_for_function("() => !document.querySelector('[data-testid=stSkeleton]')", timeout=30_000)
    height = page.evaluate("() => Math.max(...[...document.querySelectorAll('section, [data-testid=stMain], [data-testid=stMainBlockContainer]')].map(e => e.scrollHeight), 900)")
    width = page.viewport_size["width"]
    page.set_viewport_size({"width": width, "height": int(height) + 40})
    page.wait_for_timeout(400)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": width, "height": 1000})
    return path
