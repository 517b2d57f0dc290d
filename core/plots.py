"""Plotly figures. Functions take plain arrays or core objects and return figures.

Anything that would cost time on every slider move (histogram bins, curve
points) is computed once by :func:`histogram_bins` / :func:`curve_points` and
passed in, so redrawing only moves the threshold line and the marker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
import plotly.graph_objects as go

from core.metrics import Confusion, ThresholdCurve

NORMAL_COLOR = "#1f77b4"
ANOMALY_COLOR = "#d62728"
ALL_COLOR = "#7f7f7f"
THRESHOLD_COLOR = "#2ca02c"
MAX_CURVE_POINTS = 1500
_LAYOUT = dict(template="plotly_white", margin=dict(l=60, r=20, t=50, b=90), legend=dict(orientation="h", y=-0.2, yanchor="top", x=0))


def loss_figure(history: dict[str, Sequence[float]], best_epoch: Optional[int] = None, log_y: bool = True) -> go.Figure:
    """Training and validation loss per epoch, with the best epoch marked."""
    fig = go.Figure()
    epochs = np.arange(1, len(history.get("loss", [])) + 1)
    fig.add_trace(go.Scatter(x=epochs, y=history.get("loss", []), mode="lines+markers", name="training loss", line=dict(color=NORMAL_COLOR)))
    if history.get("val_loss"):
        fig.add_trace(go.Scatter(x=epochs, y=history["val_loss"], mode="lines+markers", name="validation loss", line=dict(color="#ff7f0e")))
    if best_epoch:
        fig.add_vline(x=best_epoch, line=dict(color=THRESHOLD_COLOR, dash="dot"), annotation_text=f"best epoch {best_epoch}")
    fig.update_layout(title="Loss per epoch (normal rows)", xaxis_title="epoch", yaxis_title="loss", **_LAYOUT)
    if log_y:
        fig.update_yaxes(type="log")
    return fig


@dataclass(frozen=True)
class HistogramBins:
    """Counts of normal and anomalous scores on shared bins, computed once per model."""

    edges: np.ndarray
    normal: np.ndarray
    anomaly: Optional[np.ndarray]
    log_x: bool


def histogram_bins(scores: np.ndarray, y: Optional[np.ndarray] = None, n_bins: int = 60, log_x: bool = False) -> HistogramBins:
    scores = np.asarray(scores, dtype=np.float64)
    lo, hi = float(np.min(scores)), float(np.max(scores))
    if log_x:
        positive = scores[scores > 0]
        lo = float(positive.min()) if len(positive) else 1e-12
        edges = np.geomspace(lo, max(hi, lo * 1.0001), n_bins + 1)
        scores = np.clip(scores, lo, None)
    else:
        edges = np.linspace(lo, hi if hi > lo else lo + 1e-12, n_bins + 1)
    if y is None:
        return HistogramBins(edges, np.histogram(scores, edges)[0], None, log_x)
    y = np.asarray(y)
    return HistogramBins(edges, np.histogram(scores[y == 0], edges)[0], np.histogram(scores[y == 1], edges)[0], log_x)


def _step_trace(edges: np.ndarray, counts: np.ndarray, name: str, color: str) -> go.Scatter:
    x = np.repeat(edges, 2)[1:-1]
    y = np.repeat(counts, 2)
    return go.Scatter(x=x, y=y, mode="lines", name=name, fill="tozeroy", line=dict(color=color, width=1), opacity=0.6)


def histogram_figure(
    bins: HistogramBins,
    threshold: Optional[float] = None,
    title: str = "Reconstruction error",
    x_title: str = "anomaly score",
    names: tuple[str, str] = ("normal", "anomaly"),
    density: bool = False,
) -> go.Figure:
    """Overlaid score histograms on shared bins, with the threshold as a vertical line.

    ``density=True`` shows each group's share of its own rows, for groups of very
    different sizes (new rows against training rows).
    """
    fig = go.Figure()

    def heights(counts: np.ndarray) -> np.ndarray:
        return counts / max(counts.sum(), 1) if density else counts

    if bins.anomaly is None:
        fig.add_trace(_step_trace(bins.edges, heights(bins.normal), f"all rows ({int(bins.normal.sum()):,})", ALL_COLOR))
        top = heights(bins.normal).max()
    else:
        fig.add_trace(_step_trace(bins.edges, heights(bins.normal), f"{names[0]} ({int(bins.normal.sum()):,})", NORMAL_COLOR))
        fig.add_trace(_step_trace(bins.edges, heights(bins.anomaly), f"{names[1]} ({int(bins.anomaly.sum()):,})", ANOMALY_COLOR))
        top = max(heights(bins.normal).max(), heights(bins.anomaly).max())
    if threshold is not None:
        # A line trace, not add_vline's annotation: annotations take log10 units on a log axis.
        top = max(float(top), 1e-9) * 1.05
        fig.add_trace(go.Scatter(x=[threshold, threshold], y=[0, top], mode="lines", name=f"threshold {threshold:.4g}",
                                 line=dict(color=THRESHOLD_COLOR, width=3), hoverinfo="name"))
    fig.update_layout(title=title, xaxis_title=x_title + (" — log scale" if bins.log_x else ""), yaxis_title="share of rows" if density else "rows", **_LAYOUT)
    if bins.log_x:
        fig.update_xaxes(type="log")
    return fig


CELL_MEANING = (("normal kept<br>as normal", "normal flagged<br>as anomaly"), ("anomaly missed<br>(kept as normal)", "anomaly<br>caught"))


def confusion_figure(conf: Confusion) -> go.Figure:
    """2×2 heatmap: counts, share of all rows, and what each cell means."""
    counts = np.array([[conf.tn, conf.fp], [conf.fn, conf.tp]])
    total = max(conf.n, 1)
    text = [[f"<b>{CELL_MEANING[i][j]}</b><br>{counts[i, j]:,} ({counts[i, j] / total:.1%})" for j in range(2)] for i in range(2)]
    fig = go.Figure(go.Heatmap(
        z=counts, x=["predicted normal", "predicted anomaly"], y=["actual normal", "actual anomaly"],
        text=text, texttemplate="%{text}", textfont=dict(size=14), colorscale=[[0, "#f7fbff"], [1, "#6baed6"]], showscale=False,
        hovertemplate="%{y}, %{x}: %{z}<extra></extra>",
    ))
    fig.update_layout(title=f"Confusion matrix at threshold {conf.threshold:.4g}", **{**_LAYOUT, "margin": dict(l=110, r=10, t=50, b=40)})
    fig.update_yaxes(autorange="reversed")
    return fig


@dataclass(frozen=True)
class CurvePoints:
    """ROC and PR curve points thinned for drawing, computed once per model."""

    fpr: np.ndarray
    tpr: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    roc_auc: float
    average_precision: float


def _thin(*arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    n = len(arrays[0])
    if n <= MAX_CURVE_POINTS:
        return arrays
    keep = np.unique(np.linspace(0, n - 1, MAX_CURVE_POINTS).astype(int))
    return tuple(a[keep] for a in arrays)


def curve_points(curve: ThresholdCurve) -> CurvePoints:
    fpr, tpr, _ = curve.roc()
    precision, recall, _ = curve.pr()
    fpr, tpr = _thin(fpr, tpr)
    precision, recall = _thin(precision, recall)
    return CurvePoints(fpr, tpr, precision, recall, curve.roc_auc, curve.average_precision)


def roc_figure(points: CurvePoints, conf: Optional[Confusion] = None) -> go.Figure:
    fig = go.Figure(go.Scatter(x=points.fpr, y=points.tpr, mode="lines", name=f"ROC (AUC {points.roc_auc:.3f})", line=dict(color=NORMAL_COLOR)))
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance", line=dict(color="#bbbbbb", dash="dash")))
    if conf is not None:
        m = conf.metrics()
        fig.add_trace(go.Scatter(x=[m["fpr"]], y=[m["recall"]], mode="markers", name="current threshold", marker=dict(size=12, color=THRESHOLD_COLOR, symbol="x")))
    fig.update_layout(title=f"ROC curve — AUC {points.roc_auc:.3f}", xaxis_title="false-alarm rate (FPR)", yaxis_title="recall (TPR)", **_LAYOUT)
    fig.update_xaxes(range=[-0.01, 1.01])
    fig.update_yaxes(range=[-0.01, 1.01])
    return fig


def pr_figure(points: CurvePoints, conf: Optional[Confusion] = None) -> go.Figure:
    fig = go.Figure(go.Scatter(x=points.recall, y=points.precision, mode="lines", name=f"PR (AP {points.average_precision:.3f})", line=dict(color=ANOMALY_COLOR), line_shape="vh"))
    if conf is not None:
        m = conf.metrics()
        fig.add_trace(go.Scatter(x=[m["recall"]], y=[m["precision"]], mode="markers", name="current threshold", marker=dict(size=12, color=THRESHOLD_COLOR, symbol="x")))
    fig.update_layout(title=f"Precision–recall — AP {points.average_precision:.3f}", xaxis_title="recall", yaxis_title="precision", **_LAYOUT)
    fig.update_xaxes(range=[-0.01, 1.01])
    fig.update_yaxes(range=[-0.01, 1.05])
    return fig


def reconstruction_figure(names: Sequence[str], original: np.ndarray, reconstructed: np.ndarray, sequence: bool = False, title: str = "Original and reconstruction") -> go.Figure:
    """One row against its reconstruction: lines for a signal, grouped bars otherwise."""
    fig = go.Figure()
    if sequence:
        x = np.arange(len(names))
        fig.add_trace(go.Scatter(x=x, y=original, mode="lines", name="original", line=dict(color=NORMAL_COLOR)))
        fig.add_trace(go.Scatter(x=x, y=reconstructed, mode="lines", name="reconstruction", line=dict(color=ANOMALY_COLOR)))
        fig.add_trace(go.Scatter(x=np.concatenate([x, x[::-1]]), y=np.concatenate([original, reconstructed[::-1]]), fill="toself", fillcolor="rgba(214,39,40,0.15)", line=dict(width=0), name="error", hoverinfo="skip"))
        fig.update_layout(xaxis_title="position in the row")
    else:
        fig.add_trace(go.Bar(x=list(names), y=original, name="original", marker_color=NORMAL_COLOR))
        fig.add_trace(go.Bar(x=list(names), y=reconstructed, name="reconstruction", marker_color=ANOMALY_COLOR))
        fig.update_layout(barmode="group")
    fig.update_layout(title=title, yaxis_title="value", **_LAYOUT)
    return fig


def cost_figure(thresholds: np.ndarray, cost: np.ndarray, current: Optional[float] = None, best: Optional[float] = None, log_x: bool = False) -> go.Figure:
    """Expected cost per 1,000 rows against the threshold, minimum and current marked."""
    keep = np.isfinite(thresholds) & ((thresholds > 0) if log_x else True)
    x, y = _thin(thresholds[keep], cost[keep])
    fig = go.Figure(go.Scatter(x=x, y=y, mode="lines", name="expected cost per 1,000 rows", line=dict(color="#9467bd"), line_shape="hv"))
    for value, name, color, symbol in ((best, "minimum cost", ANOMALY_COLOR, "star"), (current, "current threshold", THRESHOLD_COLOR, "x")):
        if value is not None:
            i = int(np.clip(np.searchsorted(thresholds, value, side="right") - 1, 0, len(thresholds) - 1))
            fig.add_trace(go.Scatter(x=[value], y=[cost[i]], mode="markers", name=f"{name} ({cost[i]:.1f})", marker=dict(size=13, color=color, symbol=symbol)))
    fig.update_layout(title="Expected cost per 1,000 rows", xaxis_title="threshold" + (" — log scale" if log_x else ""), yaxis_title="cost per 1,000 rows", **_LAYOUT)
    if log_x:
        fig.update_xaxes(type="log")
    return fig
