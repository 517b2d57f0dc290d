"""The button that puts back the trained (or restored) model a compared one replaced in use."""

from __future__ import annotations

import streamlit as st

from ui import session as state


def go_back_button(session: state.Session, key: str) -> None:
    """Nothing the user trained is lost by trying a baseline: it is one click away, as it was."""
    study = session.study
    aside = study.set_aside if study is not None else None
    if aside is not None and st.button(f"Go back to the {aside.name} ({aside.origin})", key=key, icon=":material/undo:",
                                       help="As it was: its threshold and page settings are kept."):
        session.use_set_aside()
        st.rerun()
