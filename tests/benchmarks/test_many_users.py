"""Many users on one server, measured (not timed tests: it prints a table).

1. Server memory after 1, 10 and 30 browser sessions that each open the app, train a
   small dense autoencoder on the default sample and close their tab: the process's
   peak (VmHWM, since start) and its settled RSS (VmRSS once the closed sessions are
   gone). Streamlit keeps a disconnected session for ``server.disconnectedSessionTTL``
   seconds (default 120, in ``MemorySessionStorage``, a cachetools TTLCache that drops
   expired entries only when it is next written or sized); the server here runs with a
   TTL of 5 s, and after waiting past it one short probe session connects and leaves,
   which makes the storage drop the expired sessions. Target: settled RSS after 30
   sessions within 100 MB of the one-session figure.
2. Latency of GET /_stcore/health while three sessions train at once (target p95 ≤ 250 ms).

Measured 2026-11-24 on the 2-core machine at load average ~20 (five engineers): start
70 MB; 1 session: peak 760, settled 761 MB; 10: 873 / 841 MB; 30: 1034 / 1009 MB
(+247 MB, ~8.5 MB a session: target missed); health p50 40 ms, p95 182 ms, max 652 ms.
Why settled RSS grows: not the sessions (they are dropped, and the same growth, ~7 MB a
model, shows in a bare loop of ``begin_training``/``end_fit``/``score_all`` with
``gc.collect()`` and no Streamlit). The Keras models are collected (weak references die),
but every ``tf.function`` a model traced (train step, predict step per input shape) stays
in TensorFlow's process-wide eager context: ``context.context().list_function_names()``
grows by ~16 a model with plain Keras, ~32 with ``core``. Only ``keras.backend.clear_session``
(global: not while another session trains) or training in a separate process frees them.

Run: TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python -m pytest -p no:cacheprovider -q -s -m benchmark tests/benchmarks/test_many_users.py
"""

from __future__ import annotations

import re
import statistics
import time
import urllib.request
from pathlib import Path

import pytest

from tests.browser import ARGS, CHROMIUM, need_browser, running_app, settle

pytestmark = [pytest.mark.benchmark, pytest.mark.browser]
TTL = 5
WAVE = 5  # sessions driven side by side (each context is one user)
MB = 1024 * 1024


def memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in bytes."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) * 1024
    return fields


def open_train_page(browser, url: str, epochs: int, patience: int = 0):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.goto(url + "/train")
    settle(page, "Press Train to start", timeout=180_000)
    page.get_by_role("spinbutton", name="Epochs (most)").fill(str(epochs))
    page.get_by_role("spinbutton", name="Early-stopping patience").fill(str(patience))
    page.get_by_role("spinbutton", name="Early-stopping patience").press("Enter")
    settle(page, timeout=180_000)
    page.get_by_role("button", name=re.compile("^Train the dense autoencoder")).click()
    return context, page


def train_and_leave(browser, url: str, n: int) -> None:
    """``n`` sessions, ``WAVE`` at a time: each opens the app, trains 5 epochs and closes its tab."""
    while n > 0:
        wave = [open_train_page(browser, url, epochs=5) for _ in range(min(WAVE, n))]
        for context, page in wave:
            settle(page, "Go to Threshold", timeout=300_000)
            context.close()
        n -= len(wave)


def settled(browser, url: str, pid: int) -> int:
    """RSS once the closed sessions have outlived the TTL and the storage has dropped them."""
    time.sleep(TTL + 1)
    context = browser.new_context()
    page = context.new_page()
    page.goto(url)
    settle(page, "Ready to train", timeout=180_000)
    context.close()  # its disconnect writes to the session storage, which expires the old sessions
    time.sleep(TTL + 3)
    return memory(pid)["VmRSS"]


def health_ms(url: str) -> float:
    start = time.perf_counter()
    with urllib.request.urlopen(url + "/_stcore/health", timeout=30) as answer:
        assert answer.read() == b"ok"
    return (time.perf_counter() - start) * 1000


def test_memory_after_many_sessions_and_health_latency_while_three_train():
    need_browser()
    from playwright.sync_api import sync_playwright

    rows = []
    with running_app("--server.disconnectedSessionTTL", str(TTL)) as url, sync_playwright() as p:
        pid = running_app.pid
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            started = memory(pid)["VmRSS"]
            done = 0
            for total in (1, 10, 30):
                t0 = time.perf_counter()
                train_and_leave(browser, url, total - done)
                done = total
                peak = memory(pid)["VmHWM"]
                rows.append((total, peak, settled(browser, url, pid), time.perf_counter() - t0))
                print(f"\n{total} sessions: peak {peak / MB:.0f} MB, settled {rows[-1][2] / MB:.0f} MB, {rows[-1][3]:.0f} s", flush=True)

            # Three sessions train at once; the health endpoint is asked every 50 ms.
            trainers = [open_train_page(browser, url, epochs=2000) for _ in range(3)]
            for _, page in trainers:
                page.get_by_text(re.compile(r"autoencoder · epoch [1-9]\d* of 2000")).first.wait_for(timeout=180_000)
            latencies = []
            for _ in range(200):
                latencies.append(health_ms(url))
                time.sleep(0.05)
            still_training = sum(page.get_by_role("button", name="Stop training").count() for _, page in trainers)
            for context, _ in trainers:
                context.close()
        finally:
            browser.close()

    print(f"\nServer RSS at start (no session): {started / MB:.0f} MB")
    print(f"{'sessions':>8} {'peak MB':>8} {'settled MB':>10} {'vs 1 (MB)':>9} {'wall s':>7}")
    for total, peak, rss, wall in rows:
        print(f"{total:>8} {peak / MB:>8.0f} {rss / MB:>10.0f} {(rss - rows[0][2]) / MB:>+9.0f} {wall:>7.0f}")
    latencies.sort()
    p50, p95 = statistics.median(latencies), latencies[int(0.95 * (len(latencies) - 1))]
    print(f"health while 3 sessions train ({still_training} still training at the end): "
          f"n={len(latencies)} p50 {p50:.1f} ms · p95 {p95:.1f} ms (target ≤ 250) · max {latencies[-1]:.1f} ms")
    print(f"settled after 30 vs 1: {(rows[-1][2] - rows[0][2]) / MB:+.0f} MB (target ≤ +100 MB)")
