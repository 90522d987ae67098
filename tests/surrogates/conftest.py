"""Fixtures of the surrogate tests: pinned torch threads, the closed-form reference data."""

from __future__ import annotations

import numpy as np
import pytest

from surrogates.analytic import ANALYTIC_BOUNDS, bore_hoop_stress
from surrogates.design import design_points


@pytest.fixture(autouse=True, scope="session")
def _torch_threads() -> None:
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def cylinder_data() -> dict[str, np.ndarray]:
    """64 Sobol training and 300 uniform held-out points of the Lame + thermal hoop stress."""
    rng = np.random.default_rng(20261125)
    X = design_points(ANALYTIC_BOUNDS, 64, method="sobol", rng=rng)
    Xt = design_points(ANALYTIC_BOUNDS, 300, method="random", rng=rng)
    return {"X": X, "y": bore_hoop_stress(X), "Xt": Xt, "yt": bore_hoop_stress(Xt)}


@pytest.fixture(scope="session")
def cylinder_gp(cylinder_data: dict[str, np.ndarray]):  # type: ignore[no-untyped-def]
    from surrogates.gp import GPSurrogate

    return GPSurrogate(bounds=ANALYTIC_BOUNDS).fit(cylinder_data["X"], cylinder_data["y"])
