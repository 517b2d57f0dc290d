"""The MLflow pyfunc export: loads with MLflow's own loader and scores exactly as the bundle does."""

import builtins

import numpy as np
import pandas as pd
import pytest

from core.cli import main
from tests.serving_fixtures import SAMPLE, banded_bundle, shared_bundle


@pytest.fixture(scope="module")
def bundle():
    return shared_bundle()


def test_exported_model_loads_with_mlflow_and_scores_identically(bundle, tmp_path, capsys):
    mlflow_pyfunc = pytest.importorskip("mlflow.pyfunc")
    from core.served_model import ServedModel

    out = tmp_path / "mlflow_model"
    assert main(["export-mlflow", str(bundle), str(out)]) == 0
    assert "mlflow.pyfunc.load_model" in capsys.readouterr().err
    assert not list(out.rglob("*.pkl")) and (out / "artifacts" / bundle.name).read_bytes() == bundle.read_bytes()
    loaded = mlflow_pyfunc.load_model(str(out))
    inputs = loaded.metadata.get_input_schema().input_dict()
    assert inputs["machine"].type.name == "string" and inputs["rpm"].type.name == "double"
    rows = pd.read_csv(SAMPLE).head(300)
    rows.loc[3, "rpm"] = np.nan
    answer = loaded.predict(rows.drop(columns=["status"]))
    model = ServedModel.from_bundle(bundle)
    expected = model.score(model.validate(rows))
    assert np.array_equal(answer["anomaly_score"].to_numpy(), expected)
    assert answer["is_anomaly"].tolist() == model.flags(expected).tolist()


def test_an_exported_model_marks_the_review_band_saved_with_it(bundle, tmp_path):
    mlflow_pyfunc = pytest.importorskip("mlflow.pyfunc")
    banded, low = banded_bundle(bundle, tmp_path / "banded.zip")
    assert main(["export-mlflow", str(banded), str(tmp_path / "mlflow_model")]) == 0
    loaded = mlflow_pyfunc.load_model(str(tmp_path / "mlflow_model"))
    assert [c.name for c in loaded.metadata.get_output_schema().inputs] == ["anomaly_score", "is_anomaly", "for_review"]
    answer = loaded.predict(pd.read_csv(SAMPLE).head(300).drop(columns=["status"]))
    from core.served_model import ServedModel

    threshold = ServedModel.from_bundle(banded).threshold.value
    assert (answer["for_review"] == ((answer["anomaly_score"] > low) & (answer["anomaly_score"] <= threshold))).all()


def test_export_without_mlflow_says_how_to_install_it(bundle, tmp_path, capsys, monkeypatch):
    real_import = builtins.__import__

    def no_mlflow(name, *args, **kwargs):
        if name == "mlflow" or name.startswith("mlflow."):
            raise ImportError("No module named 'mlflow'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_mlflow)
    assert main(["export-mlflow", str(bundle), str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: MLflow is not installed; install it with: pip install mlflow-skinny"


def test_export_refuses_a_non_empty_directory(bundle, tmp_path, capsys):
    pytest.importorskip("mlflow")
    (tmp_path / "keep.txt").write_text("mine")
    assert main(["export-mlflow", str(bundle), str(tmp_path)]) == 2
    assert "not empty" in capsys.readouterr().err and (tmp_path / "keep.txt").read_text() == "mine"
