"""One page body, run so that no traceback ever reaches the browser."""

from __future__ import annotations

import logging
from typing import Callable

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner_utils.exceptions import ScriptControlException

from core.errors import DataError
from ui.sidebar import release, reserve, sidebar
from ui.text import message

log = logging.getLogger("anomaly_lab")


class PageStopped(Exception):
    """Raised by :func:`stop_with` to end a page's body early. Not ``st.stop()``: its stop request stays
    pending, so the sidebar drawn after it was cut off at its first element and vanished."""


def run_page(body: Callable[[], None], *, sidebar_threshold: bool = True) -> None:
    """Run ``body``; a DataError is shown as what to fix, anything else as a short
    apology (the traceback goes to the server log, never to the page). The sidebar is
    drawn after the page, so it shows what the page just did, and also when the page
    stopped early."""
    _through_app_navigation()
    reserve()
    try:
        body()
    except PageStopped:  # the page said what is missing and how to get it; the sidebar still shows the session
        sidebar_threshold = True  # the page that shows the threshold itself stopped before it did
    except ScriptControlException:  # st.stop, st.rerun, st.switch_page: Streamlit's own control flow
        sidebar(show_threshold=sidebar_threshold)
        release()
        raise
    except DataError as exc:
        st.error(message(exc), icon=":material/error:")
    except Exception as exc:  # noqa: BLE001 - the last line of defence: log it, say it plainly
        log.exception("Unexpected error on a page")
        st.error(f"Something went wrong that the app did not expect ({type(exc).__name__}). Your table, choices and model are kept; "
                 "try the step again, or reload the page. The details are in the server log.", icon=":material/error:")
    sidebar(show_threshold=sidebar_threshold)
    release()


#: Whether no page of this process has run yet (see :func:`_through_app_navigation`).
_first_page_run = True


def _through_app_navigation() -> None:
    """Rerun through app.py when Streamlit ran this page script by itself.

    Until a script has called ``st.navigation``, Streamlit takes a ``pages/`` folder for its
    older multipage scheme: the first visit of a freshly started server at a page's address
    (``/train``) runs ``pages/train.py`` alone, without app.py's page config and titled
    navigation, and the sidebar lists the file names. One rerun goes through app.py instead.
    Only for a process's first page run: AppTest resets the flag on every run and runs a
    page it was switched to that way by design, where a rerun would drop a click.
    """
    global _first_page_run
    first, _first_page_run = _first_page_run, False
    if first and PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False  # what st.navigation itself sets
        st.rerun()


def stop_with(message: str, page: str, label: str) -> None:
    """Stop the page with a message and a link to the step that fixes it."""
    st.info(message)
    st.page_link(page, label=label, icon=":material/arrow_forward:")
    raise PageStopped


def stop_if_training(session, then: str) -> None:
    """Stop the page, pointing back to Train, while a training is under way (paused while the user is elsewhere)."""
    from ui.paths import TRAIN_PAGE

    study = session.study
    if study is not None and study.training is not None:
        if study.training.trainer_.state.stopped_by_user:  # stopped (Streamlit's own Stop) before its model was made
            stop_with(f"A training was stopped: its model is made from what it learned when you return to the Train page. {then}",
                      TRAIN_PAGE, "Go to Train")
        stop_with(f"A training is under way: it pauses while you are away from the Train page and goes on when you return there. {then}",
                  TRAIN_PAGE, "Go to Train")


def require_scored_run(session, why: str):
    """The model in use with scored rows of this table, or stop with the step that gives one."""
    from ui.paths import DATA_PAGE, TRAIN_PAGE

    run = session.scored_run
    if run is None:
        stop_if_training(session, f"{why[0].upper()}{why[1:]}")
        if session.run is not None:
            stop_with(f"The model in use has no scored rows of this table. {message(session.run.unscored)}" if session.run.unscored else
                      "The model in use has no scored rows of this table: load a labelled table with its columns on the Data page.", DATA_PAGE, "Go to Data")
        stop_with(f"Train a model first: {why}", TRAIN_PAGE, "Go to Train")
    return run
