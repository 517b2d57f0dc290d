import json
import subprocess
import sys

import pandas as pd

from core.cli import main
from tests.conftest import ROOT

SAMPLE = ROOT / "sample_data" / "machine_sensors.csv"


def test_train_score_evaluate_end_to_end(tmp_path, capsys):
    model = tmp_path / "m.zip"
    assert main(["train", str(SAMPLE), "--label", "status", "--normal", "normal", "--out", str(model), "--epochs", "8", "--seed", "1"]) == 0
    err = capsys.readouterr().err
    assert "epoch 1/8" in err and model.exists()

    scored = tmp_path / "scored.csv"
    assert main(["score", str(model), str(SAMPLE), "--out", str(scored)]) == 0
    out = pd.read_csv(scored)
    source = pd.read_csv(SAMPLE)
    assert list(out.columns) == list(source.columns) + ["anomaly_score", "is_anomaly"]
    assert set(out["is_anomaly"].unique()) <= {0, 1} and len(out) == len(source)
    assert (out["status"] == source["status"]).all()  # the label is carried through, not used

    from core.bundle import load_bundle

    threshold = load_bundle(model)[0].threshold_
    low = float(out["anomaly_score"][out["anomaly_score"] <= threshold].quantile(0.9))
    capsys.readouterr()
    assert main(["score", str(model), str(SAMPLE), "--out", str(scored), "--review-from", repr(low)]) == 0
    banded = pd.read_csv(scored)
    in_band = (banded["anomaly_score"] > low) & (banded["anomaly_score"] <= threshold)
    assert (banded["for_review"] == in_band).all() and f"{int(in_band.sum()):,} for review" in capsys.readouterr().err
    assert main(["score", str(model), str(SAMPLE), "--out", str(scored), "--review-from", repr(threshold + 1)]) == 2
    assert "is not below it" in capsys.readouterr().err
    from dataclasses import replace

    from core.bundle import bundle_bytes

    detector = load_bundle(model)[0]
    banded = tmp_path / "banded.zip"
    banded.write_bytes(bundle_bytes(detector, {}, replace(detector.fitted_threshold, review_from=low)))  # as the app saves a band
    assert main(["score", str(banded), str(SAMPLE), "--out", str(scored)]) == 0
    assert (pd.read_csv(scored)["for_review"] == in_band).all() and f"{int(in_band.sum()):,} for review" in capsys.readouterr().err

    capsys.readouterr()
    assert main(["evaluate", str(model), str(SAMPLE), "--label", "status", "--normal", "normal"]) == 0
    result = json.loads(capsys.readouterr().out)
    for key in ("roc_auc", "average_precision", "threshold", "precision", "recall", "f1", "tn", "fp", "fn", "tp"):
        assert key in result
    assert result["tn"] + result["fp"] + result["fn"] + result["tp"] == len(source)
    assert result["roc_auc"] > 0.8


def test_unsupervised_train(tmp_path):
    assert main(["train", str(SAMPLE), "--label", "none", "--out", str(tmp_path / "u.zip"), "--epochs", "2", "--features", "rpm", "power_kw", "flow_lpm"]) == 0


def test_train_with_several_networks_saves_an_ensemble_that_scores(tmp_path, capsys):
    model, scored = tmp_path / "e.zip", tmp_path / "scored.csv"
    assert main(["train", str(SAMPLE), "--label", "status", "--normal", "normal", "--out", str(model), "--epochs", "3", "--networks", "2"]) == 0
    assert "trained 2 networks" in capsys.readouterr().err
    assert main(["score", str(model), str(SAMPLE), "--out", str(scored)]) == 0
    assert pd.read_csv(scored)["anomaly_score"].notna().all()
    assert main(["train", str(SAMPLE), "--label", "status", "--normal", "normal", "--out", str(model), "--networks", "11"]) == 2
    assert "2 to 10 networks" in capsys.readouterr().err


def test_bad_input_exits_2_with_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("a\n1\n")
    assert main(["train", str(bad), "--label", "a", "--normal", "1", "--out", str(tmp_path / "x.zip")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and len(err.splitlines()) == 1
    assert main(["train", str(SAMPLE), "--label", "nope", "--normal", "x", "--out", str(tmp_path / "x.zip")]) == 2
    assert main(["score", str(bad), str(SAMPLE), "--out", str(tmp_path / "o.csv")]) == 2


def test_help_lists_every_command_in_a_real_process():
    out = subprocess.run([sys.executable, "-m", "core", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    for command in ("train", "score", "evaluate"):
        assert command in out.stdout
    bad = subprocess.run([sys.executable, "-m", "core", "score", "missing.zip", "missing.csv", "--out", "x.csv"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
