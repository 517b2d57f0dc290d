"""Anomaly Lab: page config, navigation and the sidebar; the pages do the rest."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import streamlit as st  # noqa: E402

st.set_page_config(page_title="Anomaly Lab", page_icon=":material/troubleshoot:", layout="wide")

from pages.common import COMPARE_PAGE, DATA_PAGE, INSPECT_PAGE, SCORE_PAGE, THRESHOLD_PAGE, TRAIN_PAGE, ensure_defaults, sidebar  # noqa: E402

pages = [
    st.Page(DATA_PAGE, title="1 · Data", icon=":material/table:", default=True),
    st.Page(TRAIN_PAGE, title="2 · Train", icon=":material/model_training:"),
    st.Page(THRESHOLD_PAGE, title="3 · Threshold", icon=":material/tune:", url_path="threshold"),
    st.Page(INSPECT_PAGE, title="4 · Inspect", icon=":material/search_insights:"),
    st.Page(SCORE_PAGE, title="5 · Score new data", icon=":material/fact_check:"),
    st.Page(COMPARE_PAGE, title="6 · Compare detectors", icon=":material/compare:"),
]
page = st.navigation(pages)
ensure_defaults()
page.run()
sidebar(show_threshold=page.url_path != "threshold")  # after the page, so it shows what the page just did
