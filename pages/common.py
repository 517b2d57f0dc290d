"""Session state and sidebar shared by every page (not a page itself).

State lives under plain nouns: ``table`` → ``prepared`` → ``training`` /
``detector`` → ``scores`` → ``threshold``. When an upstream choice changes,
:func:`forget_from` drops everything downstream in one place, so no page can
show a result of a model trained on other data.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from core.bundle import bundle_bytes
from core.errors import DataError
from core.pipeline import SAMPLES, guess_label, load_sample, prepare, prepare_from_context, score_all
from core.thresholds import Threshold

ss = st.session_state
DEFAULT_SAMPLE = "machine_sensors.csv"
CHAIN = ("table", "prepared", "training", "detector", "scores", "threshold")

DATA_PAGE = "pages/data.py"
TRAIN_PAGE = "pages/train.py"
THRESHOLD_PAGE = "pages/threshold.py"
SCORE_PAGE = "pages/score.py"
INSPECT_PAGE = "pages/inspect.py"
COMPARE_PAGE = "pages/compare.py"


def is_autoencoder(detector) -> bool:
    """Baselines from the Compare page score and threshold, but cannot be explained or saved."""
    return hasattr(detector, "get_state")


def forget_from(step: str) -> None:
    """Drop ``step`` and everything after it in the chain."""
    for key in CHAIN[CHAIN.index(step):]:
        ss.pop(key, None)
    for key in ("thr", "thr_num", "thr_default", "thr_rule_info", "scored", "costs", "costs_given", "band_low", "band_pick", "grid_for",
                "inspect_cache_key", "inspect_per_feature", "inspect_latent"):
        ss.pop(key, None)


def per_split(name: str, compute, prepared):
    """``compute(prepared)``, kept in the session until the split changes (not redone on every rerun)."""
    kept = ss.get(name)
    if kept is None or kept[0] is not prepared:
        ss[name] = kept = (prepared, compute(prepared))
    return kept[1]


def set_table(table) -> None:
    """A new table: forget everything after it and preselect its likely label.

    A restored model survives: if the new table has its columns, it is applied
    to it at once (that is how a bundle and a labelled table meet).
    """
    forget_from("table")
    ss.table = table
    ss.widgets_generation = ss.get("widgets_generation", 0) + 1
    label = guess_label(table.frame)
    if table.name in SAMPLES:
        label = SAMPLES[table.name][1]
    ss.choice = {"label": label, "normal": None, "features": None, "seed": 0}
    if "restored" in ss:
        apply_restored()


def apply_restored() -> str:
    """Put the restored model, its threshold and its column choices into the session.

    Returns what happened, for the page to show. The model always comes back (the
    Score page works); validation and test scores only when the table fits.
    """
    detector, context = ss.restored
    forget_from("prepared")
    ss.detector = detector
    ss.threshold = float(detector.threshold_)
    ss.thr_rule_info = (detector.threshold_rule_, detector.threshold_reason_)
    ss.choice = {"label": context.get("label"), "normal": list(context.get("normal_classes", [])),
                 "features": list(context.get("features", [])), "seed": int(context.get("split_seed", 0))}
    ss.widgets_generation = ss.get("widgets_generation", 0) + 1
    try:
        prepared = prepare_from_context(ss.table, context)
    except DataError as exc:
        ss.pop("prepared_key", None)
        return str(exc)
    ss.prepared = prepared
    ss.prepared_key = (ss.table.sha256, prepared.target.label, tuple(prepared.target.normal_classes), tuple(prepared.features), prepared.split.seed)
    ss.detector = detector  # forget_from above dropped it with the old choices
    ss.scores = score_all(detector, prepared)
    ss.threshold = float(detector.threshold_)
    ss.thr_rule_info = (detector.threshold_rule_, detector.threshold_reason_)
    return f"Restored the model on '{ss.table.name}': validation and test rows are scored again."


def current_threshold() -> Threshold:
    """The threshold in use: the one chosen on the Threshold page, else the model's."""
    detector = ss.detector
    rule, reason = ss.get("thr_rule_info", (detector.threshold_rule_, detector.threshold_reason_))
    return Threshold(float(ss.get("threshold", detector.threshold_)), rule, reason)


def scoring_model():
    """(detector, threshold) for scoring new rows: the session's model, else a restored one."""
    if "detector" in ss:
        return ss.detector, current_threshold()
    if "restored" in ss:
        detector = ss.restored[0]
        return detector, Threshold(float(detector.threshold_), detector.threshold_rule_, detector.threshold_reason_)
    return None, None


def model_download(key: str) -> None:
    """A download of the model bundle with the current threshold (built only when clicked)."""
    detector, prepared = ss.detector, ss.get("prepared")
    if not is_autoencoder(detector):
        st.caption("Baselines cannot be saved: scikit-learn models would need pickle, which a bundle never holds.")
        return
    context = prepared.context() if prepared is not None else (ss.restored[1] if "restored" in ss else {})
    threshold = current_threshold()
    name = (ss.table.name.rsplit(".", 1)[0] if "table" in ss else "model")
    st.download_button(
        "Download model (.zip)", data=lambda: bundle_bytes(detector, context, threshold),
        file_name=f"anomaly-lab-{name}-{date.today().isoformat()}.zip", mime="application/zip", key=key,
        icon=":material/download:", on_click="ignore",
        help=f"The Keras model and a JSON of everything else (no pickle), with the threshold {threshold.value:.5g} ({threshold.rule}).",
    )


def ensure_defaults() -> None:
    """First visit: a bundled sample loaded with its label chosen, ready to train."""
    if "table" not in ss:
        set_table(load_sample(DEFAULT_SAMPLE))
        _, label, normal = SAMPLES[DEFAULT_SAMPLE]
        ss.choice.update(label=label, normal=list(normal))
        try:
            ss.prepared = prepare(ss.table, label, normal, seed=0)
        except DataError as exc:  # never expected for a bundled sample
            st.error(str(exc))
            return
        features = ss.prepared.features
        ss.choice["features"] = list(features)
        ss.prepared_key = (ss.table.sha256, label, tuple(normal), tuple(features), 0)


def stop_with(message: str, page: str, label: str) -> None:
    """Stop the page with a message and a link to the step that fixes it."""
    st.info(message)
    st.page_link(page, label=label, icon=":material/arrow_forward:")
    sidebar()  # app.py draws it after the page, which st.stop skips
    st.stop()


def require(key: str, message: str, page: str, label: str) -> None:
    """Stop the page with a pointer to the step that is missing."""
    if key not in ss:
        stop_with(message, page, label)


def sidebar(show_threshold: bool = True) -> None:
    """What exists so far. The Threshold page shows its live threshold itself (its
    slider reruns only a fragment, which cannot redraw the sidebar)."""
    with st.sidebar:
        st.markdown("### Session")
        table = ss.get("table")
        if table is None:
            st.caption("No dataset")
            return
        st.markdown(f"**Dataset** `{table.name}`  \n{table.shape[0]:,} rows × {table.shape[1]} columns")
        prepared = ss.get("prepared")
        if prepared is not None:
            target = prepared.target
            if target.label is None:
                st.markdown("**Label** none (unsupervised)")
            else:
                st.markdown(f"**Label** `{target.label}`  \n**Normal** {', '.join(map(str, target.normal_classes))}")
            st.caption(f"{len(prepared.features)} features · split seed {prepared.split.seed}")
        detector = ss.get("detector")
        training = ss.get("training")
        if detector is not None and not is_autoencoder(detector):
            st.markdown(f"**Model** {getattr(detector, 'name', type(detector).__name__)} (from Compare), {detector.fit_seconds_:.1f} s")
        elif detector is not None:
            how = "restored" if "restored" in ss and ss.restored[0] is detector else "trained"
            st.markdown(f"**Model** {how}: {detector.epochs_run_} epochs, {detector.fit_seconds_:.1f} s")
        elif training is not None:
            done = training.trainer_.state.epochs_done
            st.markdown(f"**Model** training paused at epoch {done}/{training.trainer_.epochs}")
            st.page_link(TRAIN_PAGE, label="Continue on the Train page")
        elif "restored" in ss:
            st.markdown("**Model** restored (its columns do not match this table; the Score page can use it)")
        else:
            st.markdown("**Model** not trained")
        if "threshold" in ss and show_threshold:
            st.markdown(f"**Threshold** {ss.threshold:.5g}")


def show_error(exc: DataError, keep: str = "") -> None:
    st.error(f"{exc}" + (f"  \n{keep}" if keep else ""), icon=":material/error:")
