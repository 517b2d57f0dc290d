"""Train: set the network's parameters, train with a live loss chart, stop at any time."""

import time

import streamlit as st

from core.detector import ACTIVATIONS, SCORES
from core.errors import DataError
from core.losses import LOSSES
from core.pipeline import begin_training, parse_hidden_sizes, score_all, suggested_params
from core.plots import loss_figure
from core.network import ARCHITECTURES, SEQUENCE_ARCHITECTURES
from core.preprocess import SCALERS
from pages.common import DATA_PAGE, THRESHOLD_PAGE, forget_from, model_download, per_split, require, show_error, ss

st.title("Train")
require("prepared", "Choose a dataset and its label first.", DATA_PAGE, "Go to Data")
prepared = ss.prepared

with st.expander("What am I looking at?"):
    st.markdown(
        "The network is trained to rebuild the **normal training rows**; the loss is how far its rebuild is from the input. "
        "The validation loss is measured on normal validation rows the network never trains on: when it stops improving "
        "for *patience* epochs, training stops and the best weights are kept. A validation loss far above the training loss "
        "means the network memorises rather than learns."
    )

defaults = per_split("train_defaults", suggested_params, prepared)
offered = [a for a in ARCHITECTURES if a not in SEQUENCE_ARCHITECTURES or defaults["sequence_problem"] is None]
architecture = st.selectbox("Architecture", offered, key="train_architecture", format_func=lambda a: f"{a} — {ARCHITECTURES[a]}",
                            help="Every architecture has the same contract: trained on normal rows, scored by how badly it rebuilds a row.")
if defaults["sequence_problem"] is not None:
    st.caption(f"Conv1d and LSTM autoencoders are not offered: they read a row as a signal, but this table {defaults['sequence_problem']}.")
with st.form("train_form"):
    st.markdown(f"**{len(prepared.features)} features** · defaults sized for this table")
    c1, c2, c3, c4 = st.columns(4)
    hidden_text = c1.text_input("Hidden sizes", ", ".join(map(str, defaults["hidden_sizes"])), key="train_hidden",
                                help="Widths of the encoder's hidden layers, outer first; the decoder mirrors them.")
    code_size = c1.number_input("Code size", 1, 512, int(defaults["code_size"]), key="train_code", help="Width of the bottleneck: fewer units force a simpler summary of a row.")
    dropout = c1.slider("Dropout", 0.0, 0.5, float(defaults["dropout"]), 0.05, key="train_dropout", help="Share of units switched off at random while training; fights memorising.")
    activation = c2.selectbox("Activation", ACTIVATIONS, index=ACTIVATIONS.index(defaults["activation"]), key="train_activation", help="Non-linearity of the hidden layers.")
    loss = c2.selectbox("Loss", list(LOSSES), index=list(LOSSES).index(defaults["loss"]), key="train_loss",
                        help="How a rebuild error is measured: mse punishes big misses, mae is robust, msle/bce suit [0, 1] data (minmax).")
    scaler = c2.selectbox("Scaler", SCALERS, index=SCALERS.index(defaults["scaler"]), key="train_scaler",
                          help="How columns are put on one scale, fitted on normal training rows: standard (z-scores), minmax ([0, 1]) or quantile.")
    epochs = c3.number_input("Epochs (most)", 1, 2000, int(defaults["epochs"]), key="train_epochs", help="Upper bound: early stopping usually ends sooner.")
    batch_size = c3.number_input("Batch size", 1, 8192, int(defaults["batch_size"]), key="train_batch", help="Rows per training step; larger is faster, smaller can generalise better.")
    learning_rate = c3.number_input("Learning rate", 1e-5, 1.0, float(defaults["learning_rate"]), format="%.4f", key="train_lr", help="Adam's step size.")
    patience = c4.number_input("Early-stopping patience", 0, 500, int(defaults["patience"]), key="train_patience", help="Epochs without a better validation loss before stopping (0 = never stop early).")
    seed = c4.number_input("Seed", 0, 1_000_000, int(defaults["random_state"]), key="train_seed", help="Same seed, same data: the same model, bit for bit.")
    score = c4.selectbox("Anomaly score", list(SCORES), key="train_score",
                         help="combined: rebuild error per column relative to normal rows, plus how far the row's code lies from the normal codes "
                              "(overall, and from its 5 nearest); auto: the subset of those three parts that best separates the labelled validation rows; "
                              "reconstruction: the plain loss; latent: the code's distance alone.")
    extra = {}
    if architecture == "sparse":
        extra["sparsity"] = st.number_input("L1 penalty on the code", 0.0, 1.0, float(defaults["sparsity"]), format="%.5f", key="train_sparsity",
                                            help="Larger values push more code units to zero for each row.")
    elif architecture == "denoising":
        extra["noise_std"] = st.number_input("Input noise (std, in scaled units)", 0.0, 5.0, float(defaults["noise_std"]), key="train_noise",
                                             help="Gaussian noise added to the inputs while training only; the network learns to rebuild the clean row.")
    elif architecture == "variational":
        extra["beta"] = st.number_input("β (weight of the KL term)", 0.0, 100.0, float(defaults["beta"]), key="train_beta",
                                        help="How strongly codes are pulled towards a standard normal; scoring uses the mean code, so it is deterministic.")
    elif architecture == "conv1d":
        st.caption("Conv1d: the hidden sizes are the filters of up to three convolutions (kernel 7, stride 2), mirrored by the decoder; dropout is not used.")
    elif architecture == "lstm":
        st.caption("LSTM: the first hidden size is the number of LSTM units (8–64). Slow on a CPU: try few epochs first.")
    submitted = st.form_submit_button("Train", type="primary", icon=":material/play_arrow:")

if submitted:
    try:
        params = dict(hidden_sizes=parse_hidden_sizes(hidden_text), code_size=int(code_size), dropout=float(dropout), activation=activation,
                      loss=loss, scaler=scaler, epochs=int(epochs), batch_size=int(batch_size), learning_rate=float(learning_rate),
                      patience=int(patience), random_state=int(seed), score=score, architecture=architecture, **extra)
        detector = begin_training(prepared, params)
    except DataError as exc:
        show_error(exc)
    else:
        forget_from("training")
        ss.pop("restored", None)
        ss.training = detector
        ss.training_started = time.time()

#: Redraw the chart at most this often; epochs of a small table can take 50 ms.
MIN_REDRAW_SECONDS = 0.5
MIN_PROGRESS_SECONDS = 0.1


def training_panel() -> None:
    training = ss.get("training")
    detector = ss.get("detector")
    if training is None and detector is None:
        st.info("Press **Train** to start. The loss chart draws itself as the epochs finish.")
        return
    if training is not None:
        trainer = training.trainer_
        state = trainer.state
        stop_slot, progress, chart = st.empty(), st.empty(), st.empty()
        if stop_slot.button("Stop training", key="train_stop", icon=":material/stop_circle:", disabled=trainer.finished):
            trainer.stop()
        last_draw = [0.0, 0]  # time of the last chart, charts drawn (each needs its own key)

        last_progress = [0.0]

        def draw(report=None, final=False) -> None:
            done, total = state.epochs_done, trainer.epochs
            now = time.perf_counter()
            # Each Streamlit call is also where a Stop click lands, so the bar updates every
            # 0.1 s at most, not every 10-ms epoch of a small table.
            if final or now - last_progress[0] >= MIN_PROGRESS_SECONDS:
                last_progress[0] = now
                eta = f", about {report.remaining:.0f} s left at most" if report is not None and not final else ""
                progress.progress(min(done / total, 1.0), text=f"Epoch {done} of {total} · {state.seconds:.1f} s{eta}")
            if final or now - last_draw[0] >= MIN_REDRAW_SECONDS:
                last_draw[0], last_draw[1] = now, last_draw[1] + 1
                chart.plotly_chart(loss_figure(state.history(), state.best_epoch or None), key=f"train_loss_{last_draw[1]}")

        draw()
        # One fit for every remaining epoch, in the page's own run (not a fragment: a
        # fragment rerun would not interrupt it). A click anywhere ends it at the next
        # epoch boundary (Streamlit raises in the hook; runner.fastReruns is off), with
        # the history already saved; the next run resumes, or after Stop, finishes.
        trainer.run(hooks=[draw])
        draw(final=True)
        with st.spinner("Scoring validation and test rows…"):
            detector = training.end_fit()
            ss.scores = score_all(detector, prepared)
        ss.detector = detector
        ss.pop("training", None)
        for slot in (stop_slot, progress, chart):  # the summary below replaces the live view
            slot.empty()
    if not hasattr(detector, "history_"):
        st.info(f"The model in use is {getattr(detector, 'name', 'a baseline')}, chosen on the Compare page. Press Train to train an autoencoder instead.")
        return
    state_line = "Stopped by you" if detector.stopped_by_user_ else ("Ended by early stopping" if detector.epochs_run_ < detector.epochs else "Ran all epochs")
    st.plotly_chart(loss_figure(detector.history_, detector.best_epoch_), key="train_loss_final")
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Epochs run", f"{detector.epochs_run_}", help=f"{state_line}.")
    c2.metric("Best validation loss", f"{detector.best_val_loss_:.4g}", help=f"At epoch {detector.best_epoch_}; those weights are kept.")
    c3.metric("Training time", f"{detector.fit_seconds_:.1f} s")
    c4.metric("Parameters", f"{detector.n_parameters_:,}")
    st.caption(f"{state_line}. Threshold chosen: {detector.threshold_:.5g} — {detector.threshold_reason_}. {detector.score_description()}")
    link, download = st.columns([1, 1])
    with link:
        st.page_link(THRESHOLD_PAGE, label="Go to Threshold", icon=":material/arrow_forward:")
    with download:
        model_download("train_download")


training_panel()
