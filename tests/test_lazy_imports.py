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
