"""The background warm-up: started once per process, after the first page, and harmless when it fails."""

import logging
import os
import subprocess
import sys
import threading

from tests.conftest import ROOT
from ui import warmup


def test_the_warm_up_starts_once_per_process_and_runs_its_work_once(monkeypatch):
    monkeypatch.setattr(warmup, "_thread", None)
    calls = []
    done = threading.Event()

    def work():
        calls.append(threading.current_thread())
        done.set()

    first = warmup.start(work, delay=0)
    again = warmup.start(work, delay=0)
    assert again is first and first.daemon
    assert done.wait(10)
    first.join(10)
    assert calls == [first]


def test_a_failing_warm_up_is_logged_and_never_raised(monkeypatch, caplog):
    monkeypatch.setattr(warmup, "_thread", None)

    def broken():
        raise RuntimeError("no TensorFlow today")

    with caplog.at_level(logging.ERROR, logger="anomaly_lab"):
        thread = warmup.start(broken, delay=0)
        thread.join(10)
    assert not thread.is_alive()
    assert any("warm-up failed" in r.getMessage() and r.exc_info and "no TensorFlow today" in str(r.exc_info[1]) for r in caplog.records)


def test_the_app_starts_the_warm_up_after_its_first_page(monkeypatch):
    from streamlit.testing.v1 import AppTest

    import streamlit as st

    started = []  # whether the Data page had already made the session when the warm-up was asked for
    monkeypatch.setattr(warmup, "start", lambda *a, **k: started.append("session" in st.session_state))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception
    assert started and all(started)  # asked by app.py after the page, and by the Data page once its split is ready
    assert any("Ready to train" in s.value for s in at.success)


def test_warm_loads_the_training_stack_trains_once_and_freezes_the_collector():
    code = ("import gc, sys; from ui import warmup; warmup.warm(); "
            "print(all(m in sys.modules for m in ('keras', 'tensorflow', 'core.detector', 'core.training', 'scipy.spatial')), gc.get_freeze_count() > 100_000)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["True", "True"]


def test_warm_trains_nothing_when_keras_is_already_loaded_but_still_freezes_the_collector():
    code = ("import gc, keras; import core.detector as d; from ui import warmup\n"
            "def boom(*a, **k): raise AssertionError('a second network was trained')\n"
            "d.AutoencoderDetector.fit = boom; warmup.warm(); print(gc.get_freeze_count() > 100_000)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["True"]
