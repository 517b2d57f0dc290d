"""The sidebar: what exists so far in this session, in a few lines."""

from __future__ import annotations

import threading

import streamlit as st

from core.thresholds import rule_words
from ui import session as state
from ui.paths import TRAIN_PAGE
from ui.text import names, plain


def model_line(run: state.ModelRun) -> str:
    """The model in use in words: what it is, where it came from, how its score is made."""
    d = run.detector
    line = f"**Model** {plain(run.name)}, {run.provenance}"
    if hasattr(d, "epochs_run_"):
        line += f"  \n{d.epochs_run_} epochs, {d.fit_seconds_:.1f} s"
    elif hasattr(d, "members_") and hasattr(d, "fit_seconds_"):
        line += f"  \n{len(d.members_)} networks, {d.fit_seconds_:.1f} s"
    if getattr(d, "score_parts_", None):
        line += f"  \nScore: {' + '.join(d.score_parts_)}"
    return line


#: This run's place for the sidebar (see :func:`reserve`); one per script thread, as each session runs in its own.
_place = threading.local()


def reserve() -> None:
    """Hold the sidebar's place at its top for this run, so that it can be drawn more than once: a long
    training draws it before the first epoch (the sidebar of the run before said "not trained" beside the
    live chart), and the page's end draws it again with the model the training gave."""
    _place.holder = st.sidebar.empty()


def release() -> None:
    _place.holder = None


def sidebar(show_threshold: bool = True, training_now: bool = False) -> None:
    """The Threshold page shows its live threshold itself; elsewhere the sidebar does. ``training_now``: the
    page is training the model of the split in use as it draws it."""
    session = state.get()
    holder = getattr(_place, "holder", None)
    with holder.container() if holder is not None else st.sidebar:
        st.markdown("### Session")
        table = session.table
        st.markdown(f"**Dataset** {plain(table.name)}  \n{table.shape[0]:,} rows × {table.shape[1]:,} columns")
        prepared = session.prepared
        if prepared is not None:
            target = prepared.target
            if target.label is None:
                st.markdown("**Label** none (every training row is taken as normal)")
            else:
                st.markdown(f"**Label** {plain(target.label)}  \n**Normal** {names(target.normal_classes, 5)}")
            n = len(prepared.features)
            st.caption(f"{n:,} feature{'' if n == 1 else 's'} · split seed {prepared.split.seed}")
        run = session.run
        study = session.study
        if run is not None:
            st.markdown(model_line(run))
            if run.study is None:
                st.caption(f"No scored rows of this table: {plain(run.unscored, 400)}")
            if show_threshold:
                band = (f"; review from {run.review_from:.6g}" if run.review_from is not None else
                        f"; review band idle (it starts at {run.review_band_start:.6g})" if run.review_band_idle else "")
                st.markdown(f"**Threshold** {run.threshold.value:.6g} ({plain(rule_words(run.threshold.rule))}){band}")
        elif study is not None and study.training is not None:
            training = study.training
            what = (f"{training.n_networks} {plain(training.architecture)} autoencoders (an ensemble)" if training.trainer_.n_networks > 1
                    else f"{plain(training.architecture)} autoencoder")
            if training_now:  # drawn once as the run begins, so it says nothing that the run moves on
                st.markdown(f"**Model** {what}, training now ({training.trainer_.epochs} epochs{' each' if ' autoencoders' in what else ''} at most)")
            elif training.trainer_.state.stopped_by_user:  # stopped by Streamlit's own Stop before its model was made
                st.markdown(f"**Model** {what}, training stopped ({state.training_progress(training)})")
                st.page_link(TRAIN_PAGE, label="Finish it on the Train page")
            else:
                st.markdown(f"**Model** {what}, training paused ({state.training_progress(training)})")
                st.page_link(TRAIN_PAGE, label="Continue on the Train page")
        else:
            st.markdown("**Model** not trained")
