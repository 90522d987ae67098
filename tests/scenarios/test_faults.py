"""Sensor faults against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scenarios.errors import ScenarioInputError
from scenarios.faults import FaultInjector, apply_faults
from scenarios.spec import FaultSpec

T0 = 1.8e9


def _readings() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = T0 + np.repeat(np.arange(10.0) * 100.0, 2)  # two sensors, a reading each 100 s
    s = np.array(["A", "B"] * 10, dtype=object)
    v = np.where(s == "A", 10.0, 20.0).astype(float)
    return t, s, v


def _run(*faults: FaultSpec, seed: int = 0):  # type: ignore[no-untyped-def]
    t, s, v = _readings()
    return apply_faults(
        t, s, v, faults, start_time=T0, end_time=T0 + 1000.0, rng=np.random.default_rng(seed)
    )


def test_bias_step_and_drift() -> None:
    t, s, v, inj = _run(
        FaultSpec("bias_step", "A", start=300.0, magnitude=5.0),
        FaultSpec("drift", "B", start=200.0, duration=400.0, magnitude=0.01),
    )
    a = v[s == "A"]
    np.testing.assert_array_equal(a, [10, 10, 10, 15, 15, 15, 15, 15, 15, 15])
    b = v[s == "B"]
    # 0.01 per s from t = 200 s to 600 s (exclusive): 0, 1, 2, 3 at 200..500 s
    np.testing.assert_allclose(b, [20, 20, 20, 21, 22, 23, 20, 20, 20, 20])
    assert inj[0] == {"kind": "bias_step", "sensor": "A", "injected_at": T0 + 300.0,
                      "until": None, "magnitude": 5.0}  # fmt: skip
    assert inj[1]["until"] == T0 + 600.0


def test_stuck_at_freezes_the_first_reading_across_chunks() -> None:
    t = T0 + np.arange(8.0) * 100.0
    s = np.array(["A"] * 8, dtype=object)
    v = np.arange(8.0)
    f = FaultInjector([FaultSpec("stuck_at", "A", start=250.0, duration=400.0)],
                      start_time=T0, end_time=T0 + 800.0, rng=np.random.default_rng(0))  # fmt: skip
    out1 = f.apply(t[:4], s[:4], v[:4])[2]
    out2 = f.apply(t[4:], s[4:], v[4:])[2]
    # window [250, 650): readings at 300..600 s read 3 (the one at 300 s)
    np.testing.assert_array_equal(np.r_[out1, out2], [0, 1, 2, 3, 3, 3, 3, 7])


def test_dropout_removes_the_window() -> None:
    t, s, v, _ = _run(FaultSpec("dropout", "B", start=100.0, duration=300.0))
    tb = t[s == "B"] - T0
    np.testing.assert_array_equal(tb, [0, 400, 500, 600, 700, 800, 900])
    assert (s == "A").sum() == 10


def test_spikes_count_size_and_window() -> None:
    t, s, v, inj = _run(FaultSpec("spikes", "A", start=200.0, duration=500.0, magnitude=7.0,
                                  count=3), seed=4)  # fmt: skip
    a_t, a_v = t[s == "A"] - T0, v[s == "A"]
    d = a_v - 10.0
    # hand value: each spike adds sign * 7 to the first reading at or after its time
    expect = np.zeros(10)
    for when, sign in zip(inj[0]["times"], inj[0]["signs"], strict=True):
        expect[int(np.ceil((when - T0) / 100.0))] += 7.0 * sign
    np.testing.assert_allclose(d, expect)
    # spikes land on the first reading at or after their time, inside [200, 700] s
    hit = a_t[d != 0]
    assert hit.min() >= 200.0 and hit.max() <= 700.0
    times = np.array(inj[0]["times"]) - T0
    assert times.size == 3 and times.min() >= 200.0 and times.max() < 700.0
    np.testing.assert_array_equal(np.unique(np.ceil(times / 100.0) * 100.0), np.unique(hit))
    assert np.all(v[s == "B"] == 20.0)


def test_same_seed_same_spikes() -> None:
    f = FaultSpec("spikes", "A", start=0.0, duration=math.inf, magnitude=1.0, count=4)
    assert _run(f, seed=9)[3] == _run(f, seed=9)[3]
    assert _run(f, seed=9)[3] != _run(f, seed=10)[3]


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ScenarioInputError, match=r"faults\[0\]\.kind.*'flatline'"):
        _run(FaultSpec("flatline", "A", start=0.0))
