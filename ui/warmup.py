"""Warm the server up in the background once the first page has been sent.

Keras and TensorFlow take seconds to import and their first training call sets up
TensorFlow's runtime; paid on the first Train click, that is the wait a new user sees.
:func:`start` runs :func:`warm` once per server process in a daemon thread, after the
first page has been drawn: it imports what the Train page needs, trains a tiny network
once, then freezes the garbage collector's view of everything loaded so far.

The freeze matters on every click, not only the first: Streamlit collects garbage after
each script run, twice when Keras is loaded (``runner.postScriptGC`` and Keras's
``clear_session``), and with TensorFlow's 400,000 objects each pass holds the
interpreter for about a quarter of a second. Frozen objects are skipped by those passes
(they are modules and their tables, which live as long as the process anyway).

Nothing here may block or break a page: the thread is a daemon, waits before starting,
and a failure is logged, never raised (the first training then loads Keras itself).
Scoring paths must not rely on it: it only saves time.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger("anomaly_lab")

#: Seconds to wait after the first page is sent, so the browser draws it before the warm-up takes a core.
DELAY_SECONDS = 1.0

_lock = threading.Lock()
_thread: threading.Thread | None = None


def start(work: Callable[[], None] | None = None, delay: float = DELAY_SECONDS) -> threading.Thread:
    """Start the warm-up unless this process already has; returns its thread (the same one every time)."""
    global _thread
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=_run, args=(work or warm, delay), name="anomaly-lab-warmup", daemon=True)
            _thread.start()
        return _thread


def _run(work: Callable[[], None], delay: float) -> None:
    time.sleep(delay)
    t0 = time.perf_counter()
    try:
        work()
    except Exception:  # noqa: BLE001 - a warm-up must never take the server down
        log.exception("The background warm-up failed; the first training will load Keras itself")
    else:
        log.info("Warm-up done in %.1f s", time.perf_counter() - t0)


def warm() -> None:
    """Import the training stack, train a tiny network once (it is thrown away) and draw a loss figure,
    then freeze the GC.

    When Keras is already loaded (a Train page or a test got there first), training has taken or is
    taking that path itself: a second network would only compete with it for the cores.
    """
    import sys

    if "keras" not in sys.modules:
        import numpy as np
        import pandas as pd

        from core.detector import AutoencoderDetector  # Keras and TensorFlow come with its first fit

        rng = np.random.default_rng(0)
        frame = pd.DataFrame(rng.normal(size=(64, 4)), columns=list("abcd"))
        AutoencoderDetector(hidden_sizes=(4,), code_size=2, epochs=1, batch_size=16, patience=0).fit(frame)
    from core.plots import loss_figure

    loss_figure({"loss": [1.0], "val_loss": [1.0]}, 1)  # Plotly's first figure in a process loads its template (~0.3 s)
    gc.collect()
    gc.freeze()
