"""Generate the bundled samples (run: ``python sample_data/generate.py``).

Both tables are synthetic and seeded, so the files in this folder can always be
rebuilt byte for byte:

- ``machine_sensors.csv``: 3,000 readings of a pump with 12 correlated sensors,
  a text ``machine`` column and a ``status`` label; about 5 % anomalies of three
  kinds (``bearing_fault``, ``overheat``, ``sensor_drift``).
- ``heartbeats.csv``: 1,500 short signals of 64 samples (``t00``..``t63``), with a
  ``rhythm`` label; about 20 % are abnormal beats (``premature``, ``flat_t``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
SEED = 2026


def machine_sensors(n: int = 3000, seed: int = SEED) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    load = rng.uniform(0.3, 1.0, n)  # the hidden driver most sensors follow
    ambient = rng.normal(22, 3, n)
    rpm = 1500 + 1200 * load + rng.normal(0, 25, n)
    power_kw = 4 + 11 * load + rng.normal(0, 0.4, n)
    flow = 40 * load + rng.normal(0, 1.2, n)
    pressure = 2 + 3.5 * load**1.5 + rng.normal(0, 0.1, n)
    motor_temp = ambient + 25 + 30 * load + rng.normal(0, 1.5, n)
    bearing_temp = motor_temp - 8 + rng.normal(0, 1.0, n)
    oil_temp = 0.6 * motor_temp + 0.4 * ambient + rng.normal(0, 1.0, n)
    vib_x = 0.8 + 1.5 * load + rng.gamma(4, 0.05, n)
    vib_y = 0.9 * vib_x + rng.normal(0, 0.05, n)
    current = power_kw / (0.4 * 1.73 * 0.9) + rng.normal(0, 0.3, n)
    noise_db = 60 + 15 * load + 2 * vib_x + rng.normal(0, 1.0, n)
    machine = rng.choice(["pump_a", "pump_b", "pump_c"], n)
    status = np.array(["normal"] * n, dtype=object)

    idx = rng.permutation(n)
    kinds = {"bearing_fault": idx[:70], "overheat": idx[70:120], "sensor_drift": idx[120:150]}
    b = kinds["bearing_fault"]
    vib_x[b] *= rng.uniform(1.8, 3.0, len(b))
    vib_y[b] *= rng.uniform(1.8, 3.0, len(b))
    bearing_temp[b] += rng.uniform(6, 15, len(b))
    noise_db[b] += rng.uniform(4, 9, len(b))
    o = kinds["overheat"]
    motor_temp[o] += rng.uniform(12, 25, len(o))
    oil_temp[o] += rng.uniform(6, 12, len(o))
    current[o] *= rng.uniform(1.1, 1.25, len(o))
    d = kinds["sensor_drift"]
    pressure[d] = rng.uniform(1.5, 6, len(d))  # pressure no longer follows load
    flow[d] *= rng.uniform(0.5, 0.8, len(d))
    for kind, rows in kinds.items():
        status[rows] = kind

    frame = pd.DataFrame({
        "machine": machine, "ambient_c": ambient, "rpm": rpm, "power_kw": power_kw, "flow_lpm": flow,
        "pressure_bar": pressure, "motor_temp_c": motor_temp, "bearing_temp_c": bearing_temp, "oil_temp_c": oil_temp,
        "vibration_x_mm_s": vib_x, "vibration_y_mm_s": vib_y, "current_a": current, "noise_db": noise_db, "status": status,
    })
    frame.iloc[rng.choice(n, 25, replace=False), 5] = np.nan  # a few dropped pressure readings
    return frame.round(3)


def heartbeats(n: int = 1500, length: int = 64, seed: int = SEED) -> pd.DataFrame:
    rng = np.random.default_rng(seed + 1)
    t = np.linspace(0, 1, length)

    def wave(center, width, height):
        return height[:, None] * np.exp(-((t[None, :] - center[:, None]) ** 2) / (2 * width[:, None] ** 2))

    def jitter(mean, sd):
        return rng.normal(mean, sd, n)

    p = wave(jitter(0.18, 0.01), jitter(0.03, 0.003), jitter(0.15, 0.02))
    q = wave(jitter(0.36, 0.005), np.full(n, 0.012), -jitter(0.15, 0.02))
    r = wave(jitter(0.40, 0.005), np.full(n, 0.015), jitter(1.0, 0.08))
    s = wave(jitter(0.44, 0.005), np.full(n, 0.014), -jitter(0.25, 0.03))
    tw = wave(jitter(0.70, 0.015), jitter(0.06, 0.005), jitter(0.30, 0.03))
    rhythm = np.array(["normal"] * n, dtype=object)
    idx = rng.permutation(n)
    premature, flat = idx[:180], idx[180:300]
    r[premature] = wave(jitter(0.26, 0.02)[premature], np.full(len(premature), 0.03), jitter(0.9, 0.1)[premature])
    p[premature] = 0
    tw[flat] *= rng.uniform(-0.3, 0.2, (len(flat), 1))
    rhythm[premature], rhythm[flat] = "premature", "flat_t"
    signal = p + q + r + s + tw + rng.normal(0, 0.02, (n, length)) + rng.normal(0, 0.03, (n, 1))
    frame = pd.DataFrame(signal.round(4), columns=[f"t{i:02d}" for i in range(length)])
    frame["rhythm"] = rhythm
    return frame


SAMPLES = {"machine_sensors.csv": machine_sensors, "heartbeats.csv": heartbeats}


def main() -> None:
    for name, make in SAMPLES.items():
        make().to_csv(HERE / name, index=False)
        print(f"wrote {HERE / name}")


if __name__ == "__main__":
    main()
