"""A training begun in the background before it is asked for.

Pressing Train should show the first epoch at once, but a new network's step functions
take TensorFlow about a second to trace. While the user reads the Data page or the
Train form, the training the form's values describe is begun here (data prepared,
network built, steps traced: :meth:`core.training.Trainer.trace_ahead`); the click takes
it if the values still match, else begins anew. Either way the model is the same, bit
for bit.
"""

from __future__ import annotations

import logging
import threading
import weakref
from typing import Any, Callable, Optional, Union

log = logging.getLogger(__name__)

#: Trainings begun ahead queue here for one core, instead of all tracing at once on a shared server.
_one_at_a_time = threading.Lock()
#: Seconds a click waits for a begun training to finish tracing before it begins its own.
TAKE_TIMEOUT = 60.0
_pending: "weakref.WeakSet[TrainingAhead]" = weakref.WeakSet()


def _cancel_all() -> None:
    """At interpreter exit, before its threads are joined: only a trace already running is waited for."""
    for ahead in list(_pending):
        ahead.cancel()


threading._register_atexit(_cancel_all)  # noqa: SLF001 - what concurrent.futures uses for the same purpose

Params = dict[str, Any]

#: Parameters that change neither the network nor its traced steps: a begun training takes their values at the click.
LATE_PARAMS = ("epochs", "patience", "score")


def same_network(a: Params, b: Params) -> bool:
    """Whether two sets of parameters build and train the same network (they may differ in its length or score).

    A learning-rate schedule is compiled over the epochs, so with one the epochs must match too.
    """
    scheduled = any(p.get("lr_schedule", "constant") != "constant" for p in (a, b))
    late = tuple(name for name in LATE_PARAMS if not (scheduled and name == "epochs"))
    return {k: v for k, v in a.items() if k not in late} == {k: v for k, v in b.items() if k not in late}


class TrainingAhead:
    """One training begun in a thread with fixed parameters; taken at most once.

    One at a time per process: on a server shared by many sessions, trainings begun ahead
    queue for one core instead of all tracing at once. A click never waits in that queue:
    a training not yet begun is cancelled and the click begins its own.

    ``params``: the parameters, or a function that gives them (run in the thread, for
    defaults that are slow to work out). ``after``: a thread to let finish first, the
    server's warm-up (two threads importing TensorFlow at once can deadlock on import
    locks). ``delay``:
    seconds to leave the cores to the page that started it. The thread is not a daemon,
    so an exiting interpreter waits for it instead of stopping TensorFlow mid-call.
    """

    def __init__(self, prepared: Any, params: Union[Params, Callable[[], Params]], after: Optional[threading.Thread] = None,
                 delay: float = 0.0) -> None:
        self._prepared, self._after, self._delay = prepared, after, delay
        self._read = params if callable(params) else None
        #: Whether the parameters come from a function (worked out in the thread, so not known at once).
        self.deferred = self._read is not None
        self._params: Optional[Params] = None if callable(params) else dict(params)
        self._known = threading.Event()
        if self._read is None:
            self._known.set()
        self._detector: Any = None
        self._cancelled = threading.Event()
        self._started = False
        self._guard = threading.RLock()  # re-entrant: a split's finalizer may cancel during a collection in this thread
        _pending.add(self)
        self.thread = threading.Thread(target=self._begin, name="training-ahead", daemon=False)
        self.thread.start()

    @property
    def params(self) -> Optional[Params]:
        """The parameters, once known (None before, or when working them out failed)."""
        return self._params

    def _begin(self) -> None:
        """Wait (delay, then ``after``), work out the parameters, then begin and trace, one at a time."""
        from core.pipeline import begin_training

        try:
            if self._cancelled.wait(self._delay):
                return
            if self._after is not None and self._after is not threading.current_thread():
                self._after.join()  # before the parameters too: working them out imports scikit-learn
            if self._read is not None and not self._cancelled.is_set():
                self._params = dict(self._read())
        except Exception:
            log.debug("the parameters for a training ahead could not be worked out", exc_info=True)
            return
        finally:
            self._known.set()
        if self._cancelled.is_set():
            return
        try:
            with _one_at_a_time:
                with self._guard:
                    if self._cancelled.is_set() or self._params is None:
                        return
                    self._started = True
                detector = begin_training(self._prepared, self._params)
                if not self._cancelled.is_set():
                    detector.trainer_.trace_ahead()
                with self._guard:
                    if not self._cancelled.is_set():
                        self._detector = detector
        except Exception:  # the click begins the training itself and shows what is wrong
            log.debug("training ahead with %r failed", self._params, exc_info=True)

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def cancel(self) -> None:
        """Not wanted any more (the form changed, the split went): skip what has not begun, keep no model."""
        with self._guard:
            self._cancelled.set()
            self._detector = None

    def serves(self, params: Params) -> bool:
        """Whether the click with ``params`` can take this training (the same network; the length may differ)."""
        return self._params is not None and same_network(params, self._params)

    def take(self, params: Params) -> Optional[Any]:
        """The begun detector set to ``params`` if it serves them (waiting for its trace if need be), else None.

        Whatever is not taken is cancelled: a training still queued or waiting (not begun), one
        for another network, or one whose trace outlasts :data:`TAKE_TIMEOUT`.
        """
        with self._guard:
            if not self._started or self._cancelled.is_set() or not self.serves(params):
                self._cancelled.set()
                self._detector = None
                return None
        self.thread.join(TAKE_TIMEOUT)
        with self._guard:
            detector, self._detector = self._detector, None
            self._cancelled.set()  # taken: it is no one's any more
        if detector is not None:
            late = {name: params[name] for name in LATE_PARAMS if name in params}
            detector.set_params(**late)
            detector._check_params()  # noqa: SLF001 - set_params does not validate
            detector.trainer_.epochs, detector.trainer_.patience = int(detector.epochs), int(detector.patience)
        return detector
