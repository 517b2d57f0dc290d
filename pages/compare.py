"""Compare: several autoencoders and classical baselines on the same split; a small random search."""

import streamlit as st

from core.compare import candidates, compare, comparison_table, random_search
from core.errors import DataError
from core.plots import compare_figure
from pages.common import DATA_PAGE, THRESHOLD_PAGE, forget_from, per_split, require, show_error, ss, stop_with

st.title("Compare detectors")
require("prepared", "Choose a dataset and its label first.", DATA_PAGE, "Go to Data")
prepared = ss.prepared
if prepared.target.y is None:
    stop_with("Comparing detectors needs a label column: choose one on the Data page.", DATA_PAGE, "Go to Data")

with st.expander("What am I looking at?"):
    st.markdown(
        "Each detector is fitted on the same normal training rows and its threshold is chosen the same way (best F1 on "
        "validation rows). The table and curves are on test rows, which none of them saw. Autoencoders are often said to beat "
        "PCA and Isolation Forest; here you can check whether that holds on your data. PCA reconstruction is a linear "
        "autoencoder, so if it ties, the non-linear network is not buying anything."
    )

options = per_split("compare_candidates", candidates, prepared)
signal_note = "" if "ae:conv1d" in options else " Conv1d and LSTM autoencoders are not offered: the features are not one signal (they need 16 or more numeric columns on one scale)."
st.caption("Candidates: " + " · ".join(f"**{name}**: {desc}" for name, desc in options.values()) + signal_note)
default = [k for k in ("ae:dense", "ae:variational", "iforest", "lof", "pca") if k in options]
with st.form("compare_form"):
    keys = st.multiselect("Detectors", list(options), default=default, format_func=lambda k: options[k][0], key="compare_keys")
    epochs = st.number_input("Most epochs per autoencoder", 1, 500, 60, key="compare_epochs", help="Early stopping may end sooner. The LSTM is slow on a CPU.")
    run = st.form_submit_button("Compare", type="primary", icon=":material/play_arrow:")
if run:
    bar = st.progress(0.0, text="Starting…")
    try:
        ss.comparison = compare(prepared, keys, int(epochs), progress=lambda f, text: bar.progress(f, text=text))
    except DataError as exc:
        show_error(exc)
    bar.empty()

results = ss.get("comparison")
if results:
    table = comparison_table(results)
    st.dataframe(table.style.format({c: "{:.3f}" for c in table.columns if c != "detector"}), width="stretch", hide_index=True)
    left, right = st.columns(2)
    points = {r.name: r.parts["test"].points for r in results}
    left.plotly_chart(compare_figure(points, "roc"), key="compare_roc")
    right.plotly_chart(compare_figure(points, "pr"), key="compare_pr")
    pick_col, button_col = st.columns([3, 1])
    chosen = pick_col.selectbox("Model for the Threshold, Inspect and Score pages", [r.name for r in results], key="compare_pick")
    if button_col.button("Use this model", key="compare_use", width="stretch"):
        result = next(r for r in results if r.name == chosen)
        forget_from("detector")
        ss.pop("restored", None)
        ss.detector, ss.scores = result.detector, result.parts
        st.success(f"{chosen} is now the model in use.")
        st.page_link(THRESHOLD_PAGE, label="Go to Threshold", icon=":material/arrow_forward:")

st.subheader("A small random search")
st.caption("Random trials over code size, hidden widths, dropout and learning rate, ranked by average precision on validation rows. "
           "A plain seeded loop over the same estimator; Keras Tuner would add a dependency and files on disk for no gain at this size.")
with st.form("search_form"):
    a, b, c = st.columns(3)
    trials = a.number_input("Trials", 1, 50, 6, key="search_trials")
    search_epochs = b.number_input("Most epochs per trial", 1, 300, 30, key="search_epochs")
    architecture = c.selectbox("Architecture", [k[3:] for k in options if k.startswith("ae:")], key="search_arch")
    go = st.form_submit_button("Search", icon=":material/travel_explore:")
if go:
    bar = st.progress(0.0, text="Starting…")
    try:
        ss.search = random_search(prepared, int(trials), int(search_epochs), seed=prepared.split.seed, architecture=architecture,
                                  progress=lambda f, text: bar.progress(f, text=text))
    except DataError as exc:
        show_error(exc)
    bar.empty()
if ss.get("search"):
    table, best = ss.search
    st.dataframe(table.style.format({"learning rate": "{:.2e}", "AP (validation)": "{:.3f}", "AP (test)": "{:.3f}", "fit s": "{:.1f}", "dropout": "{:.1f}"}),
                 width="stretch", hide_index=True)
    if st.button(f"Use the best trial (validation AP {best.parts['val'].curve.average_precision:.3f})", key="search_use"):
        forget_from("detector")
        ss.pop("restored", None)
        ss.detector, ss.scores = best.detector, best.parts
        st.success("The best trial is now the model in use.")
