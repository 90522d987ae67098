"""Fixtures of the twin tests: the example component and a cached FEM truth library."""

from __future__ import annotations

import os
import pathlib

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "grade91_header.toml"

#: Sensors of the example and what of the FEM truth each reads.
SENSORS = {
    "TC-steam-01": ("fluid_temperature", ""),
    "PT-01": ("pressure", ""),
    "TC-outer-01": ("temperature", "outer"),
    "SG-outer-01": ("eps_theta", "outer"),
}
#: White noise of the synthetic readings, SI (as the example's [twin.sensors] state).
NOISE = {"TC-steam-01": 0.3, "PT-01": 0.02e6, "TC-outer-01": 0.5, "SG-outer-01": 5e-6}
T0 = 1.9e9  # epoch s of the first synthetic reading (2030)


@pytest.fixture(scope="session")
def example_config():
    from models.config import load_config

    return load_config(EXAMPLE)


@pytest.fixture(scope="session")
def truth_library(example_config, tmp_path_factory):
    """FEM truth runs (temperature-dependent properties), cached for the session.

    ``TWIN_TRUTH_CACHE`` names a persistent cache folder (the benchmarks use one).
    """
    from scenarios.truth import TruthLibrary

    cache = os.environ.get("TWIN_TRUTH_CACHE") or tmp_path_factory.mktemp("truth")
    return TruthLibrary(example_config, cache, time_step_s=30.0)


@pytest.fixture(scope="session")
def short_cycle():
    from scenarios.truth import Cycle

    return Cycle(ramp_h=2.0, hold_h=2.0, down_h=2.0, rest_h=1.0)


def make_readings(truth, *, cycles, seed, bias=None, every=1):
    from scenarios.truth import synthesize_readings

    return synthesize_readings(
        truth,
        cycles=cycles,
        t0=T0,
        sensors=SENSORS,
        noise=NOISE,
        bias=bias,
        rng=np.random.default_rng(seed),
        every=every,
    )


@pytest.fixture
def mosquitto(tmp_path):
    """A real Mosquitto on a free loopback port (persistence on), stopped after the test."""
    import shutil

    from sensors.broker import MosquittoBroker

    if shutil.which("mosquitto") is None:
        pytest.fail("mosquitto is not installed (apt-get install mosquitto)")
    broker = MosquittoBroker(tmp_path / "mosquitto", persistence=True)
    broker.start()
    yield broker
    broker.stop()
