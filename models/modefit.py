r"""One set of time constants for every output: the mode fit the mode surrogate learns.

Every output of the linearised model is a linear functional of the same temperature
field, whose step response is a series over the same conduction eigenmodes
:math:`e^{-t/\tau_i}` (Carslaw and Jaeger, *Conduction of Heat in Solids*, 2nd ed.,
1959, ch. VII). Fitting each output on its own
(:func:`models.responses.fit_modes`) lets two time constants of one output coincide
with huge amplitudes of opposite sign (measured on the example header: the outer
hoop stress came out as :math:`\mp 6.5 \times 10^9` Pa/K at 28.0 s and 28.0 s for a
response peaking at :math:`6 \times 10^5` Pa/K), which no GP can learn across a
parameter box. Here the time constants are shared by all outputs of a point and
fitted once by variable projection over all of them (each normalised by its peak);
the amplitudes are then linear least-squares projections, smooth in the parameters,
constrained so that their sum (the static gain) equals the settled end of the FEM step
response: at a steady hold the modal model reads the exact steady state.

Outputs that are numerically zero (the radial stress at a free surface: a traction
boundary condition sampled from a finite-element stress) are weighted by a floor of
5 % of the largest peak of the same unit, so their noise does not steer the time
constants.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from models.errors import ModelInputError

__all__ = ["SharedModes", "fit_shared_modes"]

_FLOOR = 0.05  # weight floor: fraction of the largest peak of the same unit
_DISTINCT = math.log(1.05)  # time constants closer than 5 % are merged


@dataclass(frozen=True)
class SharedModes:
    """Step responses ``g_o(t) = sum_i b_oi (1 - exp(-t / tau_i))`` with shared ``tau_i``.

    Attributes
    ----------
    time_constants : numpy.ndarray, shape (m,)
        Shared time constants in s, increasing.
    amplitudes : dict
        ``{(output, location): b (m,)}`` per K.
    pressure_gain : dict
        ``{(output, location): gain}`` per Pa (instantaneous).
    fit_error : dict
        ``{(output, location): rms misfit / max |g|}`` of the step response.
    """

    time_constants: NDArray[np.float64]
    amplitudes: dict[tuple[str, str], NDArray[np.float64]]
    pressure_gain: dict[tuple[str, str], float]
    fit_error: dict[tuple[str, str], float]


def fit_shared_modes(
    responses: Any, keys: Sequence[tuple[str, str]], *, n_modes: int
) -> SharedModes:
    """Fit the unit responses of ``keys`` with ``n_modes`` shared time constants.

    Parameters
    ----------
    responses : xarray.Dataset
        Output of :func:`models.responses.unit_responses`.
    keys : sequence of (output, location)
        Outputs to fit (all of them shape the time constants).
    n_modes : int
        Number of modes (fewer distinct ones when two fitted time constants fall
        within 5 %: the extra mode is kept with amplitude 0 and a time constant ten
        times the largest).

    Returns
    -------
    SharedModes
    """
    from scipy.optimize import least_squares

    from models.responses import RESPONSE_OUTPUTS

    if n_modes < 1:
        raise ModelInputError(f"n_modes: must be >= 1, got {n_modes}; fit at least one mode")
    t = np.asarray(responses["time"].values, dtype=np.float64)
    G = np.stack(
        [
            np.asarray(responses[o].sel(input="fluid_temperature", location=loc).values, float)
            for o, loc in keys
        ]
    )
    peak = np.abs(G).max(axis=1)
    by_unit: dict[str, float] = {}
    for (o, _), s in zip(keys, peak, strict=True):
        unit = RESPONSE_OUTPUTS[o]
        by_unit[unit] = max(by_unit.get(unit, 0.0), float(s))
    weight = np.array(
        [
            max(float(s), _FLOOR * by_unit[RESPONSE_OUTPUTS[o]], 1e-300)
            for (o, _), s in zip(keys, peak, strict=True)
        ]
    )
    Y = (G / weight[:, None]).T  # (time, outputs)
    t_pos = t[t > 0]
    lo, hi = math.log(t_pos[0] / 10.0), math.log(10.0 * t[-1])

    def basis(theta: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(1.0 - np.exp(-t[:, None] / np.exp(theta)[None, :]), dtype=np.float64)

    Y_end = Y[-1]  # the response has settled (>= 14 slowest time constants): static gain

    def amplitudes(Phi: NDArray[np.float64]) -> NDArray[np.float64]:
        # least squares with sum_i b_i = g(t_end) exactly (eliminate the last amplitude),
        # so a hold reads the exact steady state (a thermocouple bias is not absorbed)
        last = Phi[:, -1:]
        first, *_ = np.linalg.lstsq(Phi[:, :-1] - last, Y - last * Y_end, rcond=None)
        return np.vstack([first, Y_end - first.sum(axis=0)])

    def resid(theta: NDArray[np.float64]) -> NDArray[np.float64]:
        Phi = basis(theta)
        return np.asarray((Phi @ amplitudes(Phi) - Y).ravel(), dtype=np.float64)

    def fit(m: int) -> tuple[NDArray[np.float64], float]:
        best = None
        for first, last in ((3.0, 0.3), (1.0, 0.1), (10.0, 1.0)):
            theta0 = np.linspace(math.log(t_pos[0] * first), math.log(t[-1] * last), m)
            sol = least_squares(resid, theta0, bounds=(lo, hi), max_nfev=400)
            if best is None or sol.cost < best.cost:
                best = sol
        assert best is not None
        return np.sort(best.x), float(best.cost)

    theta, _ = fit(n_modes)
    m = n_modes
    while m > 1 and np.any(np.diff(theta) < _DISTINCT):
        m -= 1
        theta, _ = fit(m)
    Phi = basis(theta)
    coef = amplitudes(Phi)
    misfit = (Phi @ coef - Y) * weight[None, :] / np.maximum(peak, 1e-300)[None, :]
    amps = coef * weight[None, :]  # (m, outputs)
    taus = np.exp(theta)
    if m < n_modes:  # padded modes: amplitude 0, slower than every fitted mode
        pad = n_modes - m
        taus = np.concatenate([taus, taus[-1] * 10.0 ** np.arange(1, pad + 1)])
        amps = np.vstack([amps, np.zeros((pad, len(keys)))])
    gains = {
        (o, loc): float(np.mean(responses[o].sel(input="pressure", location=loc).values))
        for o, loc in keys
    }
    return SharedModes(
        time_constants=taus,
        amplitudes={k: np.array(amps[:, j]) for j, k in enumerate(keys)},
        pressure_gain=gains,
        fit_error={
            k: float(np.sqrt(np.mean(misfit[:, j] ** 2))) if peak[j] > 0 else 0.0
            for j, k in enumerate(keys)
        },
    )
