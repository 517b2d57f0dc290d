"""An MLflow pyfunc model directory around a bundle, for teams that register and serve with MLflow.

Uses MLflow's "models from code": the model is a small Python file plus the bundle
as an artifact, so nothing is pickled (a pickled ``PythonModel`` runs code when
loaded). MLflow is optional: without it the command says how to install it.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from core.errors import DataError

INSTALL_HINT = "MLflow is not installed; install it with: pip install mlflow-skinny"

#: The pyfunc model's code. MLflow runs this file when it loads the model.
MODEL_CODE = '''"""Anomaly Lab detector as an MLflow pyfunc model (models from code: no pickle)."""
import mlflow
from mlflow.pyfunc import PythonModel


class AnomalyLabModel(PythonModel):
    def load_context(self, context):
        from core.served_model import ServedModel

        self.model = ServedModel.from_bundle(context.artifacts["bundle"])

    def predict(self, context, model_input, params=None):
        import pandas as pd

        rows = self.model.validate(pd.DataFrame(model_input), allow_extra=True)
        outputs = self.model.outputs(self.model.score(rows))
        return pd.DataFrame({name: values if name == "anomaly_score" else values.astype("int64") for name, values in outputs.items()})


mlflow.models.set_model(AnomalyLabModel())
'''


def _signature(model):
    from mlflow.models import ModelSignature
    from mlflow.types.schema import ColSpec, Schema

    inputs = Schema([ColSpec("double" if f.kind == "number" else "string", f.name) for f in model.features])
    outputs = Schema([ColSpec("double" if name == "anomaly_score" else "long", name) for name in model.columns])
    return ModelSignature(inputs=inputs, outputs=outputs)


def _requirements() -> list[str]:
    import importlib.metadata as md

    wanted = ("keras", "tensorflow-cpu", "tensorflow", "numpy", "pandas", "scikit-learn")
    found = []
    for name in wanted:
        try:
            found.append(f"{name}=={md.version(name)}")
        except md.PackageNotFoundError:
            continue
    if any(r.startswith("tensorflow-cpu") for r in found):
        found = [r for r in found if not r.startswith("tensorflow==")]
    return found


def export_mlflow(bundle: str | Path, out_dir: str | Path) -> Path:
    """Write ``out_dir`` as an MLflow pyfunc model that scores rows with ``bundle``.

    The directory holds MLmodel (with an input signature from the feature names
    and types), the bundle as an artifact, this project's ``core`` package as
    code, and the pinned requirements.
    """
    try:
        import mlflow.pyfunc
    except ImportError:
        raise DataError(INSTALL_HINT) from None
    from core.served_model import ServedModel

    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise DataError(f"{out} already exists and is not empty; choose a new directory.")
    model = ServedModel.from_bundle(bundle)  # refuses a damaged or unsafe bundle before writing anything
    if out.exists():
        out.rmdir()
    with tempfile.TemporaryDirectory() as tmp:
        code = Path(tmp) / "anomaly_lab_model.py"
        code.write_text(MODEL_CODE)
        mlflow.pyfunc.save_model(
            path=str(out),
            python_model=str(code),
            artifacts={"bundle": str(Path(bundle))},
            code_paths=[str(Path(__file__).resolve().parent)],
            signature=_signature(model),
            pip_requirements=_requirements(),
            metadata={"anomaly_lab": {"threshold": model.threshold.as_dict(), "label": model.context.get("label"),
                                      "normal_classes": model.context.get("normal_classes", []), "bundle_sha256": model.bundle_sha256}},
        )
    shutil.rmtree(out / "code" / "core" / "__pycache__", ignore_errors=True)
    return out
