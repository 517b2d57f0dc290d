"""Plotly figures. Functions take plain arrays or core objects and return figures.

Anything that would cost time on every slider move (histogram bins, curve
points) is computed once by :func:`histogram_bins` / :func:`curve_points` and
passed in, so redrawing only moves the threshold line and the marker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import html

import numpy as np
import plotly.graph_objects as go

from core.metrics import Confusion, ThresholdCurve

NORMAL_COLOR = "#1f77b4"
ANOMALY_COLOR = "#d62728"
ALL_COLOR = "#7f7f7f"
THRESHOLD_COLOR = "#2ca02c"
MAX_CURVE_POINTS = 1500


def safe_label(value: object, limit: int = 80) -> str:
    """Text from a file, made inert for Plotly (which renders <a>, <b>, <br> in titles and ticks)."""
    text = str(value)
    return html.escape(text if len(text) <= limit else text[: limit - 1] + "…")


#: A log axis whose in-between ticks read as numbers ("0.2", "0.05"), not Plotly's bare digits ("2", "5").
LOG_AXIS = dict(type="log", minorloglabels="complete")


#: Tick mantissas of a log axis by the decades it spans (fewer, the more decades): under half a decade Plotly's own.
LOG_TICKS = ((3.0, (1,)), (1.5, (1, 2, 5)), (0.5, (1, 1.5, 2, 3, 5, 7)))


def log_axis(values) -> dict:
    """A log axis whose tick labels stay apart on a narrow chart and read alike: each tick an explicit value ("20", not
    Plotly's raised small "2" beside "10", and never its every digit, which ran together: "0.80.91"), more per decade
    the fewer decades the scores span."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values) & (values > 0)]
    plotlys_own = dict(LOG_AXIS, tickmode="auto", tickvals=None, ticktext=None)  # None clears the ticks of a figure changed in place
    if not len(values):
        return plotlys_own
    low, high = float(values.min()), float(values.max())
    decades = np.log10(high / low)
    mantissas = next((m for span, m in LOG_TICKS if decades >= span), None)
    if mantissas is None:
        return plotlys_own
    ticks = [m * 10.0 ** k for k in range(int(np.floor(np.log10(low))), int(np.ceil(np.log10(high))) + 1) for m in mantissas]
    ticks = [t for t in ticks if low <= t <= high]
    return dict(LOG_AXIS, tickmode="array", tickvals=ticks, ticktext=[f"{t:g}" for t in ticks])


_LAYOUT = dict(template="plotly_white", margin=dict(l=60, r=20, t=50, b=90), legend=dict(orientation="h", y=-0.2, yanchor="top", x=0))


#: The epochs a loss chart spans when it has no point and the most epochs is not known.
EMPTY_EPOCHS = 10


def epoch_axis(n_points: int, epochs: Optional[int]) -> dict:
    """The x axis of a loss chart: epochs 1 to the larger of the points drawn and ``epochs`` (the most the
    training runs, so a live chart shows how far along it is), half an epoch of margin on each side so no
    marker is cut and none falls below epoch 1, and a tick on every epoch while there are ten or fewer."""
    last = max(n_points, int(epochs or 0)) or EMPTY_EPOCHS
    return dict(range=[0.5, last + 0.5], dtick=1 if last <= 10 else None)


def _label_side(best_epoch: int, n_points: int, epochs: Optional[int]) -> str:
    """The best-epoch label reads towards the middle of the chart, so one at the last epoch is not cut off at the edge."""
    return "right" if best_epoch > epoch_axis(n_points, epochs)["range"][1] / 2 else "left"


def loss_figure(history: dict[str, Sequence[float]], best_epoch: Optional[int] = None, log_y: bool = True,
                epochs: Optional[int] = None, title: Optional[str] = None) -> go.Figure:
    """Training and validation loss per epoch, with the best epoch marked; the x axis spans ``epochs`` (the most
    the training runs) when given, else the points. ``title``: one of an ensemble's networks names itself."""
    fig = go.Figure()
    points = np.arange(1, len(history.get("loss", [])) + 1)
    fig.add_trace(go.Scatter(x=points, y=history.get("loss", []), mode="lines+markers", name="training loss", line=dict(color=NORMAL_COLOR)))
    if history.get("val_loss"):
        fig.add_trace(go.Scatter(x=points, y=history["val_loss"], mode="lines+markers", name="validation loss", line=dict(color="#ff7f0e")))
    if best_epoch:
        fig.add_vline(x=best_epoch, line=dict(color=THRESHOLD_COLOR, dash="dot"), annotation_text=f"best epoch {best_epoch}",
                      annotation_xanchor=_label_side(best_epoch, len(points), epochs))
    fig.update_layout(title=title or "Loss per epoch (normal rows)", xaxis_title="epoch", yaxis_title="loss", **_LAYOUT)
    if log_y:
        fig.update_yaxes(**_loss_axis(history))
    fig.update_xaxes(**epoch_axis(len(points), epochs))
    return fig


def _loss_axis(history: dict[str, Sequence[float]]) -> dict:
    """The loss axis: log, its ticks chosen as a score axis's are (labels alike, near the losses drawn), none before
    the first epoch (no made-up decades)."""
    values = [*history.get("loss", []), *(history.get("val_loss") or [])]
    return dict(log_axis(values), showticklabels=len(history.get("loss", [])) > 0)


def update_loss_figure(fig: go.Figure, history: dict[str, Sequence[float]], best_epoch: Optional[int] = None,
                       epochs: Optional[int] = None, title: Optional[str] = None) -> go.Figure:
    """What :func:`loss_figure` would draw, made by changing ``fig`` (one of its figures) in place.

    A live chart redraws every half second; a new Plotly figure validates its whole template
    each time (~45 ms), moving the points of an existing one takes ~10 ms. A figure that lacks
    a trace or the best-epoch line it now needs is built anew. For the default log-scale figure.
    """
    val = history.get("val_loss")
    has_val = len(fig.data) > 1
    if bool(val) != has_val or bool(best_epoch) != bool(fig.layout.shapes):
        return loss_figure(history, best_epoch, epochs=epochs, title=title)
    points = np.arange(1, len(history.get("loss", [])) + 1)
    with fig.batch_update():
        fig.data[0].x, fig.data[0].y = points, list(history.get("loss", []))
        fig.update_yaxes(**_loss_axis(history))
        fig.update_xaxes(**epoch_axis(len(points), epochs))
        if val:
            fig.data[1].x, fig.data[1].y = points, list(val)
        if best_epoch:
            fig.layout.shapes[0].x0 = fig.layout.shapes[0].x1 = best_epoch
            fig.layout.annotations[0].x = best_epoch
            fig.layout.annotations[0].text = f"best epoch {best_epoch}"
            fig.layout.annotations[0].xanchor = _label_side(best_epoch, len(points), epochs)
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
    # One score (a one-row file), or all alike: bins around it wide enough to be seen, not a sliver no bar can show.
    if log_x:
        positive = scores[scores > 0]
        lo = float(positive.min()) if len(positive) else 1e-12
        if hi <= lo * 1.001:
            lo, hi = lo / 1.25, lo * 1.25
        edges = np.geomspace(lo, hi, n_bins + 1)
        scores = np.clip(scores, lo, None)
    else:
        if hi - lo <= 1e-9 * max(1.0, abs(lo)):
            half = 0.1 * max(abs(lo), 1.0)
            lo, hi = lo - half, hi + half
        edges = np.linspace(lo, hi, n_bins + 1)
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
    review_from: Optional[float] = None,
) -> go.Figure:
    """Overlaid score histograms on shared bins, with the threshold as a vertical line (and, with ``review_from``, the
    review band's start as a dotted one).

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
        fig.add_trace(go.Scatter(x=[threshold, threshold], y=[0, top], mode="lines", name=f"threshold {threshold:.6g}",
                                 line=dict(color=THRESHOLD_COLOR, width=3), hoverinfo="name"))
        if review_from is not None:
            fig.add_trace(go.Scatter(x=[review_from, review_from], y=[0, top], mode="lines", name=f"review from {review_from:.6g}",
                                     line=dict(color=THRESHOLD_COLOR, width=2, dash="dot"), hoverinfo="name"))
    fig.update_layout(title=title, xaxis_title=x_title + (" — log scale" if bins.log_x else ""), yaxis_title="share of rows" if density else "rows", **_LAYOUT)
    if bins.log_x:
        fig.update_xaxes(**log_axis(bins.edges))
    return fig


CELL_MEANING = (("normal kept<br>as normal", "normal flagged<br>as anomaly"), ("anomaly missed<br>(kept as normal)", "anomaly<br>caught"))


def confusion_figure(conf: Confusion) -> go.Figure:
    """2×2 heatmap: counts, each as a share of its actual class (the one definition used everywhere)."""
    counts = np.array([[conf.tn, conf.fp], [conf.fn, conf.tp]])
    share = conf.class_shares()
    shares = [[share["tn"], share["fp"]], [share["fn"], share["tp"]]]
    text = [[f"<b>{CELL_MEANING[i][j]}</b><br>{counts[i, j]:,} ({shares[i][j]:.1%} of actual {('normal', 'anomaly')[i]})" for j in range(2)] for i in range(2)]
    fig = go.Figure(go.Heatmap(
        z=counts, x=["predicted normal", "predicted anomaly"], y=["actual normal", "actual anomaly"],
        text=text, texttemplate="%{text}", textfont=dict(size=14), colorscale=[[0, "#f7fbff"], [1, "#6baed6"]], showscale=False,
        hovertemplate="%{y}, %{x}: %{z}<extra></extra>",
    ))
    fig.update_layout(title=f"Confusion matrix at threshold {conf.threshold:.6g}", **{**_LAYOUT, "margin": dict(l=110, r=10, t=50, b=40)})
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


def move_threshold_marker(fig: go.Figure, conf: Confusion, kind: str) -> go.Figure:
    """Move the "current threshold" marker of a figure from :func:`roc_figure` (``kind`` "roc") or
    :func:`pr_figure` ("pr") in place: the curve is drawn once per model, a move changes one point."""
    m = conf.metrics()
    x, y = {"roc": (m["fpr"], m["recall"]), "pr": (m["recall"], m["precision"])}[kind]
    fig.update_traces(x=[x], y=[y], selector=dict(name="current threshold"))
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


def reconstruction_figure(names: Sequence[str], original: np.ndarray, reconstructed: np.ndarray, sequence: bool = False, title: str = "Original and reconstruction", max_panels: int = 24) -> go.Figure:
    """One row against its reconstruction: lines for a signal; for a table, one small
    panel per feature, each on its own axis in the file's units (rpm in thousands and
    a pressure in bars cannot share one axis)."""
    original, reconstructed = np.asarray(original, float), np.asarray(reconstructed, float)
    if sequence:
        fig = go.Figure()
        x = np.arange(len(names))
        fig.add_trace(go.Scatter(x=x, y=original, mode="lines", name="original", line=dict(color=NORMAL_COLOR)))
        fig.add_trace(go.Scatter(x=x, y=reconstructed, mode="lines", name="reconstruction", line=dict(color=ANOMALY_COLOR)))
        fig.add_trace(go.Scatter(x=np.concatenate([x, x[::-1]]), y=np.concatenate([original, reconstructed[::-1]]), fill="toself",
                                 fillcolor="rgba(214,39,40,0.15)", line=dict(width=0), name="error", hoverinfo="skip"))
        fig.update_layout(title=title, xaxis_title="position in the row", yaxis_title="value", **_LAYOUT)
        return fig
    from plotly.subplots import make_subplots

    names = [safe_label(n) for n in list(names)[:max_panels]]
    cols = min(4, max(len(names), 1))
    rows = int(np.ceil(len(names) / cols))
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=names, vertical_spacing=min(0.5 / max(rows, 1), 0.12), horizontal_spacing=0.08)
    for i, name in enumerate(names):
        r, c = i // cols + 1, i % cols + 1
        for value, label, color in ((original[i], "original", NORMAL_COLOR), (reconstructed[i], "reconstruction", ANOMALY_COLOR)):
            fig.add_trace(go.Bar(x=[label], y=[value], marker_color=color, name=label, showlegend=i == 0, legendgroup=label,
                                 hovertemplate=f"{name} {label}: %{{y:.4g}}<extra></extra>"), row=r, col=c)
    fig.update_xaxes(showticklabels=False)
    fig.update_annotations(font_size=11)
    fig.update_layout(title=title, height=max(320, 150 * rows + 120), **{**_LAYOUT, "margin": dict(l=50, r=20, t=70, b=60), "legend": dict(orientation="h", y=-0.05, yanchor="top", x=0)})
    return fig


def cost_points(thresholds: np.ndarray, cost: np.ndarray, log_x: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The cost curve thinned for drawing (a pass over every cut point: keep it per curve)."""
    keep = np.isfinite(thresholds) & ((thresholds > 0) if log_x else True)
    return _thin(thresholds[keep], cost[keep])


def cost_figure(thresholds: np.ndarray, cost: np.ndarray, current: Optional[float] = None, best: Optional[float] = None, log_x: bool = False) -> go.Figure:
    """Expected cost per 1,000 rows against the threshold, minimum and current marked (the current one last)."""
    x, y = cost_points(thresholds, cost, log_x)
    fig = go.Figure(go.Scatter(x=x, y=y, mode="lines", name="expected cost per 1,000 rows", line=dict(color="#9467bd"), line_shape="hv"))
    for value, name, color, symbol in ((best, "minimum cost", ANOMALY_COLOR, "star"), (current, "current threshold", THRESHOLD_COLOR, "x")):
        if value is not None:
            i = int(np.clip(np.searchsorted(thresholds, value, side="right") - 1, 0, len(thresholds) - 1))
            fig.add_trace(go.Scatter(x=[value], y=[cost[i]], mode="markers", name=f"{name} ({cost[i]:.1f})", marker=dict(size=13, color=color, symbol=symbol)))
    fig.update_layout(title="Expected cost per 1,000 rows", xaxis_title="threshold" + (" — log scale" if log_x else ""), yaxis_title="cost per 1,000 rows", **_LAYOUT)
    if log_x:
        fig.update_xaxes(**log_axis(x))
    return fig


def move_cost_marker(fig: go.Figure, thresholds: np.ndarray, cost: np.ndarray, current: float, current_cost: Optional[float] = None) -> go.Figure:
    """Move the current-threshold marker of a :func:`cost_figure` (drawn with a current value) in place.

    ``current_cost``: the exact cost at ``current`` (:meth:`core.evaluation.CostView.at`); the curve
    steps between scores, so a threshold on a score reads one cut off it."""
    i = int(np.clip(np.searchsorted(thresholds, current, side="right") - 1, 0, len(thresholds) - 1))
    y = float(cost[i]) if current_cost is None else current_cost
    fig.data[-1].update(x=[current], y=[y], name=f"current threshold ({y:.1f})")
    return fig


def contributions_figure(contributions, top: int = 20) -> go.Figure:
    """Each feature's share of one row's reconstruction error, largest at the top: the bars
    are the shares themselves, so the axis and the labels say the same thing."""
    total = max(float(contributions.sum()), 1e-300)
    shares = contributions / total
    shown = shares.iloc[:top][::-1]
    fig = go.Figure(go.Bar(x=shown.values, y=[safe_label(i) for i in shown.index], orientation="h", marker_color=ANOMALY_COLOR,
                           text=[f"{v:.0%}" for v in shown.values], textposition="auto"))
    fig.update_layout(title="Which features the error comes from" + (f" (top {top})" if len(contributions) > top else ""),
                      xaxis_title="share of the row's reconstruction error", **_LAYOUT)
    fig.update_xaxes(tickformat=".0%", range=[0, max(float(shown.max()), 1e-9) * 1.05])
    return fig


def feature_importance_figure(importance, top: int = 20, title: str = "What drives detection: mean reconstruction error per feature",
                              value: str = "mean error") -> go.Figure:
    """Mean per-feature error (or another per-feature value) of normal and anomalous rows, top features first."""
    shown = importance.iloc[:top]
    fig = go.Figure()
    colors = {"normal rows": NORMAL_COLOR, "anomalous rows": ANOMALY_COLOR, "all rows": ALL_COLOR}
    for column in [c for c in shown.columns if c in colors]:
        fig.add_trace(go.Bar(x=[safe_label(i) for i in shown.index], y=shown[column], name=column, marker_color=colors[column]))
    fig.update_layout(title=title, barmode="group", yaxis_title=value, **_LAYOUT)
    return fig


def latent_figure(points, threshold: float, highlight_row: Optional[int] = None) -> go.Figure:
    """Rows in the code space, coloured by label, marked by prediction at ``threshold``."""
    frame = points.frame.assign(prediction=np.where(points.frame["score"] > threshold, "flagged", "passed"))
    fig = go.Figure()
    colors = {"normal": NORMAL_COLOR, "anomaly": ANOMALY_COLOR, "unlabelled": ALL_COLOR}
    symbols = {"passed": "circle", "flagged": "x"}
    for (label, prediction), group in frame.groupby(["label", "prediction"]):
        fig.add_trace(go.Scattergl(x=group["x"], y=group["y"], mode="markers", name=f"{label}, {prediction}",
                                   marker=dict(color=colors.get(label, ALL_COLOR), symbol=symbols.get(prediction, "circle"), size=6, opacity=0.6),
                                   customdata=group["row"], hovertemplate="row %{customdata}<extra>" + f"{label}, {prediction}" + "</extra>"))
    if highlight_row is not None and (frame["row"] == highlight_row).any():
        r = frame[frame["row"] == highlight_row].iloc[0]
        fig.add_trace(go.Scatter(x=[r["x"]], y=[r["y"]], mode="markers", name=f"row {highlight_row}", marker=dict(size=16, color="black", symbol="circle-open", line=dict(width=3))))
    fig.update_layout(title="The latent space (the network's code of each row)", xaxis_title=points.axes[0], yaxis_title=points.axes[1], **_LAYOUT)
    return fig


def mark_score(fig: go.Figure, score: float, label: str) -> go.Figure:
    """Add one row's score to a histogram figure as a dashed line."""
    top = max((max(t.y) for t in fig.data if t.y is not None and len(t.y)), default=1)
    fig.add_trace(go.Scatter(x=[score, score], y=[0, top], mode="lines", name=label, line=dict(color="black", width=2, dash="dash")))
    return fig


#: A compare chart's plot area and each legend row below it, in pixels.
PLOT_PX, LEGEND_ROW_PX = 330, 21
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22")


def compare_figure(points: dict[str, CurvePoints], kind: str = "roc") -> go.Figure:
    """Overlaid ROC (``kind="roc"``) or precision–recall curves of several detectors."""
    fig = go.Figure()
    for i, (name, p) in enumerate(points.items()):
        color = PALETTE[i % len(PALETTE)]
        if kind == "roc":
            fig.add_trace(go.Scatter(x=p.fpr, y=p.tpr, mode="lines", name=f"{name} ({p.roc_auc:.3f})", line=dict(color=color)))
        else:
            fig.add_trace(go.Scatter(x=p.recall, y=p.precision, mode="lines", name=f"{name} ({p.average_precision:.3f})", line=dict(color=color), line_shape="vh"))
    if kind == "roc":
        fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance", line=dict(color="#bbbbbb", dash="dash")))
    # One legend row per detector at most, below the axis title: the margin grows with the entries (at -0.2 of the
    # plot, a long legend was drawn over the axis title).
    below = 60 + LEGEND_ROW_PX * len(fig.data)
    fig.update_layout(**{**_LAYOUT, "margin": dict(l=60, r=20, t=50, b=below), "legend": dict(orientation="h", yref="container", y=0, yanchor="bottom", x=0)},
                      height=PLOT_PX + below)
    if kind == "roc":
        fig.update_layout(title="ROC curves on test rows (AUC)", xaxis_title="false-alarm rate", yaxis_title="recall")
    else:
        fig.update_layout(title="Precision–recall on test rows (AP)", xaxis_title="recall", yaxis_title="precision")
    return fig
