"""The plant historian: exception reporting with held points, heartbeat, full-rate transients."""

from __future__ import annotations

import time

import numpy as np
import pytest

from scenarios.historian import Historian
from scenarios.spec import HistorianSpec

SPEC = HistorianSpec(transient_interval=60.0, heartbeat=3600.0, deadband={"temperature": 2.0})


def _historian() -> Historian:
    return Historian(["TC"], SPEC, {"TC": "temperature"})


def test_ramp_and_hold_reconstructed_within_deadband() -> None:
    # A slow ramp (1 K per 10 min) then a hold, fed in three pieces; the reference is
    # the original samples: linear interpolation between the reports must stay within
    # the deadband of every sample (the point of the held scan before an exception).
    t = np.arange(0.0, 40_000.0, 60.0)
    v = np.minimum(500.0 + t / 600.0, 530.0)
    h = _historian()
    parts = [h.steady("TC", t[a:b], v[a:b]) for a, b in ((0, 123), (123, 400), (400, t.size))]
    parts.append(h.flush("TC"))
    rt = np.concatenate([p[0] for p in parts])
    rv = np.concatenate([p[1] for p in parts])
    assert np.all(np.diff(rt) > 0)
    err = np.abs(np.interp(t, rt, rv) - v)
    assert err.max() <= 2.0 + 1e-9
    # the ramp is exact between an exception and the held scan before the next
    assert err[t < 17_000].max() < 1e-9
    # far fewer reports than scans: one exception (+ held scan) per 2 K of ramp,
    # heartbeats in the hold
    assert rt.size < 0.15 * t.size


def test_without_held_points_interpolation_would_miss() -> None:
    # A step after a long flat stretch: dropping the held scan before the exception
    # would interpolate a slow ramp across the silence (error = the step / 2).
    t = np.arange(0.0, 3000.0, 60.0)
    v = np.where(t < 1500.0, 500.0, 510.0)
    rt, rv = _historian().steady("TC", t, v)
    assert 1440.0 in rt and 1500.0 in rt
    assert np.abs(np.interp(t, rt, rv) - v).max() == 0.0


def test_transients_keep_every_scan() -> None:
    h = _historian()
    t = np.arange(0.0, 7200.0, 60.0)
    v = 500.0 + 0.01 * t  # under the deadband between scans
    rt, rv = h.transient("TC", t, v)
    np.testing.assert_array_equal(rt, t)
    np.testing.assert_array_equal(rv, v)
    # a steady stretch after it, then a transient: the held scan joins the transient
    t2 = 7200.0 + np.arange(0.0, 1800.0, 60.0)
    st, _ = h.steady("TC", t2, np.full(t2.size, v[-1]))
    assert st.size == 0  # nothing changed, heartbeat not due
    t3 = 9000.0 + np.arange(0.0, 600.0, 60.0)
    rt3, _ = h.transient("TC", t3, np.full(t3.size, 400.0))
    assert rt3[0] == t2[-1] and rt3.size == t3.size + 1


@pytest.mark.parametrize("heartbeat", [3600.0, 900.0])
def test_heartbeat_spacing(heartbeat: float) -> None:
    # A constant signal under a deadband reports exactly every heartbeat.
    spec = HistorianSpec(60.0, heartbeat, {"temperature": 2.0})
    h = Historian(["TC"], spec, {"TC": "temperature"})
    t = np.arange(0.0, 5 * 86400.0, 60.0)
    rt, _ = h.steady("TC", t, np.full(t.size, 800.0))
    np.testing.assert_allclose(np.diff(rt), heartbeat)
    assert rt.size == int(t[-1] // heartbeat) + 1


def test_a_year_of_steady_scans_is_cheap() -> None:
    # 525,960 scans of one sensor at 60 s, 0.2 K noise under a 2 K deadband.
    t = np.arange(0.0, 365.25 * 86400.0, 60.0)
    v = 800.0 + 0.2 * np.random.default_rng(3).standard_normal(t.size)
    h = _historian()
    t0 = time.perf_counter()
    rt, rv = h.steady("TC", t, v)
    took = time.perf_counter() - t0
    assert took < 0.5, took
    assert np.diff(rt).max() <= 3600.0
    # every scan lies within the deadband of the report in force before it
    k = np.searchsorted(rt, t, side="right") - 1
    assert np.all(np.abs(v - rv[k]) <= 2.0 + 1e-12)
