"""One check on the real TensorFlow ECG file, skipped when ../shared/data is absent."""

import pytest

from core.data import read_table
from core.registry import fit_on_split
from core.pipeline import prepare, score_part
from tests.conftest import SHARED_DATA

ECG = SHARED_DATA / "ecg.csv"


@pytest.mark.skipif(not ECG.exists(), reason="../shared/data/ecg.csv is not here")
def test_default_detector_on_ecg_reaches_the_published_quality():
    table = read_table(ECG)
    assert table.frame.shape == (4998, 141) and table.frame.columns[0] == "col_0"
    prepared = prepare(table, "col_140", ["1"], seed=0)
    detector = fit_on_split(prepared, "ae:dense", {"epochs": 40})
    test = score_part(detector, prepared, "test")
    assert test.curve.roc_auc >= 0.975
    assert test.curve.at(detector.threshold_).metrics()["accuracy"] >= 0.93
