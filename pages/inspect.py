"""Inspect: why is this row an anomaly? The worst rows, the mistakes, and what drives detection."""

import streamlit as st

from core.evaluation import PART_NAMES
from core.explain import OUTCOMES, explain_row, feature_importance, filter_rows, is_sequence, latent_points, per_feature_errors, row_table
from core.plots import contributions_figure, feature_importance_figure, histogram_figure, latent_figure, mark_score, reconstruction_figure
from pages.common import TRAIN_PAGE, current_threshold, is_autoencoder, require, ss, stop_with

st.title("Inspect")
require("detector", "Train a model first: this page explains its scores.", TRAIN_PAGE, "Go to Train")
require("scores", "This model has no scored rows yet: load a labelled table with its columns on the Data page.", TRAIN_PAGE, "Go to Train")
detector, parts, prepared = ss.detector, ss.scores, ss.prepared
if not is_autoencoder(detector):
    stop_with("The model in use is a baseline from the Compare page: per-feature explanations need an autoencoder's reconstruction. "
              "Choose an autoencoder on the Compare page or train one.", TRAIN_PAGE, "Go to Train")

with st.expander("What am I looking at?"):
    st.markdown(
        "The autoencoder squeezes each row into a short code and rebuilds it from that code. It learned to do that for normal "
        "rows only, so an unusual row comes back wrong: the **reconstruction** (red) departs from the **original** (blue), and "
        "the features where it departs most are why the row scores high. The latent space shows the codes themselves: "
        "normal rows crowd together, anomalies tend to sit apart."
    )

threshold = current_threshold().value
a, b, c = st.columns([1, 2, 1])
part = a.radio("Rows shown", ["val", "test"], index=["val", "test"].index(ss.get("inspect_part", ss.get("thr_part", "val"))),
               format_func={"val": "validation", "test": "test"}.get, horizontal=True, key="inspect_part_pick")
shown = parts[part]
labelled = shown.y is not None
choices = list(OUTCOMES) if labelled else ["flagged", "passed"]
preset = ss.pop("inspect_outcome", None)
if preset:
    ss.inspect_outcomes = [preset]
wanted = b.multiselect("Outcome", choices, default=choices, key="inspect_outcomes",
                       format_func=lambda o: f"{OUTCOMES.get(o, o)} ({o})" if o in OUTCOMES else o)
search = c.text_input("Search (row number or label)", key="inspect_search")

cache_key = (id(detector), part)
if ss.get("inspect_cache_key") != cache_key:  # once per model and part, not per selection
    ss.inspect_cache_key = cache_key
    ss.inspect_per_feature = per_feature_errors(detector, shown)
    ss.inspect_latent = None
table = filter_rows(row_table(prepared, shown, threshold), wanted, search)
st.caption(f"{len(table):,} of {len(shown.scores):,} {PART_NAMES[part]} at threshold {threshold:.5g}, highest score first. Select a row to explain it.")
selection = st.dataframe(table, width="stretch", height=300, hide_index=True, on_select="rerun", selection_mode="single-row", key="inspect_table",
                         column_config={"anomaly_score": st.column_config.NumberColumn("anomaly score", format="%.4g")})
picked = selection.selection.rows if selection is not None else []
default_row = int(table["row"].iloc[picked[0]]) if picked else (int(table["row"].iloc[0]) if len(table) else int(shown.positions[0]) + 1)
row_number = st.number_input("…or type a row number (as in the file, from 1)", min_value=1, max_value=len(prepared.table.frame), value=default_row,
                             key=f"inspect_row_{default_row}")
position = int(row_number) - 1

explanation = explain_row(detector, prepared, position)
in_part = position in set(shown.positions.tolist())
st.subheader(f"Row {row_number}: score {explanation.score:.4g} — {'flagged as anomaly' if explanation.score > threshold else 'passed as normal'}")
if not in_part:
    st.caption("This row is not among the shown rows (it may be a training row); it is explained all the same.")
left, right = st.columns([3, 2])
sequence = is_sequence(prepared, detector)
order = list(explanation.original.index) if sequence else [n for n in explanation.contributions.index if n in explanation.original.index]
left.plotly_chart(reconstruction_figure(order, explanation.original[order].to_numpy(), explanation.reconstruction[order].to_numpy(), sequence=sequence,
                                        title="Original and reconstruction, in the file's units" + ("" if sequence else " (largest error first)")), key="inspect_recon")
right.plotly_chart(contributions_figure(explanation.contributions), key="inspect_contrib")
hist = histogram_figure(shown.bins_log, threshold, title=f"Where row {row_number} sits among the {PART_NAMES[part]}")
st.plotly_chart(mark_score(hist, explanation.score, f"row {row_number}"), key="inspect_hist")

st.subheader("What drives detection overall")
st.plotly_chart(feature_importance_figure(feature_importance(ss.inspect_per_feature, shown.y)), key="inspect_importance")

st.subheader("The latent space")
if ss.get("inspect_latent") is None:
    ss.inspect_latent = latent_points(detector, prepared, shown)
points = ss.inspect_latent
if points.subsampled_from:
    st.caption(f"A random 5,000 of the {points.subsampled_from:,} {PART_NAMES[part]} are drawn, for speed.")
st.plotly_chart(latent_figure(points, threshold, highlight_row=int(row_number)), key="inspect_latent_fig")
