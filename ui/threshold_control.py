"""A threshold control that follows the hand: drawn and recomputed in the browser.

Python sends the curve's cut points (a few thousand thresholds with exact counts) once per
model; while the pointer drags, the browser recomputes the confusion matrix, the metrics and
the threshold line itself, with the same tie rule (flagged when score > threshold), the same
formulas and the same number formatting as :mod:`core.metrics` and :func:`display_texts`.
Only a released drag, a keyboard step or a typed value goes back to Python, exactly.

Mount it with :func:`threshold_control`; the payload stays identical between reruns unless the
curve, the axis or an outside change of the value (a rule, a cost jump) needs new data, so
Streamlit's message cache sends it to the browser once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st

from core.evaluation import METRIC_LABELS
from core.metrics import Confusion, CutPoints, ThresholdCurve
from core.plots import HistogramBins, histogram_bins
from ui import session

MAX_POINTS = 2000
HISTOGRAM_BINS = 60
JS = (Path(__file__).with_name("threshold_control.js")).read_text(encoding="utf-8")
CSS = """
.alab-thr { font-family: var(--st-font, sans-serif); color: var(--st-text-color, #31333f); font-size: 0.9rem; }
.alab-head { display: flex; flex-wrap: wrap; gap: 0.75rem; align-items: center; margin-bottom: 0.4rem; }
.alab-label { display: flex; gap: 0.5rem; align-items: center; font-weight: 600; }
.alab-input { width: 11rem; font: inherit; font-weight: 400; padding: 0.25rem 0.4rem;
  border: 1px solid var(--st-border-color, #ccc); border-radius: var(--st-base-radius, 0.4rem);
  background: var(--st-secondary-background-color, #f0f2f6); color: inherit; }
.alab-input:focus-visible { outline: 2px solid var(--st-primary-color, #ff4b4b); outline-offset: 1px; }
.alab-slider { position: relative; cursor: ew-resize; touch-action: none; user-select: none;
  border-radius: var(--st-base-radius, 0.4rem); padding-bottom: 14px; }
.alab-slider:focus { outline: none; }
.alab-slider:focus-visible { outline: 2px solid var(--st-primary-color, #ff4b4b); outline-offset: 2px; }
.alab-hist { display: block; width: 100%; height: 120px; }
.alab-normal { fill: rgba(31, 119, 180, 0.45); stroke: #1f77b4; stroke-width: 1; vector-effect: non-scaling-stroke; }
.alab-all { fill: rgba(127, 127, 127, 0.45); stroke: #7f7f7f; stroke-width: 1; vector-effect: non-scaling-stroke; }
.alab-anomaly { fill: rgba(214, 39, 40, 0.45); stroke: #d62728; stroke-width: 1; vector-effect: non-scaling-stroke; }
.alab-line { stroke: #2ca02c; stroke-width: 3; vector-effect: non-scaling-stroke; }
.alab-track { position: absolute; left: 0; right: 0; bottom: 4px; height: 4px; border-radius: 2px;
  background: var(--st-border-color, #ddd); }
.alab-thumb { position: absolute; top: -6px; width: 16px; height: 16px; margin-left: -8px; border-radius: 50%;
  background: #2ca02c; box-shadow: 0 0 0 2px var(--st-background-color, #fff); }
.alab-ends { display: flex; justify-content: space-between; font-size: 0.75rem; opacity: 0.7; margin-bottom: 0.5rem; }
.alab-matrix { display: grid; grid-template-columns: 1fr 1fr; gap: 4px; margin-bottom: 0.5rem; }
.alab-matrix[hidden] { display: none; }
.alab-cell { display: flex; flex-direction: column; padding: 0.35rem 0.5rem; border-radius: var(--st-base-radius, 0.4rem);
  background: var(--st-secondary-background-color, #f0f2f6); }
.alab-fp, .alab-fn { background: rgba(214, 39, 40, 0.10); }
.alab-name { font-size: 0.75rem; opacity: 0.75; }
.alab-count { font-size: 1.15rem; font-weight: 600; font-variant-numeric: tabular-nums; }
.alab-share { font-size: 0.8rem; font-variant-numeric: tabular-nums; }
.alab-metrics { display: flex; flex-wrap: wrap; gap: 0.4rem 1.2rem; }
.alab-metric { display: flex; flex-direction: column; min-width: 5.5rem; }
.alab-mname { font-size: 0.75rem; opacity: 0.75; }
.alab-value { font-size: 1.05rem; font-weight: 600; font-variant-numeric: tabular-nums; }
"""

_component = st.components.v2.component("anomaly_lab_threshold", js=JS, css=CSS)


# -- what the browser shows, formatted the way the JS formats it --------------------------------
def display_texts(conf: Confusion, labelled: bool = True) -> dict[str, str]:
    """The control's texts at ``conf``, as Python formats them: the reference for the browser.

    Cells: count ``{:,}`` and share of the actual class ``{:.1%}``; metrics ``{:.3f}``; the sentence's detail,
    what the threshold catches and what it costs; without labels, rows flagged ``{:,}`` and share flagged ``{:.2%}``.
    """
    if not labelled:
        return {"flagged": f"{conf.flagged:,}", "share_flagged": f"{conf.flagged / conf.n if conf.n else 0.0:.2%}"}
    shares = conf.class_shares()
    counts = {"tn": conf.tn, "fp": conf.fp, "fn": conf.fn, "tp": conf.tp}
    texts = {f"{k}_count": f"{counts[k]:,}" for k in counts} | {f"{k}_share": f"{shares[k]:.1%}" for k in counts}
    metrics = conf.metrics()
    texts |= {k: f"{metrics[k]:.3f}" for k in METRIC_LABELS}
    texts["detail"] = (f"{texts['tp_share']} of anomalies caught ({texts['tp_count']} of {conf.tp + conf.fn:,}), "
                       f"{texts['fp_share']} of normal rows flagged (false alarms: {texts['fp_count']}).")
    return texts


# -- the payload, built once per curve, axis and outside value -----------------------------------
def _floats(a: np.ndarray) -> list[float]:
    return [float(v) for v in a]


def payload(curve: ThresholdCurve, *, log_scale: bool, labelled: bool, rows_label: str,
            histogram: HistogramBins | None = None, include: tuple[float, ...] = (), max_points: int = MAX_POINTS) -> dict[str, Any]:
    """Everything the browser needs for this curve: cut points, counts and histogram bins.

    JSON floats round-trip exactly (shortest repr on both sides), so the browser's thresholds
    are Python's, bit for bit. ``stamp`` changes only when the content does.
    """
    labelled = labelled and curve.has_labels
    cuts: CutPoints = curve.cut_points(max_points, include=include)
    if histogram is None or histogram.log_x != log_scale:
        y = np.diff(curve.cum_pos) if curve.cum_pos is not None else None
        histogram = histogram_bins(curve.sorted_scores, y, n_bins=HISTOGRAM_BINS, log_x=log_scale)
    show_anomaly = labelled and histogram.anomaly is not None
    body = {
        "t": _floats(cuts.threshold),
        "below": [int(v) for v in cuts.below],
        "anom": [int(v) for v in cuts.anomalies_below] if labelled and cuts.anomalies_below is not None else None,
        "n": cuts.n,
        "n_pos": cuts.n_pos if labelled else 0,
        "complete": cuts.complete,
        "labelled": labelled,
        "rows_label": rows_label,
        "metrics": [[k, v] for k, v in METRIC_LABELS.items()],
        "hist": {
            "edges": _floats(histogram.edges),
            "normal": [int(v) for v in (histogram.normal if show_anomaly else histogram.normal + (histogram.anomaly if histogram.anomaly is not None else 0))],
            "anomaly": [int(v) for v in histogram.anomaly] if show_anomaly else None,
            "log": bool(histogram.log_x),
        },
    }
    body["stamp"] = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]
    return body


def payload_bytes(data: dict[str, Any]) -> int:
    """Bytes of the JSON Streamlit sends for ``data`` (the element adds the JS and CSS once)."""
    return len(json.dumps(data).encode("utf-8"))


# -- mounting ---------------------------------------------------------------------------------
def _sync(memory: dict[str, Any]) -> dict[str, Any]:
    """The control's bookkeeping, kept in ``memory``: a dict owned by the object the control belongs to."""
    for name, default in (("shown", None), ("value", None), ("seq", 0), ("pending", None), ("payload", None), ("hist", None)):
        memory.setdefault(name, default)
    return memory


def _on_commit(key: str, memory: dict[str, Any], on_change: Callable[[float], None] | None) -> None:
    state = session.widget_state(key)
    value = state.get("value") if state is not None else None
    if value is None:
        return
    sync = _sync(memory)
    sync["pending"] = sync["shown"] = float(value)
    if on_change is not None:
        on_change(float(value))


def threshold_control(curve: ThresholdCurve, value: float, *, key: str, memory: dict[str, Any], log_scale: bool = False, labelled: bool | None = None,
                      rows_label: str = "rows", histogram: HistogramBins | None = None, max_points: int = MAX_POINTS,
                      on_change: Callable[[float], None] | None = None) -> float | None:
    """Mount the live threshold control; return the value the browser committed since the last run, else None.

    ``value`` is the threshold in use; when it changes from outside (a rule, a cost jump), the
    control moves to it. ``on_change(value)`` runs before the script, like a widget callback,
    so the page can store the committed value before anything reads it. ``histogram``: the
    model's precomputed bins for this axis (computed here once per curve if omitted).
    """
    labelled = curve.has_labels if labelled is None else (labelled and curve.has_labels)
    value = float(value)
    sync = _sync(memory)
    committed, sync["pending"] = sync["pending"], None
    fresh = not session.has_widget(key)  # no widget state: the browser builds a new control
    if fresh or (committed is None and value != sync["shown"]):
        sync["value"], sync["seq"], sync["shown"] = value, sync["seq"] + 1, value
    base = curve.cut_points(max_points).threshold
    extra = tuple(sorted(v for v in {sync["value"], sync["shown"]} if not _is_cut(base, v)))
    signature = (log_scale, labelled, rows_label, id(histogram), max_points, extra)
    cached = sync["payload"]
    if cached is None or cached[0] is not curve or cached[1] != signature:
        if histogram is None or histogram.log_x != log_scale:
            reuse = sync.get("hist")
            if reuse is None or reuse[0] is not curve or reuse[1] != log_scale:
                y = np.diff(curve.cum_pos) if curve.cum_pos is not None else None
                sync["hist"] = (curve, log_scale, histogram_bins(curve.sorted_scores, y, n_bins=HISTOGRAM_BINS, log_x=log_scale))
            histogram = sync["hist"][2]
        sync["payload"] = (curve, signature, payload(curve, log_scale=log_scale, labelled=labelled, rows_label=rows_label,
                                                    histogram=histogram, include=extra, max_points=max_points))
    data = {**sync["payload"][2], "value": sync["value"], "seq": sync["seq"]}
    _component(data=data, key=key, on_value_change=lambda: _on_commit(key, memory, on_change))
    return committed


def _is_cut(thresholds: np.ndarray, value: float) -> bool:
    i = int(np.searchsorted(thresholds, value))
    return i < len(thresholds) and thresholds[i] == value
