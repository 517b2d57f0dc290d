"""The session's memory: the only module that touches ``st.session_state``.

One rule: *replace an object and lose everything that hangs off it.*

``Session``
  ├─ ``workspace: Workspace``   the table and the choices made on it
  │    └─ ``study: Study``       one prepared split, and what hangs off it: the training
  │                              in progress, comparison and search results, the train
  │                              form, per-split defaults
  └─ ``run: ModelRun``          one model in use and what derives from it: its scores,
                                the threshold in use, caches, the Threshold/Inspect/Score view

A new table replaces the workspace (and so the study and everything on it); a new
choice replaces the study; a new model replaces the run. A run remembers the study it
was scored on, so a run can never be shown next to another split's rows. Pages call
the named transitions below and read attributes; they never build cache keys.
"""

from __future__ import annotations

import itertools
import weakref
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable, Optional, Sequence

import streamlit as st

from core.bundle import load_bundle
from core.data import Table
from core.errors import DataError
from core.pipeline import (SAMPLES, Prepared, begin_training, form_params, guess_label, load_sample, prepare, prepare_from_context, score_all,
                           suggested_params)
from core.target import class_counts
from core.thresholds import Threshold, set_on_rows
from core.training_ahead import TrainingAhead, same_network
from ui import warmup
from ui.text import plain

SESSION_KEY = "session"
#: The settings a new split on the same table keeps when the user had changed them (Train form, Compare, random search).
CARRIED_SETTINGS = ("train_", "compare_keys", "compare_epochs", "search_")
#: Seconds the Data page's training ahead leaves the cores to the browser drawing the page.
DATA_PAGE_AHEAD_DELAY = 0.25
DEFAULT_SAMPLE = "machine_sensors.csv"
BY_HAND = ("manual", "chosen by hand on the Threshold page")
_tags = itertools.count(1)


class Kept:
    """Widget values that must survive a visit to another page, owned by one object.

    Streamlit forgets a widget's value when its page is left; :func:`kept` puts it back
    from here. Each owner has its own tag in the widget keys, so a new owner (a new
    split, a new model) starts from its own defaults with no key to clear by hand.
    """

    def __init__(self) -> None:
        self.tag = next(_tags)
        self.values: dict[str, Any] = {}
        self.touched: set[str] = set()  # the names the user changed (not defaults drawn)

    def carry_from(self, other: "Kept", prefixes: tuple[str, ...]) -> None:
        """Take the values the user changed on ``other`` whose names start with one of ``prefixes``
        (a new split keeps the Train form's epochs, widths …; a value no longer valid falls back to its default)."""
        for name in other.touched:
            if name.startswith(prefixes) and name in other.values:
                self.values[name] = other.values[name]
                self.touched.add(name)

    def key(self, name: str) -> str:
        return f"{name}@{self.tag}"

    def set(self, name: str, value: Any) -> None:
        """Preset a widget's value from elsewhere (it takes effect the next time it is drawn)."""
        self.values[name] = value
        st.session_state.pop(self.key(name), None)

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)


@dataclass(frozen=True)
class Choice:
    """What the user chose on the Data page."""

    label: Optional[str]
    normal: tuple
    features: tuple
    seed: int


def _cached(cache: dict[str, Any], name: str, compute: Callable[[Prepared], Any], prepared: Prepared) -> Any:
    """``compute(prepared)`` once per cache (a Study's: callable from a thread without holding the Study)."""
    if name not in cache:
        cache[name] = compute(prepared)
    return cache[name]


def _train_defaults(prepared: Prepared, cache: dict[str, Any]) -> dict[str, Any]:
    """The detector's defaults sized for a split, once per split."""
    return _cached(cache, "train_defaults", suggested_params, prepared)


def _form_defaults(prepared: Prepared, cache: dict[str, Any]) -> dict[str, Any]:
    return form_params(_train_defaults(prepared, cache))


def training_progress(training: Any) -> str:
    """Where a training in progress is, in words: "epoch 12 of 100 done", and the network for an ensemble."""
    trainer = training.trainer_
    where = f"epoch {trainer.state.epochs_done} of {trainer.epochs} done"
    return f"network {trainer.network} of {trainer.n_networks}, {where}" if trainer.n_networks > 1 else where


@dataclass(eq=False)
class Study:
    """One prepared split and everything computed on it."""

    prepared: Prepared
    training: Any = None  # an autoencoder between begin_fit and end_fit
    ahead: Optional[TrainingAhead] = None  # the training the Train form describes, begun before the click
    _ahead_finalizer: Optional[weakref.finalize] = field(default=None, repr=False)
    comparison: Optional[list] = None
    search: Optional[tuple] = None
    #: The trained or restored model that a compared one replaced in use: kept, so the user can go back to it.
    set_aside: Optional["ModelRun"] = None
    #: The compared or searched models put in use on this split, each with its threshold, scored batch and settings:
    #: using one again takes it up as it was left.
    used_results: list["ModelRun"] = field(default_factory=list)
    widgets: Kept = field(default_factory=Kept)
    cache: dict[str, Any] = field(default_factory=dict)

    def cached(self, name: str, compute: Callable[[Prepared], Any]) -> Any:
        """``compute(prepared)`` once per split (suggested sizes, candidate list)."""
        return _cached(self.cache, name, compute, self.prepared)

    def train_ahead(self, params: Optional[dict[str, Any]] = None) -> None:
        """Begin, in the background, the training ``params`` describe (once per network; the one before is cancelled).

        ``params=None``: the Train form's defaults, worked out in the background (the Data page
        begins with these, before the form exists; the form keeps them if they still match).
        A split that is replaced (and so dropped) cancels what was begun for it.
        """
        if self.training is not None:
            return
        if self.ahead is not None:  # one begun from the Data page may not know its parameters yet: the form's defaults
            begun_with = self.ahead.params or (self.form_defaults() if self.ahead.deferred else None)
            if params is None or (begun_with is not None and same_network(params, begun_with)):
                return
        self.drop_ahead()
        self.ahead = TrainingAhead(self.prepared, params if params is not None else partial(_form_defaults, self.prepared, self.cache),
                                   after=warmup.start(), delay=0.0 if params is not None else DATA_PAGE_AHEAD_DELAY)
        self._ahead_finalizer = weakref.finalize(self, self.ahead.cancel)

    def drop_ahead(self) -> None:
        """Cancel the training begun ahead, if any (its model is not wanted)."""
        if self.ahead is not None:
            self.ahead.cancel()
            self.ahead = None
        if self._ahead_finalizer is not None:
            self._ahead_finalizer.detach()
            self._ahead_finalizer = None

    def train_defaults(self) -> dict[str, Any]:
        """The detector's defaults with the sizes suggested for this split (:func:`core.pipeline.suggested_params`)."""
        return _train_defaults(self.prepared, self.cache)

    def form_defaults(self) -> dict[str, Any]:
        """The parameters the Train form gives for this split before anything in it is changed."""
        return _form_defaults(self.prepared, self.cache)

    def begin_training(self, params: dict[str, Any]) -> Any:
        """A detector ready to train with ``params``: the one begun ahead when it matches, else a new one."""
        ready = self.ahead.take(params) if self.ahead is not None else None
        self.drop_ahead()
        return ready if ready is not None else begin_training(self.prepared, params)


@dataclass(eq=False)
class Workspace:
    """The table and the choices made on it."""

    table: Table
    choice: Choice
    study: Optional[Study] = None
    problem: Optional[str] = None  # why the table's guessed label could not be used (said until a valid choice is made)
    widgets: Kept = field(default_factory=Kept)

    @property
    def prepared(self) -> Optional[Prepared]:
        return None if self.study is None else self.study.prepared


@dataclass(eq=False)
class ModelRun:
    """One model in use and everything derived from it."""

    detector: Any
    origin: str  # trained | restored | compared | searched
    study: Optional[Study]  # the split its scores come from; None: no matching table
    scores: Optional[dict] = None
    context: dict[str, Any] = field(default_factory=dict)  # a bundle's context (label, normal classes, features)
    threshold: Threshold = None  # type: ignore[assignment]
    default_threshold: Threshold = None  # type: ignore[assignment]
    widgets: Kept = field(default_factory=Kept)
    cache: dict[str, Any] = field(default_factory=dict)
    note: str = ""  # what happened when it was put in use (for the page to show)
    unscored: str = ""  # why it has no scored rows of the current table (when ``study`` is None)

    def __post_init__(self) -> None:
        d = self.detector
        self.default_threshold = d.fitted_threshold
        if self.threshold is None:
            self.threshold = self.default_threshold
        if self.threshold.review_from is not None:  # a saved model's review band: on the Threshold page and in scoring, as it was
            self.widgets.values.update(band_on=True, band_low=float(self.threshold.review_from))

    @property
    def prepared(self) -> Optional[Prepared]:
        return None if self.study is None else self.study.prepared

    @property
    def review_band_start(self) -> Optional[float]:
        """Where the review band set on the Threshold page starts, below the threshold or not; None without a band."""
        low = self.widgets.get("band_low") if self.widgets.get("band_on") else None
        return None if low is None else float(low)

    @property
    def review_from(self) -> Optional[float]:
        """Where the review band starts when it marks rows (rows scoring above it, up to the threshold, go to a
        person), or None: no band, or one that the threshold has since moved to or below."""
        start = self.review_band_start
        return start if start is not None and start < self.threshold.value else None

    @property
    def review_band_idle(self) -> bool:
        """A review band is on, but the threshold has moved to or below its start: it marks no row until one of them moves."""
        start = self.review_band_start
        return start is not None and start >= self.threshold.value

    @property
    def name(self) -> str:
        """What the model is, in a few words (architecture or baseline name)."""
        d = self.detector
        if hasattr(d, "members_"):
            return f"{d.name} of {len(d.members_)} {d.architecture} networks"
        if hasattr(d, "architecture"):
            return f"{d.architecture} autoencoder"
        return getattr(d, "name", type(d).__name__)

    @property
    def provenance(self) -> str:
        """Where the model came from, in words (the sidebar and every page say the same)."""
        return {"trained": "trained here", "restored": "restored from a file", "compared": "chosen on the Compare page",
                "searched": "the best of the random search on the Compare page"}[self.origin]

    @property
    def is_autoencoder(self) -> bool:
        """One autoencoder (its reconstruction explains a score); an ensemble of them is not one."""
        from core.detector import AutoencoderDetector

        return isinstance(self.detector, AutoencoderDetector)

    @property
    def kind(self) -> str:
        """"autoencoder", "ensemble" (of autoencoders) or "baseline", for the words a page uses."""
        from core.ensemble import AutoencoderEnsemble

        return "autoencoder" if self.is_autoencoder else "ensemble" if isinstance(self.detector, AutoencoderEnsemble) else "baseline"

    def set_threshold(self, value: float, rule: str = BY_HAND[0], reason: str = BY_HAND[1], set_on: Optional[str] = None) -> None:
        """``set_on``: the rows whose scores set it ("val" or "test"): by hand, the rows on screen then; an outlier
        test, the rows it judged. Other rules (training scores, labels of validation rows) keep none."""
        self.threshold = Threshold(float(value), rule, reason, set_on if set_on_rows(rule) else None)

    def cached(self, name: str, compute: Callable[[], Any]) -> Any:
        """A value derived from this model (histogram grid, bootstrap, per-feature errors, latent codes)."""
        if name not in self.cache:
            self.cache[name] = compute()
        return self.cache[name]

    def bundle_context(self) -> dict[str, Any]:
        return self.prepared.context() if self.prepared is not None else dict(self.context)


@dataclass(eq=False)
class Session:
    """One browser session's memory."""

    workspace: Workspace
    run: Optional[ModelRun] = None
    seen_uploads: dict[str, str] = field(default_factory=dict)  # uploader → last file id handled
    notices: dict[str, tuple[str, str]] = field(default_factory=dict)  # where → (kind, message), shown until replaced

    @classmethod
    def seeded(cls, prepared: Prepared, detector: Any = None, scores: Optional[dict] = None) -> "Session":
        """A session on a prepared split, with a trained model in use when given (tests, notebooks)."""
        t = prepared.target
        study = Study(prepared)
        session = cls(Workspace(prepared.table, Choice(t.label, tuple(t.normal_classes), tuple(prepared.features), prepared.split.seed), study))
        if detector is not None:
            session.run = ModelRun(detector, "trained", study, scores if scores is not None else score_all(detector, prepared))
        return session

    # --- reading --------------------------------------------------------
    @property
    def table(self) -> Table:
        return self.workspace.table

    @property
    def study(self) -> Optional[Study]:
        return self.workspace.study

    @property
    def prepared(self) -> Optional[Prepared]:
        return self.workspace.prepared

    @property
    def scored_run(self) -> Optional[ModelRun]:
        """The run in use when it has scored rows of the current split (what Threshold and Inspect need)."""
        run = self.run
        if run is None or run.scores is None or run.study is not self.study:
            return None
        return run

    # --- transitions ----------------------------------------------------
    def set_table(self, table: Table) -> None:
        """A new table: a new workspace with its likely label chosen and split prepared.

        A table no choice can be prepared on (one data row, no numeric column) raises
        DataError and changes nothing. A restored model survives and is applied to
        the new table when its columns fit.
        """
        current = self.workspace.table if self.workspace is not None and self.workspace.study is not None else None
        if current is not None and current.sha256 == table.sha256 and current.name == table.name:
            self.notices["choice"] = ("info", f"'{plain(table.name)}' is the table already in use (the same bytes): nothing was changed.")
            return
        dropped = self._dropped_with_table()
        label = SAMPLES[table.name][1] if table.name in SAMPLES else guess_label(table.frame)
        if table.name in SAMPLES:
            normal: tuple = tuple(SAMPLES[table.name][2])
        else:
            normal = (class_counts(table.frame, label).index[0],) if label is not None else ()
        previous_workspace, previous_run = self.workspace, self.run
        self.workspace = Workspace(table, Choice(label, normal, (), 0))
        try:
            self.choose(label, normal, None, 0)
        except DataError as first:
            without_label: Optional[DataError] = None
            try:
                self.choose(None, (), None, 0) if label is not None else None
            except DataError as exc:
                without_label = exc
            if self.workspace.study is None:  # refused without a label too: that says what is wrong with the table itself
                self.workspace, self.run = previous_workspace, previous_run
                raise (without_label or first)
            self.workspace.problem = f"The label column {label!r} could not be used, so none is chosen: {first}"
        self.notices.pop("bundle", None)
        if dropped:
            self.notices["choice"] = ("info", f"The {dropped} was dropped with the previous table, '{plain(previous_workspace.table.name)}': a model belongs "
                                              "to the table it was trained and scored on. Train again on the Train page, or restore a saved model.")
        if previous_run is not None and previous_run.origin == "restored":
            self._apply_bundle(previous_run.detector, previous_run.context, previous_run.threshold)

    def choose(self, label: Optional[str], normal: Sequence[object], features: Optional[Sequence[str]], seed: int) -> bool:
        """Prepare the split for a choice; a new split drops the study and the model.

        Returns whether anything changed. A refused choice raises DataError and
        leaves the previous split, study and model in use.
        """
        ws = self.workspace
        wanted = Choice(label, tuple(normal), tuple(features) if features is not None else (), int(seed))
        if ws.study is not None and wanted == ws.choice:
            return False
        prepared = prepare(ws.table, label, list(normal), list(features) if features is not None else None, seed=int(seed))  # DataError: said where chosen
        ws.problem = None  # the table's own notice (its label could not be used) ends with the first valid choice
        dropped = self._dropped_by_new_split()
        if dropped:
            self.notices["choice"] = ("info", f"The {dropped} was dropped: a model belongs to the split it was trained and scored on. Train again on the Train page.")
        ws.choice = Choice(prepared.target.label, tuple(prepared.target.normal_classes), tuple(prepared.features), prepared.split.seed)
        previous, ws.study = ws.study, Study(prepared)
        if previous is not None:  # what the user set on the Train and Compare pages stays; the model does not
            ws.study.widgets.carry_from(previous.widgets, CARRIED_SETTINGS)
        if self.run is not None and self.run.origin == "restored":
            self._restored_on_new_choice(self.run)
        else:
            self.run = None
        return True

    def _restored_on_new_choice(self, run: ModelRun) -> None:
        """A restored model after the Data page's choice changed: scored again when the choice is the one it was
        saved with; else kept for the Score page, saying why Threshold and Inspect cannot show it (another split
        would put rows it was trained on among the validation and test rows)."""
        prepared, saved = self.workspace.prepared, run.context
        if _same_choice(prepared.context(), saved):
            self.run = ModelRun(run.detector, "restored", self.workspace.study, score_all(run.detector, prepared), context=saved,
                                threshold=run.threshold, note="Back on the choice the model was saved with: validation and test rows are scored again.")
        else:
            self.run = ModelRun(run.detector, "restored", None, context=saved, threshold=run.threshold, unscored=(
                f"The restored model was saved with {_describe_choice(saved)}; another choice gives other validation and test rows, "
                "some of which it was trained on. Choose those again on the Data page to tune its threshold; the Score page can use it as it is."))
        self._bundle_notice()

    def _bundle_notice(self) -> None:
        """The Data page's word on the restored model in use, kept in step with it."""
        run = self.run
        self.notices["bundle"] = ("success", plain(run.note, 4000)) if run.study is not None else ("warning", plain(run.unscored, 4000))

    def _dropped_with_table(self) -> str:
        """What a new table drops that the user made ('' when nothing): what a new split drops, or a model chosen on
        the Compare page with its threshold (a restored model is applied to the new table instead)."""
        if self.workspace is None:
            return ""
        dropped = self._dropped_by_new_split()
        run = self.run
        if not dropped and run is not None and run.origin in ("compared", "searched"):
            dropped = f"{run.name}, {run.provenance}, with its threshold"
        return dropped

    def _dropped_by_new_split(self) -> str:
        """What a new split drops that the user made on the old one ('' when nothing): a training, paused or not, or a trained model."""
        study = self.workspace.study
        if study is None:
            return ""
        if study.training is not None:
            return f"training in progress ({training_progress(study.training)})"
        trained = [r for r in (self.run, study.set_aside) if r is not None and r.study is study and r.origin == "trained"]
        return f"trained {trained[0].name}" if trained else ""

    def train_ahead_from_defaults(self) -> None:
        """The Data page's: begin the Train form's default training, unless this split already has a model in use."""
        study = self._require_study()
        if self.run is None or self.run.study is not study:
            study.train_ahead()

    def train_ahead_for_form(self, params: dict[str, Any]) -> None:
        """The Train page's: begin the training its form describes, unless the model in use was trained with
        exactly these values (few train the same network twice; what was begun is then dropped)."""
        study = self._require_study()
        run = self.run
        if params.get("n_networks", 1) != 1:  # an ensemble is not begun ahead: its first network alone would serve a fraction of it
            study.drop_ahead()
        elif run is not None and run.study is study and run.origin == "trained" and all(run.detector.get_params().get(k) == v for k, v in params.items()):
            study.drop_ahead()
        else:
            study.train_ahead(params)

    def start_training(self, detector: Any) -> None:
        """Training begins: the previous model, its chart and summary go at once."""
        study = self._require_study()
        study.training = detector
        self.run = None

    def finish_training(self) -> ModelRun:
        """End the training in progress and put the model in use with its scores."""
        study = self._require_study()
        detector = study.training.end_fit()
        study.training = None
        study.set_aside = None  # a newer training replaces what was set aside too
        self.run = ModelRun(detector, "trained", study, score_all(detector, study.prepared))
        self.notices.pop("bundle", None)  # a restored model's word on the Data page no longer applies
        return self.run

    def use_result(self, result: Any, origin: str) -> ModelRun:
        """A detector fitted on the Compare page (``compared`` or ``searched``) becomes the model in use."""
        study = self._require_study()
        if result not in (study.comparison or []) and (study.search is None or result is not study.search[1]):
            raise DataError("That result belongs to another table or choice; compare again on the current data.")
        if self.run is not None and self.run.study is study and self.run.origin in ("trained", "restored"):
            study.set_aside = self.run  # with its threshold and page settings, for :meth:`use_set_aside`
        current = [r.detector for r in study.comparison or []] + ([study.search[1].detector] if study.search else [])
        study.used_results = [run for run in study.used_results if any(run.detector is d for d in current)]  # a new comparison's go
        again = next((run for run in study.used_results if run.detector is result.detector), None)
        if again is None:
            again = ModelRun(result.detector, origin, study, result.parts)
            study.used_results.append(again)
        self.run = again
        return self.run

    def use_set_aside(self) -> ModelRun:
        """Put the model that a compared one replaced back in use, as it was (threshold and settings)."""
        study = self._require_study()
        if study.set_aside is None:
            raise DataError("No trained or restored model was set aside on this split; train one on the Train page.")
        self.run, study.set_aside = study.set_aside, None
        return self.run

    def restore(self, data: bytes, name: str) -> ModelRun:
        """Load a bundle and apply it to the current table; raises DataError, changing nothing."""
        detector, context = load_bundle(data)
        return self._apply_bundle(detector, context)

    def _apply_bundle(self, detector: Any, context: dict[str, Any], threshold: Optional[Threshold] = None) -> ModelRun:
        ws = self.workspace
        try:
            prepared = prepare_from_context(ws.table, context)
        except DataError as exc:
            self.run = ModelRun(detector, "restored", None, context=context, threshold=threshold, unscored=f"{exc}")
            self._bundle_notice()
            return self.run
        note = "Restored the model on this table: validation and test rows are scored again."
        study = ws.study
        if study is not None and study.training is None and _same_choice(study.prepared.context(), context):
            # The split in use: its comparison stays, and the model in use is set aside (one click puts it back), as
            # when a compared model is used.
            if self.run is not None and self.run.study is study and self.run.origin in ("trained", "restored") and self.run.detector is not detector:
                study.set_aside = self.run
                note += f" The {self.run.name} ({self.run.origin}) is set aside: one click on Compare, Train or Inspect puts it back."
            prepared = study.prepared
        else:
            study = ws.study = Study(prepared)
            ws.choice = Choice(prepared.target.label, tuple(prepared.target.normal_classes), tuple(prepared.features), prepared.split.seed)
            ws.widgets = Kept()  # the Data page's widgets start again from the model's choices
        ws.problem = None
        self.run = ModelRun(detector, "restored", study, score_all(detector, prepared), context=context, threshold=threshold, note=note)
        self._bundle_notice()
        return self.run


    def new_upload(self, uploader: str, file_id: str) -> bool:
        """True once per uploaded file (an uploader keeps its file across reruns)."""
        if self.seen_uploads.get(uploader) == file_id:
            return False
        self.seen_uploads[uploader] = file_id
        return True

    def _require_study(self) -> Study:
        if self.study is None:
            raise DataError("Choose a label and features on the Data page first.")
        return self.study


def _same_choice(current: dict[str, Any], saved: dict[str, Any]) -> bool:
    """Whether a split's context is the one a bundle was saved with (label, normal classes, features, seed)."""
    def key(c: dict[str, Any]) -> tuple:
        return (c.get("label"), sorted(map(str, c.get("normal_classes", []))), list(map(str, c.get("features", []))), int(c.get("split_seed", 0)))
    return key(current) == key(saved)


def _describe_choice(context: dict[str, Any]) -> str:
    """A bundle's choice in words (names from a file: escape before showing)."""
    label = context.get("label")
    if label is None:
        return f"no label, {len(context.get('features', [])):,} features and split seed {int(context.get('split_seed', 0))}"
    normal = ", ".join(f"'{c}'" for c in context.get("normal_classes", [])[:5])
    return (f"label '{label}', normal class(es) {normal}, {len(context.get('features', [])):,} features and split seed "
            f"{int(context.get('split_seed', 0))}")

def get() -> Session:
    """This browser session's memory, created on the first visit with a bundled sample loaded."""
    session = st.session_state.get(SESSION_KEY)
    if session is None:
        table = load_sample(DEFAULT_SAMPLE)
        session = Session(Workspace(table, Choice(None, (), (), 0)))
        session.set_table(table)
        st.session_state[SESSION_KEY] = session
    return session


def pressed(key: str) -> bool:
    """Whether the button ``key`` was pressed for this run, known before it is drawn (so that it can be drawn disabled
    in the very run its click begins something)."""
    return bool(st.session_state.get(key))


def kept(widget: Callable[..., Any], label: str, *, owner: Kept, name: str, default: Any, valid: Optional[Callable[[Any], bool]] = None,
         in_form: bool = False, **kwargs: Any) -> Any:
    """Draw ``widget`` whose value survives leaving the page; ``owner`` holds it.

    ``default`` is used the first time (or when the kept value is no longer ``valid``,
    e.g. an option that is gone). Inside a form (``in_form``) the value is kept when
    the form is submitted.
    """
    key = owner.key(name)
    state = st.session_state
    if key not in state:
        value = owner.values.get(name, default)
        if valid is not None and not valid(value):
            value = default
        state[key] = value  # sent with the widget this run
    else:
        kwargs.update(_drawn_default(widget, state[key], kwargs))
    then = kwargs.pop("on_change", None)

    def remember(*args: Any, **kw: Any) -> None:
        # Also when the change arrives with a click that leaves the page: callbacks run
        # before the next page's script, so the value is kept even then.
        if key in state:
            owner.values[name] = state[key]
            owner.touched.add(name)
        if then is not None:
            then(*args, **kw)

    value = widget(label, key=key, **kwargs) if in_form else widget(label, key=key, on_change=remember, **kwargs)  # forms allow no callbacks
    owner.values[name] = value
    return value


def _drawn_default(widget: Callable[..., Any], value: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The kept value as the widget's own default, so that a browser that has lost the widget's state shows it.

    A click on a page link while a typed value is being committed (the two requests fold into one run) can
    leave the browser redrawing this page's widgets without their state: it then shows each widget's
    default, which without this is the minimum of a number box, an empty text box and a select box's first
    option, and sends those back with the next click as if the user had chosen them (every Train setting
    fell to its minimum). With the kept value as the default, what it shows and sends is what the server holds.
    A value the widget would refuse as a default (outside its bounds or options) is not passed.
    """
    kind = getattr(widget, "__name__", "")
    options = list(kwargs.get("options", ()))
    if kind in ("number_input", "slider"):
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        inside = isinstance(value, (int, float)) and (low is None or value >= low) and (high is None or value <= high)
        return {"value": value} if inside else {}
    if kind in ("text_input", "text_area"):
        return {"value": value} if isinstance(value, str) else {}
    if kind in ("toggle", "checkbox"):
        return {"value": value} if isinstance(value, bool) else {}
    if kind in ("selectbox", "radio"):
        return {"index": options.index(value)} if value in options else {}
    if kind == "select_slider":
        return {"value": value} if value in options else {}
    if kind == "multiselect" and isinstance(value, (list, tuple)):
        return {"default": [v for v in value if v in options]}
    return {}


def set_widget(owner: Kept, name: str, value: Any) -> None:
    """Change a kept widget's value from a callback (before it is drawn again)."""
    owner.values[name] = value
    st.session_state[owner.key(name)] = value


def widget_value(owner: Kept, name: str, default: Any = None) -> Any:
    """The current value of a kept widget, from a callback."""
    return st.session_state.get(owner.key(name), owner.values.get(name, default))


def has_widget(key: str) -> bool:
    """Whether the browser holds a widget (or component) with this key now."""
    return key in st.session_state


def widget_state(key: str) -> Any:
    """A widget's or component's current state, from a callback."""
    return st.session_state.get(key)
