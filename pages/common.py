"""Session state and sidebar shared by every page (not a page itself).

State lives under plain nouns: ``table`` → ``prepared`` → ``training`` /
``detector`` → ``scores`` → ``threshold``. When an upstream choice changes,
:func:`forget_from` drops everything downstream in one place, so no page can
show a result of a model trained on other data.
"""

from __future__ import annotations

import streamlit as st

from core.errors import DataError
from core.pipeline import SAMPLES, guess_label, load_sample, prepare

ss = st.session_state
DEFAULT_SAMPLE = "machine_sensors.csv"
CHAIN = ("table", "prepared", "training", "detector", "scores", "threshold")

DATA_PAGE = "pages/data.py"
TRAIN_PAGE = "pages/train.py"
THRESHOLD_PAGE = "pages/threshold.py"


def forget_from(step: str) -> None:
    """Drop ``step`` and everything after it in the chain."""
    for key in CHAIN[CHAIN.index(step):]:
        ss.pop(key, None)
    if CHAIN.index(step) <= CHAIN.index("threshold"):
        for key in ("thr", "thr_num", "thr_default"):
            ss.pop(key, None)


def set_table(table) -> None:
    """A new table: forget everything after it and preselect its likely label."""
    forget_from("table")
    ss.table = table
    label = guess_label(table.frame)
    if table.name in SAMPLES:
        label = SAMPLES[table.name][1]
    ss.choice = {"label": label, "normal": None, "features": None, "seed": 0}


def ensure_defaults() -> None:
    """First visit: a bundled sample loaded with its label chosen, ready to train."""
    if "table" not in ss:
        set_table(load_sample(DEFAULT_SAMPLE))
        _, label, normal = SAMPLES[DEFAULT_SAMPLE]
        ss.choice.update(label=label, normal=list(normal))
        try:
            ss.prepared = prepare(ss.table, label, normal, seed=0)
        except DataError as exc:  # never expected for a bundled sample
            st.error(str(exc))
            return
        features = ss.prepared.features
        ss.choice["features"] = list(features)
        ss.prepared_key = (ss.table.sha256, label, tuple(normal), tuple(features), 0)


def require(key: str, message: str, page: str, label: str) -> None:
    """Stop the page with a pointer to the step that is missing."""
    if key not in ss:
        st.info(message)
        st.page_link(page, label=label, icon=":material/arrow_forward:")
        sidebar()
        st.stop()


def sidebar(show_threshold: bool = True) -> None:
    """What exists so far. The Threshold page shows its live threshold itself (its
    slider reruns only a fragment, which cannot redraw the sidebar)."""
    with st.sidebar:
        st.markdown("### Session")
        table = ss.get("table")
        if table is None:
            st.caption("No dataset")
            return
        st.markdown(f"**Dataset** `{table.name}`  \n{table.shape[0]:,} rows × {table.shape[1]} columns")
        prepared = ss.get("prepared")
        if prepared is not None:
            target = prepared.target
            if target.label is None:
                st.markdown("**Label** none (unsupervised)")
            else:
                st.markdown(f"**Label** `{target.label}`  \n**Normal** {', '.join(map(str, target.normal_classes))}")
            st.caption(f"{len(prepared.features)} features · split seed {prepared.split.seed}")
        detector = ss.get("detector")
        training = ss.get("training")
        if detector is not None:
            st.markdown(f"**Model** trained: {detector.epochs_run_} epochs, {detector.fit_seconds_:.1f} s")
        elif training is not None:
            done = training.trainer_.state.epochs_done
            st.markdown(f"**Model** training paused at epoch {done}/{training.trainer_.epochs}")
            st.page_link(TRAIN_PAGE, label="Continue on the Train page")
        else:
            st.markdown("**Model** not trained")
        if "threshold" in ss and show_threshold:
            st.markdown(f"**Threshold** {ss.threshold:.5g}")


def show_error(exc: DataError, keep: str = "") -> None:
    st.error(f"{exc}" + (f"  \n{keep}" if keep else ""), icon=":material/error:")
