"""Every hostile table and bundle of the catalogue through the command line:
exit 2 with one line that says what is wrong (never a traceback), or exit 0 where the input is fine."""

import subprocess
import sys

import pytest

import core.bundle
from core.bundle import bundle_bytes
from core.cli import main
from tests.conftest import ROOT
from tests.hostile import BUNDLES, TABLES

SAMPLE = ROOT / "sample_data" / "machine_sensors.csv"


def _run(argv, capsys) -> tuple[int, list[str]]:
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err.strip()
    return code, err.split("\n") if err else []


def _assert_outcome(case, code, lines):
    assert not any("Traceback" in line for line in lines), lines
    if case.expect == "ok":
        assert code == 0, lines
    else:
        assert code == 2 and len(lines) == 1, lines
        assert lines[0].startswith("error: ") and case.expect.lower() in lines[0].lower(), lines
        assert len(lines[0]) < 1200, "a message lists at most ~10 names"


@pytest.mark.parametrize("case", TABLES, ids=[c.name for c in TABLES])
def test_hostile_table_through_train_gets_a_one_line_message_or_works(case, tmp_path, capsys):
    src = tmp_path / "table.csv"
    src.write_bytes(case.build())
    code, lines = _run(["train", src, *case.label, "--epochs", "1", "--out", tmp_path / "m.zip"], capsys)
    _assert_outcome(case, code, lines)


@pytest.fixture(scope="module")
def ab_bundle(tmp_path_factory):
    """A detector that reads columns a and b, saved as a bundle."""
    import numpy as np
    import pandas as pd

    from core.detector import AutoencoderDetector

    x = pd.DataFrame(np.random.default_rng(0).normal(size=(200, 2)), columns=["a", "b"])
    path = tmp_path_factory.mktemp("bundle") / "ab.zip"
    path.write_bytes(bundle_bytes(AutoencoderDetector(epochs=2, random_state=0).fit(x)))
    return path


@pytest.mark.parametrize("case", TABLES, ids=[c.name for c in TABLES])
def test_hostile_table_through_score_exits_0_or_2_with_one_line(case, ab_bundle, tmp_path, capsys):
    src = tmp_path / "table.csv"
    src.write_bytes(case.build())
    code, lines = _run(["score", ab_bundle, src, "--out", tmp_path / "out.csv"], capsys)
    assert not any("Traceback" in line for line in lines)
    assert code in (0, 2)
    if code == 2:
        assert len(lines) == 1 and lines[0].startswith("error: ")
    else:
        assert (tmp_path / "out.csv").stat().st_size > 0


@pytest.fixture(scope="module")
def good_bundle(fitted):
    det, _, _ = fitted
    return bundle_bytes(det, {"label": None, "features": [f"f{i}" for i in range(8)]})


@pytest.mark.parametrize("case", BUNDLES, ids=[c.name for c in BUNDLES])
def test_hostile_bundle_through_score_is_refused_in_one_line(case, good_bundle, planted_data, tmp_path, capsys, monkeypatch):
    X, _ = planted_data
    data = tmp_path / "rows.csv"
    X.iloc[:50].to_csv(data, index=False)
    model = tmp_path / case.filename
    model.write_bytes(case.build(good_bundle))
    if case.max_bytes is not None:
        monkeypatch.setattr(core.bundle, "MAX_MEMBER_BYTES", case.max_bytes)
    code, lines = _run(["score", model, data, "--out", tmp_path / "out.csv"], capsys)
    _assert_outcome(case, code, lines)
    assert not (tmp_path / "out.csv").exists()


def test_the_good_bundle_scores(good_bundle, planted_data, tmp_path, capsys):
    X, _ = planted_data
    data, model = tmp_path / "rows.csv", tmp_path / "m.zip"
    X.iloc[:50].to_csv(data, index=False)
    model.write_bytes(good_bundle)
    code, lines = _run(["score", model, data, "--out", tmp_path / "out.csv"], capsys)
    assert code == 0, lines


def test_catalogue_is_large_enough():
    assert len(TABLES) >= 40 and len(BUNDLES) >= 25


@pytest.mark.parametrize("name, kind", [("gzip of a CSV", "table"), ("config aimed at os.system", "bundle")])
def test_hostile_input_in_a_real_process_exits_2_without_traceback(name, kind, good_bundle, tmp_path):
    if kind == "table":
        case = next(c for c in TABLES if c.name == name)
        src = tmp_path / "t.csv"
        src.write_bytes(case.build())
        argv = ["train", str(src), "--label", "none", "--out", str(tmp_path / "m.zip")]
    else:
        case = next(c for c in BUNDLES if c.name == name)
        model = tmp_path / "m.zip"
        model.write_bytes(case.build(good_bundle))
        argv = ["score", str(model), str(SAMPLE), "--out", str(tmp_path / "o.csv")]
    proc = subprocess.run([sys.executable, "-m", "core", *argv], cwd=ROOT, capture_output=True, text=True, timeout=300)
    lines = [line for line in proc.stderr.strip().split("\n") if line.startswith("error:") or "Traceback" in line]
    assert proc.returncode == 2 and len(lines) == 1 and case.expect.lower() in lines[0].lower(), proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
