"""A self-contained HTML report (and a JSON of the same numbers) that defends a threshold.

The HTML opens offline: Plotly's JavaScript is embedded once, every figure is
inline, and nothing is fetched from anywhere.
"""

from __future__ import annotations

import html
import json
import platform
from datetime import datetime, timezone
from typing import Any

import plotly
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from core.evaluation import PART_NAMES, Evaluation, cost_view
from core.metrics import METRIC_NAMES
from core.thresholds import rule_words
from core.plots import confusion_figure, cost_figure, histogram_figure, loss_figure, pr_figure, roc_figure


def _versions() -> dict[str, str]:
    import keras
    import numpy
    import pandas
    import sklearn
    import tensorflow

    return {"python": platform.python_version(), "keras": keras.__version__, "tensorflow": tensorflow.__version__, "numpy": numpy.__version__,
            "pandas": pandas.__version__, "scikit-learn": sklearn.__version__, "plotly": plotly.__version__}


#: Parameters that only some architectures read; every other parameter applies to all.
ONLY_FOR = {"sparsity": {"sparse"}, "noise_std": {"denoising"}, "beta": {"variational"},
            "dropout": {"dense", "sparse", "denoising", "variational"}, "activation": {"dense", "sparse", "denoising", "variational", "conv1d"}}


def applicable_params(detector) -> dict[str, Any]:
    """The detector's parameters that its architecture reads (no β for a dense model)."""
    params = detector.get_params() if hasattr(detector, "get_params") else {}
    architecture = params.get("architecture")
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in params.items() if architecture is None or architecture in ONLY_FOR.get(k, {architecture})}


def _stopped(detector) -> dict[str, Any]:
    """How many networks were asked for and why fewer were kept, when a Stop ended an ensemble's training early."""
    from core.ensemble import stopped_early

    note = stopped_early(detector)
    return {"networks_asked": detector.networks_asked_, "stopped_early": note} if note else {}


def _model_section(detector) -> dict[str, Any]:
    model = applicable_params(detector)
    if not hasattr(detector, "history_"):  # a baseline or an ensemble: its parameters, fit time and (an ensemble) its score
        described = {"anomaly_score": detector.score_description()} if hasattr(detector, "score_description") else {}
        networks = _stopped(detector) | {"networks": [{"random_state": m.random_state, "epochs_run": getattr(m, "epochs_run_", None), "best_epoch": getattr(m, "best_epoch_", None),
                                  "score_parts_used": list(m.score_parts_), "scale": float(scale)}
                                 for m, scale in zip(detector.members_, detector.scales_)]} if hasattr(detector, "members_") else {}
        return model | {"fit_seconds": getattr(detector, "fit_seconds_", None)} | described | networks
    hidden, code = detector.resolved_architecture(len(detector.preprocessor_.output_names))
    return model | {"hidden_sizes_used": list(hidden), "code_size_used": code, "parameters": detector.n_parameters_, "epochs_run": detector.epochs_run_,
                    "best_epoch": detector.best_epoch_, "best_val_loss": detector.best_val_loss_, "fit_seconds": detector.fit_seconds_,
                    "score_parts_used": list(detector.score_parts_), "anomaly_score": detector.score_description()} | _stopped(detector)


def report_data(detector, prepared, evaluation: Evaluation) -> dict[str, Any]:
    """The report's numbers as plain JSON-able values (the JSON download)."""
    ev = evaluation
    table = prepared.table
    data: dict[str, Any] = {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "dataset": {"name": table.name, "rows": int(table.shape[0]), "columns": int(table.shape[1]), "sha256": table.sha256},
        "label": prepared.target.label,
        "normal_classes": list(prepared.target.normal_classes),
        "features_used": list(getattr(detector.preprocessor_, "used_features", prepared.features)),
        "preprocessing_findings": list(table.findings) + list(detector.preprocessor_.findings),
        "model": _model_section(detector),
        "history": _histories(detector),
        "threshold": {"value": ev.threshold.value, "rule": ev.threshold.rule, "reason": ev.threshold.reason,
                      **({"set_on": PART_NAMES[ev.threshold.set_on]} if ev.threshold.set_on in PART_NAMES else {})},
        "evaluated_on": PART_NAMES.get(ev.part, ev.part),
        "versions": _versions(),
    }
    if ev.roc_auc is not None:  # labelled rows: how the flags match the labels
        data.update({"confusion": {"tn": ev.confusion.tn, "fp": ev.confusion.fp, "fn": ev.confusion.fn, "tp": ev.confusion.tp},
                     "metrics": {k: v for k, v in ev.confusion.metrics().items() if k in METRIC_NAMES},
                     "roc_auc": ev.roc_auc, "average_precision": ev.average_precision})
    else:  # no label: nobody knows which rows are anomalies, so no confusion matrix, only what is flagged
        flagged = ev.confusion.fp + ev.confusion.tp
        rows = flagged + ev.confusion.tn + ev.confusion.fn
        data["flagged"] = {"rows": int(flagged), "of": int(rows), "share": flagged / rows if rows else 0.0}
    if ev.intervals:
        data["intervals_95"] = {k: {"value": i.value, "low": i.low, "high": i.high} for k, i in ev.intervals.items()}
    if ev.honest:
        data["validation_vs_test"] = {"validation": ev.honest.validation, "test": ev.honest.test, "note": ev.honest.sentence}
    if ev.costs:
        data["costs"] = {"false_alarm": ev.costs.false_alarm, "miss": ev.costs.miss, "prevalence": ev.costs.prevalence,
                         "cost_per_1000_at_threshold": ev.cost_at_threshold, "rows": PART_NAMES.get(ev.part, ev.part)}
    if ev.band:
        b = ev.band
        data["review_band"] = {"low": b.low, "high": b.high, "normal": list(b.normal), "anomaly": list(b.anomaly),
                               "review_per_1000": b.review_per_1000, "recall_without_band": b.recall_without_band, "recall_with_band": b.recall_with_band,
                               "rows": PART_NAMES.get(ev.part, ev.part)}
    return data


def report_json(detector, prepared, evaluation: Evaluation) -> str:
    return json.dumps(report_data(detector, prepared, evaluation), indent=1)


def _figure(fig: go.Figure) -> str:
    fig.update_layout(height=420)
    return fig.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False, "responsive": True})


def _titled(fig: go.Figure, rows: str) -> go.Figure:
    """Say in the figure's title which rows it shows."""
    fig.update_layout(title=f"{fig.layout.title.text} — {rows}")
    return fig


def _trained_networks(detector) -> list:
    """The networks whose training history the report shows: the autoencoder, an ensemble's networks, or none."""
    networks = getattr(detector, "members_", [detector])
    return networks if all(hasattr(n, "history_") for n in networks) else []


def _histories(detector):
    """The loss per epoch: one history for an autoencoder, one a network for an ensemble (a list), None for a baseline."""
    networks = _trained_networks(detector)
    if not networks:
        return None
    return networks[0].history_ if networks == [detector] else [n.history_ for n in networks]


def _shown(value) -> str:
    """A value as a reader wants it: floats to 6 significant digits (the JSON keeps every digit)."""
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):  # an ensemble's networks, one line each
        return "; ".join(f"{i + 1}: " + ", ".join(f"{k} {_shown(v)}" for k, v in item.items()) for i, item in enumerate(value))
    if isinstance(value, dict):  # an ensemble's settings of every network
        return ", ".join(f"{k} {_shown(list(v) if isinstance(v, tuple) else v)}" for k, v in value.items())
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _rows(pairs) -> str:
    return "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_shown(v))}</td></tr>" for k, v in pairs)


def report_html(detector, prepared, parts, evaluation: Evaluation) -> str:
    """One HTML file with everything a reader needs to check how the threshold was chosen."""
    d = report_data(detector, prepared, evaluation)
    ev = evaluation
    shown = parts[ev.part]
    e = html.escape
    metric_rows = []
    for name in ("precision", "recall", "f1", "specificity", "fpr", "accuracy", "balanced_accuracy", "mcc") if "metrics" in d else ():
        value = d["metrics"][name]
        ci = d.get("intervals_95", {}).get(name)
        metric_rows.append((name, f"{value:.3f}" + (f" (95% CI {ci['low']:.3f}–{ci['high']:.3f})" if ci else "")))
    rows_name = PART_NAMES[ev.part]
    networks = _trained_networks(detector)
    figures = [_figure(loss_figure(n.history_, n.best_epoch_, title=f"Network {i + 1} of {len(networks)}: loss per epoch (normal rows)" if len(networks) > 1 else None))
               for i, n in enumerate(networks)]
    figures.append(_figure(histogram_figure(shown.bins_log, ev.threshold.value, title=f"Anomaly scores of the {rows_name}")))
    if shown.y is not None:
        figures += [_figure(_titled(confusion_figure(ev.confusion), rows_name)), _figure(_titled(roc_figure(shown.points, ev.confusion), rows_name)),
                    _figure(_titled(pr_figure(shown.points, ev.confusion), rows_name))]
    if ev.costs is not None:
        view = cost_view(parts, ev.costs, ev.threshold.value, ev.part)
        figures.append(_figure(_titled(cost_figure(view.thresholds, view.cost, ev.threshold.value, view.best.value, log_x=True), rows_name)))
    sections = [
        "<h2>Data</h2><table>" + _rows([("dataset", d["dataset"]["name"]), ("rows × columns", f"{d['dataset']['rows']:,} × {d['dataset']['columns']}"),
                                         ("SHA-256", d["dataset"]["sha256"]), ("label column", d["label"] or "none (unsupervised)"),
                                         ("normal classes", ", ".join(map(str, d["normal_classes"])) or "–"), ("features used", ", ".join(map(str, d["features_used"])))]) + "</table>",
        "<h3>Preprocessing findings</h3><ul>" + "".join(f"<li>{e(f)}</li>" for f in d["preprocessing_findings"]) + ("</ul>" if d["preprocessing_findings"] else "<li>none</li></ul>"),
        "<h2>Model</h2><table>" + _rows((k, v) for k, v in d["model"].items()) + "</table>",
        "<h2>Threshold</h2>" + f"<p class='rule'>Flag a row when its anomaly score exceeds <b>{ev.threshold.value:.6g}</b>.</p>"
        + "<table>" + _rows([("rule", f"{rule_words(ev.threshold.rule)} ({ev.threshold.rule})"), ("reason", ev.threshold.reason), ("evaluated on", d["evaluated_on"])]) + "</table>",
    ]
    if "flagged" in d:
        f = d["flagged"]
        sections.append(f"<h2>Rows flagged on the {e(d['evaluated_on'])}</h2><p>{f['rows']:,} of {f['of']:,} ({f['share']:.2%}). "
                        "There is no confusion matrix: without a label column nobody knows which rows really are anomalies.</p>")
    if shown.y is not None:
        c = d["confusion"]
        sections.append(
            f"<h2>Results on the {e(d['evaluated_on'])}</h2>"
            f"<table class='cm'><tr><th></th><th>predicted normal</th><th>predicted anomaly</th></tr>"
            f"<tr><th>actual normal</th><td>{c['tn']:,}</td><td>{c['fp']:,}</td></tr>"
            f"<tr><th>actual anomaly</th><td>{c['fn']:,}</td><td>{c['tp']:,}</td></tr></table>"
            "<table>" + _rows(metric_rows + [("ROC-AUC", f"{d['roc_auc']:.3f}"), ("average precision", f"{d['average_precision']:.3f}")]) + "</table>"
        )
    if ev.honest:
        rows = "".join(f"<tr><th>{k}</th><td>{ev.honest.validation[k]:.3f}</td><td>{ev.honest.test[k]:.3f}</td></tr>" for k in ("precision", "recall", "f1", "fpr"))
        sections.append(f"<h3>Validation against test (the same threshold on both)</h3><p>{e(ev.honest.sentence)}</p><table><tr><th></th><th>validation</th><th>test</th></tr>{rows}</table>")
    if ev.costs:
        sections.append(f"<h3>Costs (on the {e(rows_name)})</h3><p>{e(ev.costs.describe())}: expected cost at this threshold {ev.cost_at_threshold:.1f} per 1,000 {e(rows_name)}.</p>")
    if ev.band:
        b = ev.band
        sections.append(f"<h3>Review band (on the {e(rows_name)})</h3><p>Rows scoring between {b.low:.6g} and {b.high:.6g} go to a person: {b.review_per_1000:.1f} per 1,000 {e(rows_name)}. "
                        f"Recall {b.recall_without_band:.3f} without the band, {b.recall_with_band:.3f} if reviewers catch every anomaly sent to them.</p>")
    versions = ", ".join(f"{k} {v}" for k, v in d["versions"].items())
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Anomaly Lab report — {e(d['dataset']['name'])}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; line-height: 1.45; padding: 0 1em; }}
table {{ border-collapse: collapse; margin: .6em 0; }} th, td {{ border: 1px solid #ddd; padding: .3em .7em; text-align: left; }}
th {{ background: #f6f6f6; }} .rule {{ font-size: 1.2em; }} .cm td {{ text-align: right; min-width: 8em; }}
.figs {{ display: grid; grid-template-columns: 1fr 1fr; gap: 1em; }}
</style>
<script type="text/javascript">{get_plotlyjs()}</script>
</head><body>
<h1>Anomaly Lab report</h1>
<p>Created {e(d['created'])} · {e(versions)}</p>
{''.join(sections)}
<h2>Charts</h2><div class="figs">{''.join(figures)}</div>
</body></html>"""
