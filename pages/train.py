"""Train: set the network's parameters, train with a live loss chart, stop at any time."""

import time
from typing import Callable

import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import StopException

from core.architectures import ARCHITECTURES, SEQUENCE_ARCHITECTURES
from core.detector import ACTIVATIONS, SCORES
from core.ensemble import MAX_NETWORKS, stopped_early
from core.errors import DataError
from core.losses import LOSSES
from core.pipeline import parse_hidden_sizes
from core.plots import loss_figure, update_loss_figure
from core.preprocess import SCALERS
from ui import session as state
from ui.downloads import model_download
from ui.guard import run_page, stop_with
from ui.paths import DATA_PAGE, THRESHOLD_PAGE
from ui.set_aside import go_back_button
from ui.sidebar import model_line, sidebar
from ui.text import message, not_a_signal, plain

#: Redraw the chart at most this often; epochs of a small table can take 50 ms.
MIN_REDRAW_SECONDS = 0.5
MIN_PROGRESS_SECONDS = 0.1


def settings_form(study: state.Study) -> tuple[Callable[[], dict], bool]:
    """The form, its values kept on the split; returns how to read its parameters, and whether Train was pressed."""
    defaults = study.train_defaults()
    owner = study.widgets
    offered = [a for a in ARCHITECTURES if a not in SEQUENCE_ARCHITECTURES or defaults["sequence_problem"] is None]
    architecture = state.kept(st.selectbox, "Architecture", owner=owner, name="train_architecture", default="dense", valid=lambda v: v in offered,
                              options=offered, format_func=lambda a: f"{a} — {ARCHITECTURES[a]}",
                              help="Every architecture has the same contract: trained on normal rows, scored by how badly it rebuilds a row.")
    if defaults["sequence_problem"] is not None:
        st.caption(not_a_signal(defaults["sequence_problem"]))

    def field(widget, label, name, default, column=st, **kwargs):
        return state.kept(getattr(column, widget), label, owner=owner, name=name, default=default, **kwargs)

    with st.container(border=True):  # not a form: every value is kept the moment it changes
        features = len(study.prepared.features)
        st.markdown(f"**{features} features** · defaults sized for this table")
        c1, c2, c3, c4 = st.columns(4)
        hidden_text = field("text_input", "Hidden sizes", "train_hidden", ", ".join(map(str, defaults["hidden_sizes"])), c1,
                            help="Widths of the encoder's hidden layers, outer first; the decoder mirrors them.")
        code_size = field("number_input", "Code size", "train_code", int(defaults["code_size"]), c1, min_value=1, max_value=512,
                          help="Width of the bottleneck: fewer units force a simpler summary of a row.")
        dropout = 0.0
        if architecture not in SEQUENCE_ARCHITECTURES:  # the sequence networks have no dropout layers
            dropout = field("slider", "Dropout", "train_dropout", float(defaults["dropout"]), c1, min_value=0.0, max_value=0.5, step=0.05,
                            help="Share of units switched off at random while training; fights memorising.")
        activation = field("selectbox", "Activation", "train_activation", defaults["activation"], c2, options=ACTIVATIONS, help="Non-linearity of the hidden layers.")
        loss = field("selectbox", "Loss", "train_loss", defaults["loss"], c2, options=list(LOSSES),
                     help="How a rebuild error is measured: mse punishes big misses, mae is robust, msle/bce suit [0, 1] data (minmax).")
        scaler = field("selectbox", "Scaler", "train_scaler", defaults["scaler"], c2, options=SCALERS,
                       help="How columns are put on one scale, fitted on normal training rows: standard (z-scores), minmax ([0, 1]), quantile, "
                            "yeo-johnson (a power transform per column, then z-scores) or power (yeo-johnson on skewed columns only).")
        epochs = field("number_input", "Epochs (most)", "train_epochs", int(defaults["epochs"]), c3, min_value=1, max_value=2000, help="Upper bound: early stopping usually ends sooner.")
        batch_size = field("number_input", "Batch size", "train_batch", int(defaults["batch_size"]), c3, min_value=1, max_value=8192,
                           help="Rows per training step; larger is faster, smaller can generalise better.")
        learning_rate = field("number_input", "Learning rate", "train_lr", float(defaults["learning_rate"]), c3, min_value=1e-5, max_value=1.0, format="%.4f", help="Adam's step size.")
        patience = field("number_input", "Early-stopping patience", "train_patience", int(defaults["patience"]), c4, min_value=0, max_value=500,
                         help="Epochs without a better validation loss before stopping (0 = never stop early).")
        seed = field("number_input", "Seed", "train_seed", int(defaults["random_state"]), c4, min_value=0, max_value=1_000_000, help="Same seed, same data: the same model, bit for bit.")
        networks = field("number_input", "Networks", "train_networks", 1, c4, min_value=1, max_value=MAX_NETWORKS,
                         help=f"1 to {MAX_NETWORKS}; a number outside is not taken (the box turns red). Above 1: that many networks, each from other starting weights (seeds s, s + 1000, …), "
                              "their scores averaged after each is divided by its mean on normal training rows. Steadier than one network "
                              "(see the README's measurements), at that many times the training time; trained one after another.")
        score = field("selectbox", "Anomaly score", "train_score", "auto", c4, options=list(SCORES),
                      help="combined: rebuild error per column relative to normal rows, plus how far the row's code lies from the normal codes "
                           "(overall, and from its 5 nearest), plus how far into its own column's tails each value lies among the normal rows; "
                           "auto: the subset of those four parts that best separates the labelled validation rows; "
                           "reconstruction: the plain loss; latent: the code's distance alone.")
        extra = {}
        if architecture == "sparse":
            extra["sparsity"] = field("number_input", "L1 penalty on the code", "train_sparsity", float(defaults["sparsity"]), min_value=0.0, max_value=1.0, format="%.5f",
                                      help="Larger values push more code units to zero for each row.")
        elif architecture == "denoising":
            extra["noise_std"] = field("number_input", "Input noise (std, in scaled units)", "train_noise", float(defaults["noise_std"]), min_value=0.0, max_value=5.0,
                                       help="Gaussian noise added to the inputs while training only; the network learns to rebuild the clean row.")
        elif architecture == "variational":
            extra["beta"] = field("number_input", "β (weight of the KL term)", "train_beta", float(defaults["beta"]), min_value=0.0, max_value=100.0,
                                  help="How strongly codes are pulled towards a standard normal; scoring uses the mean code, so it is deterministic.")
        elif architecture == "conv1d":
            st.caption("Conv1d: the hidden sizes are the filters of up to three convolutions (kernel 7, stride 2), mirrored by the decoder; dropout is not used.")
        elif architecture == "lstm":
            st.caption("LSTM: the first hidden size is the number of LSTM units (8–64). Slow on a CPU: try few epochs first.")
        what = f"the {architecture} autoencoder" if int(networks) == 1 else f"{int(networks)} {architecture} autoencoders (an ensemble)"
        # Disabled while a training runs, from the run its click begins it: a click then dropped the training silently.
        submitted = state.pressed("train_start") and study.training is None
        under_way = submitted or study.training is not None
        st.button(f"Train {what}", key="train_start", type="primary", icon=":material/play_arrow:", disabled=under_way,
                  help="A training is under way: Stop it (its best weights are kept), then train again." if under_way else None)

    def params() -> dict:  # raises DataError when the hidden sizes do not parse
        several = {"n_networks": int(networks)} if int(networks) != 1 else {}
        return dict(hidden_sizes=parse_hidden_sizes(hidden_text), code_size=int(code_size), dropout=float(dropout), activation=activation,
                    loss=loss, scaler=scaler, epochs=int(epochs), batch_size=int(batch_size), learning_rate=float(learning_rate),
                    patience=int(patience), random_state=int(seed), score=score, architecture=architecture, **extra, **several)
    return params, submitted


def time_left(trainer, report) -> float | None:
    """Seconds left at most: this network's epochs at its pace, and every later network's epochs at the pace of the
    networks finished (else this one's). None on a training's first epoch, whose time holds the one-off start-up
    (tracing the network's steps) and would read as minutes."""
    finished = trainer.finished_states
    done_epochs = sum(s.epochs_done for s in finished)
    if report.epoch < 2 and not done_epochs:
        return None
    pace = sum(s.seconds for s in finished) / done_epochs if done_epochs else report.elapsed / report.epoch
    later = trainer.n_networks - trainer.network
    this = report.remaining if report.epoch >= 2 else pace * (report.epochs - report.epoch)
    return this + later * pace * report.epochs


def live_training(session: state.Session, study: state.Study) -> None:
    """One fit for every remaining epoch, in the page's own run (not a fragment: a fragment
    rerun would not interrupt it). A click anywhere ends it at the next epoch boundary
    (Streamlit raises in the hook; runner.fastReruns is off), with the history saved; the
    next run resumes where it stopped, or after Stop, finishes."""
    training = study.training
    trainer = training.trainer_
    networks = trainer.n_networks
    stop_slot, progress, chart = st.empty(), st.empty(), st.empty()
    stop_label = "Stop training" if networks == 1 else "Stop (keep the networks finished so far)"
    if stop_slot.button(stop_label, key="train_stop", icon=":material/stop_circle:", disabled=trainer.finished):
        trainer.stop()
    last = {"draw": 0.0, "charts": 0, "progress": 0.0, "epochs_drawn": 0, "network": 0}
    figures: list = []

    def draw(report=None, final=False) -> None:
        run_state = trainer.state  # an ensemble's: the network being trained
        network = trainer.network
        done, total = run_state.epochs_done, trainer.epochs
        now = time.perf_counter()
        if network != last["network"]:  # a new network of an ensemble: its own chart
            last["network"], last["epochs_drawn"] = network, 0
            figures.clear()
        # The first epoch's point is drawn the moment it exists (the empty chart drawn just before
        # must not hold it back for MIN_REDRAW_SECONDS); later points at most every MIN_REDRAW_SECONDS.
        first_point = done > 0 and last["epochs_drawn"] == 0
        redraw_chart = final or first_point or not figures or now - last["draw"] >= MIN_REDRAW_SECONDS
        # Each Streamlit call is also where a Stop click lands, so the bar updates every 0.1 s at most, not every 10-ms
        # epoch of a small table; and with every chart, so the text never names an epoch before the chart's best one.
        if redraw_chart or now - last["progress"] >= MIN_PROGRESS_SECONDS:
            last["progress"] = now
            left = time_left(trainer, report) if report is not None and not final else None
            eta = f", about {left:.0f} s left at most" if left is not None else ""
            if networks == 1:
                text = f"{training.architecture} autoencoder · epoch {done} of {total} · {run_state.seconds:.1f} s{eta}"
            else:
                text = f"network {network} of {networks} ({training.architecture}) · epoch {done} of {total} · {trainer.seconds:.1f} s in all{eta}"
            share = min(done / total, 1.0) if networks == 1 else min((network - 1 + min(done / total, 1.0)) / networks, 1.0)
            progress.progress(share, text=text)
        if redraw_chart:
            last["draw"], last["charts"], last["epochs_drawn"] = now, last["charts"] + 1, done
            history, best = run_state.history(), run_state.best_epoch or None
            title = f"Network {network} of {networks}: loss per epoch (normal rows)" if networks > 1 else None
            figure = loss_figure(history, best, epochs=total, title=title) if figures == [] else update_loss_figure(figures[0], history, best, total, title)
            figures[:] = [figure]  # one figure, moved in place: a new one costs ~45 ms of validation each redraw
            chart.plotly_chart(figure, key=f"train_chart_{last['charts']}")

    draw()
    sidebar(training_now=True)  # the sidebar of the run before still named the previous model, or none
    try:
        trainer.run(hooks=[draw])
    except StopException:  # Streamlit's own Stop (the page header's, beside "Running…"): the training stops as with ours,
        if not trainer.finished:  # and the next run of this page finishes it (the script cannot draw after this)
            trainer.stop()
        raise
    draw(final=True)
    with st.spinner("Scoring validation and test rows…"):
        session.finish_training()
    st.rerun()  # drawn anew: the summary, and the Train button (disabled while the training ran) enabled again


def how_it_ended(network) -> str:
    return "Stopped by you" if network.stopped_by_user_ else ("Ended by early stopping" if network.epochs_run_ < network.epochs else "Ran all epochs")


def summary(session: state.Session, run: state.ModelRun) -> None:
    detector = run.detector
    networks = getattr(detector, "members_", [detector])
    if not all(hasattr(network, "history_") for network in networks):
        st.info(f"The model in use is {plain(run.name)}, {run.provenance}. Train an autoencoder here to replace it.")
        go_back_button(session, "train_back")
        return
    st.markdown(model_line(run))
    c1, c2, c3, c4 = st.columns(4)
    if len(networks) == 1:
        how = how_it_ended(detector)
        if getattr(detector, "networks_asked_", 1) > 1:  # the one network a Stop left of an ensemble: its own ending is network 1's
            how = f"Network 1: {how[0].lower()}{how[1:]}"
        st.plotly_chart(loss_figure(detector.history_, detector.best_epoch_), key="train_chart_final")
        c1.metric("Epochs run", f"{detector.epochs_run_}", help=f"{how}.")
        c2.metric("Best validation loss", f"{detector.best_val_loss_:.4g}", help=f"At epoch {detector.best_epoch_}; those weights are kept.")
    else:
        endings = [how_it_ended(n).lower() for n in networks]
        how = f"{len(networks)} networks: " + (f"each {endings[0]}" if len(set(endings)) == 1
                                               else "; ".join(f"network {i + 1} {ending}" for i, ending in enumerate(endings)))
        for i, (tab, network) in enumerate(zip(st.tabs([f"Network {i + 1}" for i in range(len(networks))]), networks)):
            tab.plotly_chart(loss_figure(network.history_, network.best_epoch_, title=f"Network {i + 1} of {len(networks)}: loss per epoch (normal rows)"),
                             key=f"train_chart_final_{i}")
        c1.metric("Networks", f"{len(networks)}", help="Each from its own starting weights; the score is the mean of their scaled scores.")
        runs = [n.epochs_run_ for n in networks]
        c2.metric("Epochs run", f"{runs[0]} each" if len(set(runs)) == 1 else f"{min(runs)} to {max(runs)}",
                  help="Per network, in order: " + ", ".join(map(str, runs)) + ". Each keeps the weights of its best epoch.")
    c3.metric("Training time", f"{detector.fit_seconds_:.1f} s")
    c4.metric("Parameters", f"{sum(n.n_parameters_ for n in networks):,}")
    cut_short = stopped_early(detector)
    if cut_short:
        how += f". {cut_short}"
    in_use = run.threshold
    later = "" if in_use.value == detector.threshold_ else f" In use now: {in_use.value:.6g} — {in_use.reason} (the sidebar's)."
    when = "saved with the model" if run.origin == "restored" else "chosen at training"  # a restored one may have been set by hand
    st.caption(f"{how}. Threshold {when}: {detector.threshold_:.6g} — {detector.threshold_reason_}.{later} {detector.score_description()}")
    link, download = st.columns([1, 1])
    with link:
        st.page_link(THRESHOLD_PAGE, label="Go to Threshold", icon=":material/arrow_forward:")
    with download:
        model_download(run, "train_download", session.table.name)
    go_back_button(session, "train_back")  # a searched network replaced what was trained here


def ahead(session: state.Session, params: Callable[[], dict]) -> None:
    """Begin the training the form describes while the user reads it, so the click's first epoch comes at once."""
    try:
        wanted = params()
    except DataError:  # shown when Train is pressed, not while the user is still typing
        return
    session.train_ahead_for_form(wanted)


def body() -> None:
    session = state.get()
    st.title("Train")
    study = session.study
    if study is None:
        stop_with("Choose a dataset and its label first.", DATA_PAGE, "Go to Data")
    with st.expander("What am I looking at?"):
        training_rows = "normal training rows" if study.prepared.target.y is not None else "training rows (every row: there is no label)"
        st.markdown(
            f"The network is trained to rebuild the **{training_rows}**; the loss is how far its rebuild is from the input. "
            "The validation loss is measured on a tenth of those rows held out of the fit (not the validation rows that choose the "
            "threshold later, which the network never sees): when it stops improving for *patience* epochs, training stops and the best "
            "weights are kept. A validation loss far above the training loss means the network memorises rather than learns. "
            "With **Networks** above 1, each network is trained, stopped early and kept at its best epoch this way on its own, one after "
            "another, each from other starting weights; the anomaly score is then the mean of their scores."
        )
    if study.prepared.train_note:
        st.info(study.prepared.train_note, icon=":material/info:")
    try:
        params, submitted = settings_form(study)
        if submitted:
            session.start_training(study.begin_training(params()))
        elif study.training is None:
            ahead(session, params)
    except DataError as exc:
        st.error(message(exc), icon=":material/error:")
    # The previous model's summary (and its buttons) goes the moment a training starts, not when it ends: its place
    # becomes an empty element while the live view is drawn beside it. (A new block in its place would keep the old
    # block's extra children on screen, clickable, until the run ends.)
    live, summary_place = st.empty(), st.empty()
    if study.training is not None:
        summary_place.empty()
        with live.container():
            live_training(session, study)
    with summary_place.container():
        outcome(session, study)


def outcome(session: state.Session, study: state.Study) -> None:
    """The model in use (its summary), or what to do to get one."""
    run = session.scored_run
    if run is None:
        if session.run is not None and session.run.study is None:
            st.info(f"The model in use is {plain(session.run.name)}, restored from a file, with no scored rows of this table: {message(session.run.unscored)} "
                    "Train here to replace it.")
        else:
            st.info("Press **Train** to start. The loss chart draws itself as the epochs finish.")
            # The empty chart is drawn before the click so that the browser has loaded Plotly's script (4.7 MB,
            # seconds to start on a busy machine) by the time the first epoch's point arrives.
            st.plotly_chart(loss_figure({}, epochs=study.widgets.get("train_epochs")), key="train_chart_empty")  # also while another box does not parse
        return
    summary(session, run)


run_page(body)
