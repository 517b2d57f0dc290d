"""The dashboard's two hot paths, measured server-side without a browser.

1. One Threshold-fragment rerun after a slider move with 100,000 scored rows:
   the fragment's work (lookup, metrics, four figures serialised as Streamlit
   sends them) and, as an upper bound, a whole AppTest rerun of the page.
2. Training as the Train page runs it (AppTest: form, hooks, live chart) against
   the same work without the UI (begin_training + run + end_fit + score_all).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import plotly.io as pio
import pytest
from streamlit.testing.v1 import AppTest

from core.data import Table
from core.evaluation import metric_table
from core.pipeline import begin_training, prepare, score_all
from core.plots import confusion_figure, histogram_figure, pr_figure, roc_figure
from tests.conftest import ROOT
from ui.session import Session

pytestmark = pytest.mark.benchmark
APP = str(ROOT / "app.py")


def _table(n_rows: int, n_features: int, seed: int = 0) -> Table:
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n_rows, 4))
    x = latent @ rng.normal(size=(4, n_features)) + rng.normal(0, 0.1, (n_rows, n_features))
    y = rng.random(n_rows) < 0.05
    x[y] += rng.normal(0, 1.0, (int(y.sum()), n_features))
    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(n_features)])
    frame["label"] = np.where(y, "anomaly", "normal")
    return Table(frame, f"synthetic_{n_rows}", "0" * 64, [])


def _seeded_app(table, prepared, detector, scores) -> AppTest:
    """The app with one session key, ``session``, holding the split (and the model, when given)."""
    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state["session"] = Session.seeded(prepared, detector, scores)
    return at


def _widget(at, kind: str, label: str):
    found = [w for w in getattr(at, kind) if w.label == label]
    assert len(found) == 1, f"{len(found)} {kind} labelled {label!r}"
    return found[0]


def test_threshold_fragment_rerun_with_100k_rows():
    table = _table(500_000, 20)  # test and validation parts of 100,000 rows each
    prepared = prepare(table, "label", ["normal"])
    detector = begin_training(prepared, {"epochs": 2})
    detector.trainer_.run()
    detector.end_fit()
    t0 = time.perf_counter()
    scores = score_all(detector, prepared)
    t_score = time.perf_counter() - t0
    shown = scores["test"]
    assert shown.curve.n == 100_000

    def fragment_work(threshold: float) -> None:
        conf = shown.curve.at(threshold)
        metric_table(conf, shown.curve.at(detector.threshold_), {})
        for fig in (histogram_figure(shown.bins_log, threshold), confusion_figure(conf), roc_figure(shown.points, conf), pr_figure(shown.points, conf)):
            pio.to_json(fig, validate=False)

    thresholds = np.quantile(shown.scores, np.linspace(0.5, 0.99, 30))
    fragment_work(thresholds[0])
    times = []
    for t in thresholds:
        t0 = time.perf_counter()
        fragment_work(t)
        times.append(time.perf_counter() - t0)
    fragment_ms = 1e3 * float(np.median(times))

    at = _seeded_app(table, prepared, detector, scores)
    at.run()
    at.switch_page("pages/threshold.py")
    at.run()
    page_times = []
    for t in thresholds[:5]:
        _widget(at, "number_input", "Exact value").set_value(float(t))
        t0 = time.perf_counter()
        at.run()
        page_times.append(time.perf_counter() - t0)
        assert not at.exception
    page_ms = 1e3 * float(np.median(page_times))
    print(f"\n100,000 shown rows: fragment work {fragment_ms:.1f} ms (median of 30 moves; budget 150 ms, ratio {fragment_ms / 150:.2f}); "
          f"whole-page AppTest rerun {page_ms:.0f} ms (upper bound); scoring every part once per model {t_score:.1f} s")


@pytest.mark.parametrize("n_rows, n_features, epochs", [(5000, 140, 30), (3000, 14, 60)])
def test_training_as_the_page_runs_it_against_a_bare_fit(n_rows, n_features, epochs):
    table = _table(n_rows, n_features, seed=1)
    prepared = prepare(table, "label", ["normal"])
    params = {"epochs": epochs, "patience": 0}

    def bare() -> float:
        t0 = time.perf_counter()
        detector = begin_training(prepared, params)
        detector.trainer_.run()
        detector.end_fit()
        score_all(detector, prepared)
        return time.perf_counter() - t0

    bare()  # warm up TensorFlow
    t_bare = bare()

    at = _seeded_app(table, prepared, None, None)
    at.run()
    at.switch_page("pages/train.py")
    at.run()
    _widget(at, "number_input", "Epochs (most)").set_value(epochs)
    _widget(at, "number_input", "Early-stopping patience").set_value(0)
    at.run()
    next(b for b in at.button if b.label.startswith("Train the")).click()
    t0 = time.perf_counter()
    at.run()
    t_page = time.perf_counter() - t0
    assert not at.exception, at.exception
    assert at.session_state["session"].run.detector.epochs_run_ == epochs
    print(f"\n{n_rows}×{n_features}, {epochs} epochs: bare {t_bare:.2f} s, as the Train page runs it {t_page:.2f} s, ratio {t_page / t_bare:.2f} (target ≤ 1.3)")


def test_inspect_row_selection_with_100k_rows():
    from core.explain import explain_row, latent_points, per_feature_errors
    from core.plots import contributions_figure, histogram_figure, latent_figure, mark_score, reconstruction_figure

    table = _table(500_000, 20, seed=2)
    prepared = prepare(table, "label", ["normal"])
    detector = begin_training(prepared, {"epochs": 2})
    detector.trainer_.run()
    detector.end_fit()
    scores = score_all(detector, prepared)
    shown = scores["test"]
    t0 = time.perf_counter()
    per_feature_errors(detector, shown)
    points = latent_points(detector, prepared, shown)
    t_once = time.perf_counter() - t0

    def select(position: int) -> None:
        ex = explain_row(detector, prepared, position)
        figs = [reconstruction_figure(list(ex.original.index), ex.original.to_numpy(), ex.reconstruction.to_numpy()),
                contributions_figure(ex.contributions),
                mark_score(histogram_figure(shown.bins_log, detector.threshold_), ex.score, "row"),
                latent_figure(points, detector.threshold_, highlight_row=position + 1)]
        for fig in figs:
            pio.to_json(fig, validate=False)

    select(int(shown.positions[0]))
    times = []
    for position in shown.positions[1:21]:
        t0 = time.perf_counter()
        select(int(position))
        times.append(time.perf_counter() - t0)
    ms = 1e3 * float(np.median(times))
    print(f"\n100,000 shown rows: one row selection {ms:.0f} ms server-side (median of 20; budget 200 ms, ratio {ms / 200:.2f}); "
          f"per-feature errors + latent codes once per model {t_once:.2f} s")
