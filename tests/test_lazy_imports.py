"""Heavy libraries load only where they are used: the Data page and the command line's start do not import Keras."""

import subprocess
import sys

import pytest

from tests.conftest import ROOT

# What pages/data.py (and the sidebar every page draws) import, and what `python -m core` imports before a command runs.
DATA_PAGE = ["ui.session", "ui.guard", "ui.sidebar", "core.pipeline", "core.describe", "core.target", "core.plots", "core.data"]
CLI = ["core.cli", "core.bundle", "core.scoring", "core.registry"]


def _loaded_after(modules: list[str], heavy: list[str]) -> list[str]:
    code = (f"import sys; import importlib; [importlib.import_module(m) for m in {modules!r}]; "
            f"print(','.join(h for h in {heavy!r} if h in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return [h for h in out.stdout.strip().split(",") if h]


@pytest.mark.parametrize("modules", [DATA_PAGE, CLI], ids=["data page", "command line"])
def test_keras_and_tensorflow_are_not_imported_until_a_network_is_needed(modules):
    assert _loaded_after(modules, ["keras", "tensorflow"]) == []


def test_the_data_page_imports_no_scikit_learn_until_rows_are_split():
    assert _loaded_after(DATA_PAGE, ["sklearn"]) == []


def test_the_data_pages_first_view_loads_no_splitter_charting_or_network_library():
    """The first script run of a new server (sample loaded, split prepared, page drawn) without scikit-learn,
    SciPy, plotly.express, Keras or TensorFlow; those come later, in the background warm-up (held back here)."""
    heavy = ["sklearn", "scipy", "plotly.express", "keras", "tensorflow"]
    code = ("import sys; from ui import warmup; warmup.start = lambda *a, **k: None; "
            "from streamlit.testing.v1 import AppTest; at = AppTest.from_file('app.py', default_timeout=120); at.run(); "
            "assert not at.exception, at.exception; assert any('Ready to train' in s.value for s in at.success); "
            f"print(','.join(h for h in {heavy!r} if h in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1:] in ([], [""])
