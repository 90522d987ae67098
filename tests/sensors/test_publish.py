"""Synthetic recordings and fault injection, checked against their defining formulas."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

from sensors.catalogue import load_catalogue
from sensors.publish import Faults, apply_faults, synthetic_readings

DEMO = pathlib.Path(__file__).resolve().parents[2] / "examples" / "sensors_demo.toml"
CAT = load_catalogue(DEMO)


def _recording(seed: int = 0) -> object:
    return synthetic_readings(
        CAT, duration=2000.0, start_time=1.7e9, rng=np.random.default_rng(seed), rate_scale=1.0
    )


def _span(sid: str) -> float:
    return {
        "TC-fluid-01": 700.0,
        "TC-outer-01": 700.0,
        "PT-01": 30.0,
        "SG-outer-01": 10_000.0,
        "UT-01": 99.0,
    }[sid]  # valid_max - valid_min, config units


def test_synthetic_signal_follows_its_formula() -> None:
    rec = _recording()
    pt = rec.where(rec["sensor_id"] == "PT-01", drop=True)
    t = pt["time"].values - 1.7e9
    v = pt["value"].values
    assert t.size == 2000 and pt["sequence"].values.tolist() == list(range(2000))
    # mid 15 MPa, amplitude 0.25 * 30 MPa: v - 15 = 7.5 sin(2 pi t / 3600 + phase)
    phase = np.arctan2(
        *np.linalg.lstsq(
            np.c_[np.cos(2 * np.pi * t / 3600), np.sin(2 * np.pi * t / 3600)], v - 15.0, rcond=None
        )[0]
    )
    np.testing.assert_allclose(v, 15.0 + 7.5 * np.sin(2 * np.pi * t / 3600 + phase), atol=1e-9)


def test_faults_match_their_rates_and_sizes() -> None:
    rec = _recording()
    n = rec.sizes["reading"]
    clean = dict(
        zip(
            zip(rec["sensor_id"].values, rec["sequence"].values, strict=True),
            rec["value"].values,
            strict=True,
        )
    )
    rng = np.random.default_rng(42)
    faulty = apply_faults(rec, CAT, faults=Faults(dropout=0.1, spike=0.02, spike_size=0.2), rng=rng)
    kept = faulty.sizes["reading"]
    # binomial dropout: 0.1 n +- 4 sigma
    assert abs((n - kept) - 0.1 * n) < 4 * np.sqrt(n * 0.1 * 0.9)
    jumps = np.array(
        [
            abs(v - clean[(s, q)]) / _span(s)
            for s, q, v in zip(
                faulty["sensor_id"].values,
                faulty["sequence"].values,
                faulty["value"].values,
                strict=True,
            )
        ]
    )
    spikes = np.isclose(jumps, 0.2)
    assert np.all(spikes | np.isclose(jumps, 0.0))  # a reading is clean or spiked by 0.2 span
    assert abs(spikes.sum() - 0.02 * kept) < 4 * np.sqrt(kept * 0.02 * 0.98)


def test_noise_drift_and_stuck_at() -> None:
    rec = _recording()
    noisy = apply_faults(rec, CAT, faults=Faults(noise=0.01), rng=np.random.default_rng(1))
    d = noisy["value"].values - rec["value"].values
    span = np.array([_span(s) for s in rec["sensor_id"].values])
    assert np.std(d / span) == pytest.approx(0.01, rel=0.05)  # n = 26,002 samples
    drift = apply_faults(rec, CAT, faults=Faults(drift_per_hour=0.01), rng=np.random.default_rng(1))
    pt = (rec["sensor_id"] == "PT-01").values
    t = rec["time"].values[pt] - 1.7e9
    np.testing.assert_allclose(
        drift["value"].values[pt] - rec["value"].values[pt], 0.01 * 30.0 * t / 3600.0, atol=1e-9
    )
    stuck = apply_faults(
        rec, CAT, faults=Faults(stuck=1.0, stuck_duration=100.0), rng=np.random.default_rng(3)
    )
    v = stuck["value"].values[pt]
    frozen = np.flatnonzero(np.diff(v) == 0.0)
    assert frozen.size == 99  # 100 readings at 1 Hz hold one value
    assert np.all(np.diff(frozen) == 1)


def test_same_seed_same_faults() -> None:
    rec = _recording()
    f = Faults(noise=0.01, dropout=0.05, spike=0.01, stuck=0.5)
    a = apply_faults(rec, CAT, faults=f, rng=np.random.default_rng(9))
    b = apply_faults(rec, CAT, faults=f, rng=np.random.default_rng(9))
    np.testing.assert_array_equal(a["value"].values, b["value"].values)
    with pytest.raises(ValueError, match=r"faults.dropout: a probability must lie in \[0, 1\]"):
        Faults(dropout=1.5)
