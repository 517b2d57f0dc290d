"""The command line: ``python -m core train | score | evaluate``.

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

    score = sub.add_parser("score", help="append anomaly_score and is_anomaly to a CSV", epilog=f"Example:\n  {EXAMPLES['score']}", formatter_class=argparse.RawDescriptionHelpFormatter)
    score.add_argument("model", help="model bundle (.zip) from 'train' or the app")
    score.add_argument("data", help="CSV file to score (labels not needed)")
    score.add_argument("--out", required=True, help="where to write the scored CSV")

    evaluate = sub.add_parser("evaluate", help="print metrics of a model on a labelled CSV as JSON", epilog=f"Example:\n  {EXAMPLES['evaluate']}", formatter_class=argparse.RawDescriptionHelpFormatter)
    evaluate.add_argument("model", help="model bundle (.zip)")
    evaluate.add_argument("data", help="labelled CSV file")
    evaluate.add_argument("--label", required=True, help="label column")
    evaluate.add_argument("--normal", action="append", default=[], help="a normal class (repeat for several)")
    return parser


def _progress(report) -> None:
    print(f"epoch {report.epoch}/{report.epochs}  loss {report.loss:.5g}  val_loss {report.val_loss:.5g}  {report.elapsed:.1f}s", file=sys.stderr, flush=True)


def _train(args) -> int:
    from core import pipeline
    from core.bundle import save_bundle

    label = None if args.label.lower() == "none" else args.label
    result = pipeline.train_from_csv(
        args.data, label=label, normal=args.normal, features=args.features, seed=args.seed,
        params={"epochs": args.epochs, "threshold_rule": args.threshold_rule}, hooks=[_progress],
    )
    save_bundle(result.detector, args.out, result.context)
    det = result.detector
    print(f"trained {det.epochs_run_} epochs in {det.fit_seconds_:.1f}s; threshold {det.threshold_:.6g} ({det.threshold_reason_}); saved {args.out}", file=sys.stderr)
    return 0


def _score(args) -> int:
    from core.bundle import load_bundle
    from core.scoring import score_csv

    detector, _ = load_bundle(args.model)
    t0 = time.perf_counter()

    def progress(done: int) -> None:
        print(f"\rscored {done:,} rows ({done / max(time.perf_counter() - t0, 1e-9):,.0f} rows/s)", end="", file=sys.stderr, flush=True)

    summary = score_csv(detector, args.data, args.out, progress=progress)
    print(f"\n{summary['flagged']:,} of {summary['rows']:,} rows flagged ({summary['flagged'] / max(summary['rows'], 1):.2%}); wrote {args.out}", file=sys.stderr)
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
        return {"train": _train, "score": _score, "evaluate": _evaluate}[args.command](args)
    except DataError as exc:
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
