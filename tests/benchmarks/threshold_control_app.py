"""A one-control app for the live threshold's browser test and benchmark.

Environment: ALAB_ROWS (scored rows, default 10000), ALAB_LABELS (1/0), ALAB_LOG (1/0),
ALAB_TIES (1: scores rounded to 2 decimals, many ties). The page shows the value Python
holds, so a test can see a commit arrive.
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np
import streamlit as st

from core.metrics import ThresholdCurve
from ui.threshold_control import threshold_control

ROWS = int(os.environ.get("ALAB_ROWS", "10000"))
LABELS = os.environ.get("ALAB_LABELS", "1") == "1"
LOG = os.environ.get("ALAB_LOG", "1") == "1"
TIES = os.environ.get("ALAB_TIES", "0") == "1"


@st.cache_resource
def curve() -> ThresholdCurve:
    """Read-only and the same for every session: fine in cache_resource."""
    rng = np.random.default_rng(0)
    y = (rng.random(ROWS) < 0.05).astype(np.int64)
    scores = np.exp(rng.normal(-2.0, 0.8, ROWS) + 1.5 * y)
    if TIES:
        scores = np.round(scores, 2)
    return ThresholdCurve(scores, y if LABELS else None)


def _store(value: float) -> None:
    st.session_state.threshold = value


c = curve()
st.session_state.setdefault("threshold", float(np.quantile(c.sorted_scores, 0.9)))
if st.button("Jump to the median", key="jump"):
    st.session_state.threshold = float(np.median(c.sorted_scores))
t0 = time.perf_counter()
threshold_control(c, st.session_state.threshold, key="thr_live", memory=st.session_state.setdefault("thr_memory", {}), log_scale=LOG, rows_label="test rows", on_change=_store)
control_ms = 1e3 * (time.perf_counter() - t0)
st.session_state.runs = st.session_state.get("runs", 0) + 1
st.text(f"python threshold: {st.session_state.threshold!r}")
st.text(f"server: control {control_ms:.2f} ms in run {st.session_state.runs}")
