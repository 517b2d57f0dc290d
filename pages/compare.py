"""Compare: several autoencoders and classical baselines on the same split; a small random search."""

import streamlit as st

from core.architectures import ARCHITECTURES
from core.compare import candidates, compare, random_search
from core.leaderboard import RANK_BY, Entry, leaderboard, score_reads
from core.pipeline import signal_problem
from core.plots import compare_figure
from core.registry import BASELINE_KEYS
from ui import session as state
from ui.guard import run_page, stop_with
from ui.set_aside import go_back_button
from ui.text import not_a_signal, plain
from ui.paths import DATA_PAGE, THRESHOLD_PAGE


def entries(session: state.Session, study: state.Study) -> list[Entry]:
    """The comparison's detectors, and the model in use when it was scored on this split. A compared model that was
    put in use shows the threshold it has there (set by hand, perhaps), the one it would come back with."""
    run = session.scored_run
    used = {id(u.detector): u for u in study.used_results}
    out = []
    for r in study.comparison or []:
        threshold = used[id(r.detector)].threshold.value if id(r.detector) in used else float(r.detector.threshold_)
        out.append(Entry(r.name, r.key.startswith("ae:"), r.parts, threshold, getattr(r.detector, "fit_seconds_", r.fit_seconds), score_reads(r.detector),
                         in_use=run is not None and run.detector is r.detector))
    if run is not None and run.origin != "compared":
        out.append(_run_entry(run, f"{run.name} ({run.origin})", in_use=True))
    aside = study.set_aside
    if aside is not None and aside is not run:
        out.append(_run_entry(aside, f"{aside.name} ({aside.origin}, set aside)"))
    return out


def _run_entry(run: state.ModelRun, name: str, in_use: bool = False) -> Entry:
    return Entry(name, run.kind != "baseline", run.scores, run.threshold.value, getattr(run.detector, "fit_seconds_", None), score_reads(run.detector), in_use)


def cached_leaderboard(session: state.Session, study: state.Study, rows: list[Entry]):
    """The table and its verdict once per comparison, model in use (and its threshold) and model set aside:
    the verdict's bootstrap of the validation rows takes ~0.7 s at 20,000 rows, too long for every rerun.
    The objects themselves are kept with it, so an identity cannot be reused by a newer one."""
    run = session.scored_run
    held = (study.comparison, run, study.set_aside)
    key = (*map(id, held), tuple(e.threshold for e in rows))
    kept = study.cache.get("leaderboard")
    if kept is None or kept[0] != key:
        kept = study.cache["leaderboard"] = (key, held, leaderboard(rows))
    return kept[2]


def use(session: state.Session, results: dict, owner) -> None:
    """Before the page is drawn (a callback), so the table, the charts and the sidebar already name the new model in use."""
    chosen = state.widget_value(owner, "compare_pick")
    if chosen in results:
        session.use_result(results[chosen], "compared")
        owner.values["compare_used"] = chosen


def comparison(session: state.Session, study: state.Study) -> None:
    options = study.cached("compare_candidates", candidates)
    signal_note = "" if "ae:conv1d" in options else " " + not_a_signal(study.cached("signal_problem", signal_problem))
    st.caption("Candidates: " + " · ".join(f"**{name}**: {desc}" for name, desc in options.values()) + signal_note)
    default = [k for k in ("ae:dense", "ae:ensemble", "ae:variational", *BASELINE_KEYS) if k in options]  # every baseline: a verdict against some would flatter the autoencoder
    owner = study.widgets
    with st.form("compare_form"):
        keys = state.kept(st.multiselect, "Detectors", owner=owner, name="compare_keys", in_form=True, default=default, valid=lambda v: all(k in options for k in v),
                          options=list(options), format_func=lambda k: options[k][0])
        epochs = state.kept(st.number_input, "Most epochs per autoencoder", owner=owner, name="compare_epochs", in_form=True, default=60, min_value=1, max_value=500,
                            help="Early stopping may end sooner. The ensemble trains three networks, each up to this many epochs; the LSTM is slow on a CPU. "
                                 "The model trained on the Train page is shown as its own row.")
        run_it = st.form_submit_button("Compare", type="primary", icon=":material/play_arrow:")
    if run_it:
        bar = st.progress(0.0, text="Starting…")
        study.comparison = compare(study.prepared, keys, int(epochs), progress=lambda f, text: bar.progress(f, text=text))
        bar.empty()
    rows = entries(session, study)
    if not study.comparison:
        return
    board = cached_leaderboard(session, study, rows)
    table = board.table
    numbers = [c for c in table.select_dtypes("number").columns if c != "fit s"]
    st.dataframe(table.style.format({c: "{:.3f}" for c in numbers} | {"fit s": "{:.1f}"}, na_rep="–"),
                 width="stretch", hide_index=True,
                 # The numbers first, beside the name: the words (kind, score parts) can be scrolled to.
                 column_order=("best", "in use", "detector", *numbers, "fit s", "kind", "score reads"),
                 column_config={"best": st.column_config.TextColumn(width=40, help=f"The best by {RANK_BY}, the column the rows are sorted on."),
                                "in use": st.column_config.TextColumn(width=50, help="The model the Threshold, Inspect and Score pages show."),
                                "detector": st.column_config.TextColumn(width=230), "score reads": st.column_config.TextColumn(width="large")})
    (st.warning if board.best_baseline else st.info)(board.verdict, icon=":material/balance:")
    left, right = st.columns(2)
    points = {f"in use: {e.name}" if e.in_use else e.name: e.parts["test"].points for e in rows}
    left.plotly_chart(compare_figure(points, "roc"), key="compare_roc")
    right.plotly_chart(compare_figure(points, "pr"), key="compare_pr")
    results = {r.name: r for r in study.comparison}
    pick_col, button_col = st.columns([3, 1], vertical_alignment="bottom")
    default_pick = board.best_baseline if board.best_baseline in results else next(iter(results))
    chosen = state.kept(pick_col.selectbox, "Model for the Threshold, Inspect and Score pages", owner=owner, name="compare_pick", default=default_pick,
                        valid=lambda v: v in results, options=list(results))
    button_col.button("Use this model", key="compare_use", width="stretch", on_click=use, args=(session, results, owner))
    go_back_button(session, "compare_back")  # right under the button that replaced the model
    run = session.run
    if owner.values.get("compare_used") == chosen and run is not None and run.origin == "compared" and run.detector is results[chosen].detector:
        st.success(f"{chosen} is now the model in use.")
        st.page_link(THRESHOLD_PAGE, label="Go to Threshold", icon=":material/arrow_forward:")
    elif run is not None:  # the picker names what would be used, which is not always what is in use
        st.caption(f"In use now: {plain(run.name)}, {run.provenance}.")


def search(session: state.Session, study: state.Study) -> None:
    st.subheader("A small random search")
    st.caption("Random trials over code size, hidden widths, dropout and learning rate, ranked by average precision on validation rows. "
               "A plain seeded loop over the same estimator; Keras Tuner would add a dependency and files on disk for no gain at this size.")
    options = study.cached("compare_candidates", candidates)
    architectures = [k[3:] for k in options if k.startswith("ae:") and k[3:] in ARCHITECTURES]  # not the ensemble: a search tunes one network
    owner = study.widgets
    with st.form("search_form"):
        a, b, c = st.columns(3)
        trials = state.kept(a.number_input, "Trials", owner=owner, name="search_trials", in_form=True, default=6, min_value=1, max_value=50)
        epochs = state.kept(b.number_input, "Most epochs per trial", owner=owner, name="search_epochs", in_form=True, default=30, min_value=1, max_value=300)
        architecture = state.kept(c.selectbox, "Architecture", owner=owner, name="search_arch", in_form=True, default=architectures[0], valid=lambda v: v in architectures, options=architectures)
        go = st.form_submit_button("Search", icon=":material/travel_explore:")
    if go:
        bar = st.progress(0.0, text="Starting…")
        study.search = random_search(study.prepared, int(trials), int(epochs), seed=study.prepared.split.seed, architecture=architecture,
                                     progress=lambda f, text: bar.progress(f, text=text))
        bar.empty()
    if study.search:
        table, best = study.search
        st.dataframe(table.style.format({"learning rate": "{:.2e}", "AP (validation)": "{:.3f}", "AP (test)": "{:.3f}", "fit s": "{:.1f}", "dropout": "{:.1f}"}),
                     width="stretch", hide_index=True)
        if st.button(f"Use the best trial (validation AP {best.parts['val'].curve.average_precision:.3f})", key="search_use"):
            session.use_result(best, "searched")
            st.success("The best trial is now the model in use.")


def body() -> None:
    session = state.get()
    st.title("Compare detectors")
    study = session.study
    if study is None:
        stop_with("Choose a dataset and its label first.", DATA_PAGE, "Go to Data")
    if study.prepared.target.y is None:
        stop_with("Comparing detectors needs a label column: choose one on the Data page.", DATA_PAGE, "Go to Data")
    with st.expander("What am I looking at?"):
        st.markdown(
            "Each detector is fitted on the same normal training rows and its threshold is chosen the same way (best F1 on "
            "validation rows). Detectors are ranked by average precision on validation rows, where choices are made; the test "
            "columns are what none of them saw. The model in use (trained on the Train page, for example) is a row of its own. "
            "PCA reconstruction is a linear autoencoder, so if it ties, the non-linear network is not buying anything."
        )
    comparison(session, study)
    search(session, study)
    if not study.comparison:  # with a comparison on screen the button is beside "Use this model"
        go_back_button(session, "compare_back")


run_page(body)
