"""The command line: ``python -m core train | score | evaluate | serve | export-mlflow``.

Exit code 0 on success, 2 with a one-line message on bad input; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from typing import Optional, Sequence

from core.errors import DataError

EXAMPLES = {
    "train": "python -m core train sample_data/machine_sensors.csv --label status --normal normal --out model.zip",
    "score": "python -m core score model.zip new_rows.csv --out scored.csv",
    "evaluate": "python -m core evaluate model.zip labelled.csv --label status --normal normal",
    "serve": "python -m core serve model.zip --port 8000",
    "export-mlflow": "python -m core export-mlflow model.zip mlflow_model/",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m core",
        description="Anomaly Lab: train an autoencoder anomaly detector on a CSV, then score or evaluate other CSVs.",
        epilog="Examples:\n  " + "\n  ".join(EXAMPLES.values()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = sub.add_parser("train", help="train a detector on the normal rows of a CSV", epilog=f"Example:\n  {EXAMPLES['train']}", formatter_class=argparse.RawDescriptionHelpFormatter)
    train.add_argument("data", help="CSV file to train on")
    train.add_argument("--label", required=True, help="label column, or 'none' to train on every row without labels")
    train.add_argument("--normal", action="append", default=[], help="a normal class of the label column (repeat for several)")
    train.add_argument("--features", nargs="+", help="feature columns (default: every usable column but the label)")
    train.add_argument("--out", required=True, help="where to write the model bundle (.zip)")
    train.add_argument("--seed", type=int, default=0, help="random seed for the split and the network (default 0)")
    train.add_argument("--epochs", type=int, default=100, help="most epochs (early stopping may end sooner; default 100)")
    train.add_argument("--threshold-rule", default="auto", help="threshold rule, e.g. max_f1, percentile:99, mean_std:2 (default auto)")
    train.add_argument("--networks", type=int, default=1,
                       help="train this many dense autoencoders (seeds seed, seed+1000, ...) and average their scaled scores "
                            "(2 to 10; steadier, that many times the fit; default 1)")

    score = sub.add_parser("score", help="append anomaly_score and is_anomaly to a CSV", epilog=f"Example:\n  {EXAMPLES['score']}", formatter_class=argparse.RawDescriptionHelpFormatter)
    score.add_argument("model", help="model bundle (.zip) from 'train' or the app")
    score.add_argument("data", help="CSV file to score (labels not needed)")
    score.add_argument("--out", required=True, help="where to write the scored CSV")
    score.add_argument("--review-from", type=float, metavar="SCORE",
                       help="add for_review: 1 for rows scoring above SCORE, up to the model's threshold (a review band, as on the Threshold page; "
                            "default: the band saved with the model, if any)")
    score.add_argument("--engine", choices=("local", "spark"), default="local", help="local (default) or spark (mapInPandas; needs pyspark and Java)")
    score.add_argument("--master", default="local[*]", help="Spark master URL with --engine spark (default local[*])")

    evaluate = sub.add_parser("evaluate", help="print metrics of a model on a labelled CSV as JSON", epilog=f"Example:\n  {EXAMPLES['evaluate']}", formatter_class=argparse.RawDescriptionHelpFormatter)
    evaluate.add_argument("model", help="model bundle (.zip)")
    evaluate.add_argument("data", help="labelled CSV file")
    evaluate.add_argument("--label", required=True, help="label column")
    evaluate.add_argument("--normal", action="append", default=[], help="a normal class (repeat for several)")
    _add_serving_commands(sub)
    return parser


def _add_serving_commands(sub) -> None:
    serve = sub.add_parser("serve", help="serve a model bundle over HTTP (MLflow scoring protocol and more)", epilog=f"Example:\n  {EXAMPLES['serve']}", formatter_class=argparse.RawDescriptionHelpFormatter)
    serve.add_argument("model", help="model bundle (.zip)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument("--threshold", type=float, help="use this threshold instead of the bundle's")
    serve.add_argument("--max-body-mb", type=float, default=16.0, help="largest request body in MB (default 16)")
    serve.add_argument("--max-rows", type=int, default=50_000, help="most rows per request (default 50000)")

    export = sub.add_parser("export-mlflow", help="write an MLflow pyfunc model directory (needs mlflow-skinny)", epilog=f"Example:\n  {EXAMPLES['export-mlflow']}", formatter_class=argparse.RawDescriptionHelpFormatter)
    export.add_argument("model", help="model bundle (.zip)")
    export.add_argument("out", help="new directory to write the MLflow model to")


def _serve(args) -> int:
    from core.serve import Limits, serve

    serve(args.model, host=args.host, port=args.port, threshold=args.threshold,
          limits=Limits(max_body_bytes=int(args.max_body_mb * 1024 * 1024), max_rows=args.max_rows))
    return 0


def _export_mlflow(args) -> int:
    from core.mlflow_export import export_mlflow

    path = export_mlflow(args.model, args.out)
    print(f"wrote an MLflow model to {path}; load it with mlflow.pyfunc.load_model({str(path)!r})", file=sys.stderr)
    return 0


def _score_spark(args) -> int:
    from core.spark import score_csv_spark

    if getattr(args, "review_from", None) is not None:
        raise DataError("--review-from is not offered with --engine spark: Spark marks the review band saved with the model, if any. Score with the local engine for another band.")
    t0 = time.perf_counter()
    summary = score_csv_spark(args.model, args.data, args.out, master=args.master)
    elapsed = time.perf_counter() - t0
    print(f"{summary['flagged']:,} of {summary['rows']:,} rows flagged ({summary['flagged'] / max(summary['rows'], 1):.2%}) "
          f"on Spark in {elapsed:.1f}s ({summary['rows'] / max(elapsed, 1e-9):,.0f} rows/s); wrote {args.out}", file=sys.stderr)
    return 0


def _progress(report) -> None:
    print(f"epoch {report.epoch}/{report.epochs}  loss {report.loss:.5g}  val_loss {report.val_loss:.5g}  {report.elapsed:.1f}s", file=sys.stderr, flush=True)


def _train(args) -> int:
    from core import pipeline
    from core.bundle import save_bundle

    label = None if args.label.lower() == "none" else args.label
    params = {"epochs": args.epochs, "threshold_rule": args.threshold_rule}
    several = args.networks != 1
    result = pipeline.train_from_csv(
        args.data, label=label, normal=args.normal, features=args.features, seed=args.seed,
        params={**params, "n_networks": args.networks} if several else params, hooks=[_progress], key="ae:ensemble" if several else "ae:dense",
    )
    save_bundle(result.detector, args.out, result.context)
    det = result.detector
    trained = f"{len(det.members_)} networks" if several else f"{det.epochs_run_} epochs"
    print(f"trained {trained} in {det.fit_seconds_:.1f}s; threshold {det.threshold_:.6g} ({det.threshold_reason_}); saved {args.out}", file=sys.stderr)
    return 0


def _score(args) -> int:
    from core.bundle import load_bundle
    from core.scoring import score_csv

    if getattr(args, "engine", "local") == "spark":
        return _score_spark(args)
    detector, _ = load_bundle(args.model)
    t0 = time.perf_counter()

    def progress(done: int) -> None:
        print(f"\rscored {done:,} rows ({done / max(time.perf_counter() - t0, 1e-9):,.0f} rows/s)", end="", file=sys.stderr, flush=True)

    review_from = detector.fitted_threshold.review_from if args.review_from is None else args.review_from  # the saved band by default
    summary = score_csv(detector, args.data, args.out, progress=progress, review_from=review_from)
    review = f", {summary['for_review']:,} for review (scores above {review_from:.6g})" if "for_review" in summary else ""
    print(f"\n{summary['flagged']:,} of {summary['rows']:,} rows flagged ({summary['flagged'] / max(summary['rows'], 1):.2%}){review}; wrote {args.out}", file=sys.stderr)
    for name, count in summary["not_numbers"].items():
        print(f"warning: {count:,} cell(s) of {name!r} are not numbers; they were scored as missing (the training median). "
              "Correct them in the file if those rows matter.", file=sys.stderr)
    return 0


def _evaluate(args) -> int:
    from core.bundle import load_bundle
    from core.data import read_table
    from core.metrics import ThresholdCurve
    from core.target import make_target

    detector, _ = load_bundle(args.model)
    table = read_table(args.data)
    target = make_target(table.frame, args.label, args.normal)
    scores = detector.decision_function(table.frame)
    curve = ThresholdCurve(scores, target.y)
    result = {"rows": curve.n, "anomalies": curve.n_pos, "roc_auc": curve.roc_auc, "average_precision": curve.average_precision,
              "threshold_rule": detector.threshold_rule_, **curve.at(detector.threshold_).as_dict()}
    print(json.dumps(result, indent=1))
    return 0


def one_line(exc: BaseException) -> str:
    """The message on one line (cell text or names from a file may hold line breaks)."""
    return " ".join(str(exc).split())


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    try:
        return {"train": _train, "score": _score, "evaluate": _evaluate, "serve": _serve, "export-mlflow": _export_mlflow}[args.command](args)
    except DataError as exc:
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
