"""Inspect: why is this row an anomaly? The worst rows, the mistakes, and what drives detection."""

import hashlib

import numpy as np
import streamlit as st

from core.evaluation import PART_NAMES
from core.explain import (OUTCOMES, explain_row, feature_importance, filter_rows, is_sequence, latent_points, per_feature_errors, per_feature_rarity,
                          reads_reconstruction, row_table)
from core.plots import contributions_figure, feature_importance_figure, histogram_figure, latent_figure, mark_score, reconstruction_figure
from ui import session as state
from ui.guard import require_scored_run, run_page
from ui.paths import COMPARE_PAGE
from ui.set_aside import go_back_button
from ui.text import names, plain


def filters(run: state.ModelRun) -> tuple[str, list[str], str]:
    owner = run.widgets
    a, b, c = st.columns([1, 2, 1])
    part = state.kept(a.radio, "Rows shown", owner=owner, name="inspect_part", default=owner.get("thr_part", "val"), options=["val", "test"],
                      format_func={"val": "validation", "test": "test"}.get, horizontal=True)
    labelled = run.scores[part].y is not None
    choices = list(OUTCOMES) if labelled else ["flagged", "passed"]
    wanted = state.kept(b.multiselect, "Outcome", owner=owner, name="inspect_outcomes", default=choices, valid=lambda v: all(o in choices for o in v),
                        options=choices, format_func=lambda o: f"{OUTCOMES.get(o, o)} ({o})" if o in OUTCOMES else o)
    search = state.kept(c.text_input, "Search (row number or label)", owner=owner, name="inspect_search", default="")
    return part, wanted, search


def pick_row(run: state.ModelRun, part: str, wanted: list[str], search: str, threshold: float, action: str = "explain it") -> int:
    """The row to explain: selected in the table, typed, or the top row. The table's key
    follows the filters, so a selection never points into another filter's rows."""
    shown, prepared = run.scores[part], run.prepared
    table = filter_rows(row_table(prepared, shown, threshold), wanted, search)
    every = "" if wanted else " No outcome is chosen, so every row is shown."
    pick = f" Select a row to {action}." if len(table) else ""
    st.caption(f"{len(table):,} of {len(shown.scores):,} {PART_NAMES[part]} at threshold {threshold:.6g}, highest score first.{every}{pick}")
    view_id = hashlib.sha1(repr((part, sorted(wanted), search, threshold)).encode()).hexdigest()[:12]
    drawn = run.widgets.get("inspect_table_drawn", 0)  # a new table (no row ticked) each time a typed number replaces a selection
    selection = st.dataframe(table, width="stretch", height=300, hide_index=True, on_select="rerun", selection_mode="single-row",
                             key=f"inspect_table_{run.widgets.tag}_{view_id}_{drawn}",
                             column_config={"anomaly_score": st.column_config.NumberColumn("anomaly score", format="%.4g")})
    if not len(table):
        st.caption(f"No row matches these filters: below is the first of the {PART_NAMES[part]} in file order. Type a row number to choose another.")
    picked = [i for i in (selection.selection.rows if selection is not None else []) if 0 <= i < len(table)]
    selected_row = int(table["row"].iloc[picked[0]]) if picked else None
    kept_view, kept_row = run.widgets.get("inspect_row", (None, None))  # the row chosen on this view before the page was left
    if selected_row is not None:
        default_row = selected_row
    elif kept_view == view_id:
        default_row = kept_row
    else:
        default_row = int(table["row"].iloc[0]) if len(table) else int(shown.positions[0]) + 1
    n_rows = len(prepared.table.frame)
    # The box is drawn anew when a row is selected in the table (it then shows that row), not when a number is typed: a
    # key that followed the typed row made every second number typed land in a box that was then replaced.
    typed = int(st.number_input(f"…or type a row number (as in the file, 1 to {n_rows:,})", value=default_row, step=1,
                                key=f"inspect_row_{run.widgets.tag}_{view_id}_{selected_row if selected_row is not None else 'typed'}",
                                help=f"The file's rows are numbered 1 to {n_rows:,}; another number is not taken and the row shown stays."))
    if not 1 <= typed <= n_rows:  # said in words beside the box (bounds on the box would only turn it red)
        row_number = selected_row if selected_row is not None else default_row
        st.warning(f"There is no row {typed:,}: the file's rows are numbered 1 to {n_rows:,}. Still showing row {row_number:,}.",
                   icon=":material/warning:")
        return row_number
    row_number = typed
    run.widgets.values["inspect_row"] = (view_id, row_number)
    if selected_row is not None and row_number != selected_row:  # typed over a selection: the tick on another row goes
        run.widgets.values["inspect_table_drawn"] = drawn + 1
        st.rerun()
    return row_number


def elsewhere(run: state.ModelRun, position: int) -> str:
    """Where a row that is not among the shown rows is, in words."""
    part = run.prepared.split.part_of(position)
    if part is None:
        return "This row is in no part of the split, so it is not among the shown rows."
    if part == "train":
        return "This row is a training row, not among the shown rows: the model learned from the normal ones."
    return f"This row is one of the {PART_NAMES[part]}, not among the rows shown now (the filters or the other part)."


def row_heading(row_number: int, score: float, threshold: float) -> None:
    st.subheader(f"Row {row_number}: score {score:.4g} — {'flagged as anomaly' if score > threshold else 'passed as normal'}")


def score_parts_caption(explanation) -> None:
    """What the row's score adds up, and, when it reads the tails part, its rarest values: a score the network's
    own charts below do not explain is said to be so."""
    if not explanation.parts:
        return
    if explanation.of_networks:
        each = ", ".join(f"{name} {value:.4g}" for name, value in explanation.parts.items())
        st.caption(f"This row's score is the mean of its networks' scores, {each} (each divided by its mean on normal training rows, so "
                   "each averages 1 there). The charts below show the networks' mean reconstruction and errors.")
    elif len(explanation.parts) == 1:
        (name, value), = explanation.parts.items()
        st.caption(f"This row's score is its {name} part alone, {value:.4g} (it averages 1 on normal training rows).")
    else:
        total = " + ".join(f"{name} {value:.4g}" for name, value in explanation.parts.items())
        st.caption(f"This row's score adds {total} (each part averages 1 on normal training rows).")
    if explanation.rarity is not None:
        rarest = "; ".join(f"'{plain(name, 60)}' {how}" for name, how in explanation.rarest())
        tails = explanation.parts.get("tails")
        note = " The reconstruction charts below do not show this part." if tails is not None and tails >= max(explanation.parts.values()) else ""
        st.caption(f"Its rarest values among the normal training rows (the tails part): {rarest}.{note}")


def baseline_rows(session: state.Session, run: state.ModelRun) -> None:
    """A baseline scores rows but cannot say which feature a score comes from: its rows and where each sits, no more."""
    st.info(f"The model in use is {plain(run.name)}, a baseline {run.provenance}: it scores each row, but per-feature explanations need an "
            "autoencoder's reconstruction. Its rows and scores are below; for explanations choose an autoencoder on the Compare page or train one.")
    go_back_button(session, "inspect_back")
    st.page_link(COMPARE_PAGE, label="Go to Compare", icon=":material/arrow_forward:")
    threshold = run.threshold.value
    part, wanted, search = filters(run)
    shown = run.scores[part]
    row_number = pick_row(run, part, wanted, search, threshold, action="see where its score sits")
    position = row_number - 1
    among = np.flatnonzero(shown.positions == position)
    score = float(shown.scores[among[0]]) if len(among) else float(run.detector.decision_function(run.prepared.table.frame.iloc[[position]])[0])
    row_heading(row_number, score, threshold)
    if not len(among):
        st.caption(f"{elsewhere(run, position)} It is scored all the same.")
    hist = histogram_figure(shown.bins_log, threshold, title=f"Where row {row_number} sits among the {PART_NAMES[part]}")
    st.plotly_chart(mark_score(hist, score, f"row {row_number}"), key="inspect_hist")


def body() -> None:
    session = state.get()
    st.title("Inspect")
    run = require_scored_run(session, "this page explains its scores.")
    if run.kind == "baseline":
        baseline_rows(session, run)
        return
    ensemble = run.kind == "ensemble"
    with st.expander("What am I looking at?"):
        st.markdown(
            "The autoencoder squeezes each row into a short code and rebuilds it from that code. It learned to do that for normal "
            "rows only, so an unusual row comes back wrong: the **reconstruction** (red) departs from the **original** (blue), and "
            "the features where it departs most are why the row scores high. The latent space shows the codes themselves: "
            "normal rows crowd together, anomalies tend to sit apart. The score may also read how rare each value is in its own "
            "column among the normal training rows (the tails part); the line under the row's heading says which parts its score adds."
            + ("\n\nThis model is an **ensemble**: several networks, each trained from other starting weights, score every row and the "
               "score is the mean of their scores. The reconstruction and errors shown are the networks' means; the latent space is the "
               "first network's (each network has a code space of its own)." if ensemble else "")
        )
    go_back_button(session, "inspect_back")  # a compared, searched or restored model may have replaced the one trained here
    detector, prepared = run.detector, run.prepared
    threshold = run.threshold.value
    part, wanted, search = filters(run)
    shown = run.scores[part]
    row_number = pick_row(run, part, wanted, search, threshold)
    position = row_number - 1

    explanation = explain_row(detector, prepared, position)
    row_heading(row_number, explanation.score, threshold)
    score_parts_caption(explanation)
    if position not in set(shown.positions.tolist()):
        st.caption(f"{elsewhere(run, position)} It is explained all the same.")
    left, right = st.columns([3, 2])
    sequence = is_sequence(prepared, detector)
    order = list(explanation.original.index) if sequence else [n for n in explanation.contributions.index if n in explanation.original.index]
    left.plotly_chart(reconstruction_figure(order, explanation.original[order].to_numpy(), explanation.reconstruction[order].to_numpy(), sequence=sequence,
                                            title=("Original and the networks' mean reconstruction" if ensemble else "Original and reconstruction, in the file's units") + ("" if sequence else " (largest error first)")), key="inspect_recon")
    right.plotly_chart(contributions_figure(explanation.contributions), key="inspect_contrib")
    text_features = list(detector.preprocessor_.categorical)
    if text_features and not sequence:
        left.caption(f"Text features ({names(text_features, 5)}) have no rebuild in the file's units to draw; their share of the error is in the bars "
                     "on the right.")
    hist = histogram_figure(shown.bins_log, threshold, title=f"Where row {row_number} sits among the {PART_NAMES[part]}")
    st.plotly_chart(mark_score(hist, explanation.score, f"row {row_number}"), key="inspect_hist")

    st.subheader("What drives detection overall")
    rarity = run.cached(f"rarity_{part}", lambda: per_feature_rarity(detector, prepared, shown))
    if rarity is not None:
        st.plotly_chart(feature_importance_figure(feature_importance(rarity, shown.y), title="The tails part: how rare each feature's values are among the normal training rows",
                                                  value="mean surprise (−log share)"), key="inspect_rarity")
    per_feature = run.cached(f"per_feature_{part}", lambda: per_feature_errors(detector, shown))
    unread = not reads_reconstruction(detector)
    title = "Mean reconstruction error per feature (this model's score does not read it)" if unread else "What drives detection: mean reconstruction error per feature"
    st.plotly_chart(feature_importance_figure(feature_importance(per_feature, shown.y), title=title), key="inspect_importance")

    st.subheader("The latent space" + (" of the first network" if ensemble else ""))
    points = run.cached(f"latent_{part}", lambda: latent_points(detector, prepared, shown))
    if points.subsampled_from:
        st.caption(f"A random 5,000 of the {points.subsampled_from:,} {PART_NAMES[part]} are drawn, for speed.")
    st.plotly_chart(latent_figure(points, threshold, highlight_row=row_number), key="inspect_latent_fig")


run_page(body)
