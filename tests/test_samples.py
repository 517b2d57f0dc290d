import sys


from core.data import read_table
from core.pipeline import prepare
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "sample_data"))
import generate  # noqa: E402


def test_bundled_samples_are_what_the_generator_writes(tmp_path, monkeypatch):
    monkeypatch.setattr(generate, "HERE", tmp_path)
    generate.main()
    for name in generate.SAMPLES:
        assert (tmp_path / name).read_bytes() == (ROOT / "sample_data" / name).read_bytes(), name


def test_machine_sample_is_realistic_and_ready_to_train():
    table = read_table(ROOT / "sample_data" / "machine_sensors.csv")
    counts = table.frame["status"].value_counts()
    assert {"normal", "bearing_fault", "overheat", "sensor_drift"} == set(counts.index)
    assert 0.03 < 1 - counts["normal"] / counts.sum() < 0.08
    numeric = table.frame.select_dtypes("number")
    assert 8 <= numeric.shape[1] <= 20
    assert abs(numeric["rpm"].corr(numeric["power_kw"])) > 0.8
    prepared = prepare(table, "status", ["normal"])
    assert "machine" in prepared.features and "status" not in prepared.features


def test_heartbeat_sample_rows_are_signals():
    frame = read_table(ROOT / "sample_data" / "heartbeats.csv").frame
    signal = frame.drop(columns="rhythm")
    assert signal.shape[1] == 64 and (signal.dtypes == float).all()
    assert set(frame["rhythm"]) == {"normal", "premature", "flat_t"}
