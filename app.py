"""Anomaly Lab: page config and navigation; each page draws itself and the sidebar. After the first
page, a background warm-up (ui/warmup.py) loads what training needs."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import streamlit as st  # noqa: E402

from ui import warmup  # noqa: E402
from ui.paths import COMPARE_PAGE, DATA_PAGE, INSPECT_PAGE, SCORE_PAGE, THRESHOLD_PAGE, TRAIN_PAGE  # noqa: E402

st.set_page_config(page_title="Anomaly Lab", page_icon=":material/troubleshoot:", layout="wide")
page = st.navigation([
    st.Page(DATA_PAGE, title="1 · Data", icon=":material/table:", default=True),
    st.Page(TRAIN_PAGE, title="2 · Train", icon=":material/model_training:"),
    st.Page(THRESHOLD_PAGE, title="3 · Threshold", icon=":material/tune:", url_path="threshold"),
    st.Page(INSPECT_PAGE, title="4 · Inspect", icon=":material/search_insights:"),
    st.Page(SCORE_PAGE, title="5 · Score new data", icon=":material/fact_check:"),
    st.Page(COMPARE_PAGE, title="6 · Compare detectors", icon=":material/compare:"),
])
try:
    page.run()
finally:  # once per server process, after the first page has been sent (also when it stopped early)
    warmup.start()
