"""Downloads shared by pages: the model bundle with the threshold in use."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import streamlit as st

from core.bundle import bundle_bytes
from ui.session import ModelRun


def model_download(run: ModelRun, key: str, table_name: str) -> None:
    """A download of the model with the threshold in use (built only when clicked)."""
    detector, context = run.detector, run.bundle_context()
    threshold = replace(run.threshold, review_from=run.review_from)  # the review band goes with it, for the command line
    stem = table_name.rsplit(".", 1)[0] if run.study is not None else "model"
    st.download_button(
        "Download model (.zip)", data=lambda: bundle_bytes(detector, context, threshold),
        file_name=f"anomaly-lab-{stem}-{date.today().isoformat()}.zip", mime="application/zip", key=key,
        icon=":material/download:", on_click="ignore",
        help={"autoencoder": "The Keras model", "ensemble": "Each network's Keras model (a bundle of its own)",
              "baseline": "The scikit-learn model (skops, loaded with trusted types only)"}[run.kind]
        + f" and a JSON of everything else (no pickle), with the threshold in use, {threshold.value:.6g} ({threshold.rule})"
        + (f", and the review band from {threshold.review_from:.6g}." if threshold.review_from is not None else
           f"; not the review band, which starts at or above this threshold (from {run.review_band_start:.6g})." if run.review_band_idle else "."),
    )
