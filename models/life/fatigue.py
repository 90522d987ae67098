r"""Strain-life fatigue: Coffin-Manson-Basquin with mean-stress corrections, Miner's rule.

Coffin-Manson-Basquin (Basquin 1910; Coffin 1954; Manson 1954), strain amplitude
:math:`\varepsilon_a` against reversals :math:`2N_f`:

.. math:: \varepsilon_a = \frac{\sigma_f'}{E}(2N_f)^b + \varepsilon_f'(2N_f)^c

Mean-stress corrections (as in Dowling, *Mechanical Behavior of Materials*, ch. 14):

* Morrow: :math:`\varepsilon_a = \frac{\sigma_f' - \sigma_m}{E}(2N_f)^b + \varepsilon_f'(2N_f)^c`
* Smith-Watson-Topper: :math:`\sigma_{max}\varepsilon_a = \frac{\sigma_f'^2}{E}(2N_f)^{2b}
  + \sigma_f'\varepsilon_f'(2N_f)^{b+c}`; no fatigue damage when :math:`\sigma_{max} \le 0`.

:math:`N_f` is solved by Newton's method on :math:`y = \ln 2N_f`, vectorised over any
number of samples. Miner's rule: :math:`D_f = \sum n_i / N_{f,i}`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from models.errors import LawInputError, SolverDivergedError
from models.life._data import law_data
from models.life._validate import as_finite, check_range, check_sign

__all__ = ["StrainLifeConstants", "cycles_to_failure", "miner_damage", "strain_life"]

Correction = Literal["none", "morrow", "swt"]
BelowRange = Literal["raise", "endurance", "limit"]


@dataclass(frozen=True)
class StrainLifeConstants:
    r"""Coffin-Manson-Basquin constants (arrays broadcast over samples).

    Attributes
    ----------
    sigma_f : numpy.ndarray
        Fatigue strength coefficient :math:`\sigma_f'` (Pa).
    b : numpy.ndarray
        Fatigue strength exponent (< 0).
    eps_f : numpy.ndarray
        Fatigue ductility coefficient :math:`\varepsilon_f'` (dimensionless).
    c : numpy.ndarray
        Fatigue ductility exponent (< 0).
    E : numpy.ndarray
        Young's modulus (Pa).
    strain_amplitude_range : tuple of float
        Calibrated strain amplitudes.
    source : str
        Citation.
    """

    sigma_f: NDArray[np.float64]
    b: NDArray[np.float64]
    eps_f: NDArray[np.float64]
    c: NDArray[np.float64]
    E: NDArray[np.float64]
    strain_amplitude_range: tuple[float, float] = (0.0, np.inf)
    source: str = ""

    @classmethod
    def from_values(
        cls,
        *,
        sigma_f: ArrayLike,
        b: ArrayLike,
        eps_f: ArrayLike,
        c: ArrayLike,
        E: ArrayLike,
        strain_amplitude_range: tuple[float, float] = (0.0, np.inf),
        source: str = "",
    ) -> StrainLifeConstants:
        """Build validated constants (positive coefficients, negative exponents)."""
        sf = check_sign("sigma_f", as_finite("sigma_f", sigma_f), strict=True, unit="Pa")
        ef = check_sign("eps_f", as_finite("eps_f", eps_f), strict=True)
        e = check_sign("E", as_finite("E", E), strict=True, unit="Pa")
        bb = as_finite("b", b)
        cc = as_finite("c", c)
        for name, arr in (("b", bb), ("c", cc)):
            if (arr >= 0).any():
                raise LawInputError(
                    f"{name}: must be < 0; got {arr.ravel()[np.argmax(arr.ravel() >= 0)]}. "
                    "Exponents of the strain-life curve are negative."
                )
        return cls(sf, bb, ef, cc, e, strain_amplitude_range, source)


def strain_life(
    material: str, temperature: ArrayLike, *, extrapolate: bool = False
) -> StrainLifeConstants:
    """Return a material's Coffin-Manson-Basquin constants at ``temperature`` (K).

    Constants are interpolated linearly in temperature between the tabulated ones. A
    table with a single temperature (one design curve) gives the same constants
    everywhere; other temperatures then need ``extrapolate=True``.

    Raises
    ------
    UnknownMaterialError
        If the material is unknown or has no cited constants.
    LawInputError
        If a temperature is outside the table and ``extrapolate`` is false.
    """
    d = law_data(material, "strain_life")
    T = as_finite("temperature", temperature)
    tk = np.asarray(d["temperature_K"], dtype=np.float64)
    check_range(
        "temperature", T, low=float(tk[0]), high=float(tk[-1]), unit="K",
        extrapolate=extrapolate, what=f"{material} strain-life constants",
    )  # fmt: skip

    def interp(key: str) -> NDArray[np.float64]:
        vals = np.asarray(d[key], dtype=np.float64)
        if tk.size == 1:  # one curve: nothing to interpolate or continue
            return np.full(T.shape, vals[0], dtype=np.float64)
        out = np.interp(T, tk, vals)
        if extrapolate:  # linear continuation of the end segments, not a clamp
            lo, hi = T < tk[0], T > tk[-1]
            out = np.where(lo, vals[0] + (T - tk[0]) * (vals[1] - vals[0]) / (tk[1] - tk[0]), out)
            out = np.where(
                hi, vals[-1] + (T - tk[-1]) * (vals[-1] - vals[-2]) / (tk[-1] - tk[-2]), out
            )
        return np.asarray(out, dtype=np.float64)

    rng = d.get("strain_amplitude_range", [0.0, np.inf])
    return StrainLifeConstants.from_values(
        sigma_f=interp("sigma_f_Pa"),
        b=interp("b"),
        eps_f=interp("eps_f"),
        c=interp("c"),
        E=interp("E_Pa"),
        strain_amplitude_range=(float(rng[0]), float(rng[1])),
        source=str(d["source"]),
    )


def cycles_to_failure(
    strain_amplitude: ArrayLike,
    *,
    constants: StrainLifeConstants,
    correction: Correction = "none",
    mean_stress: ArrayLike = 0.0,
    max_stress: ArrayLike | None = None,
    extrapolate: bool = False,
    below_range: BelowRange = "raise",
    rtol: float = 1e-12,
    max_iter: int = 60,
) -> NDArray[np.float64]:
    r"""Solve the strain-life equation for the cycles to failure :math:`N_f`.

    Parameters
    ----------
    strain_amplitude : array_like
        Total strain amplitude :math:`\Delta\varepsilon/2` (dimensionless), >= 0.
    constants : StrainLifeConstants
        Material constants (broadcast with the inputs).
    correction : {"none", "morrow", "swt"}, optional
        Mean-stress correction.
    mean_stress : array_like, optional
        Mean stress (Pa) for Morrow; must be below :math:`\sigma_f'`.
    max_stress : array_like, optional
        Peak stress (Pa) for SWT (required with ``"swt"``).
    extrapolate : bool, optional
        Accept amplitudes outside the constants' calibrated range (the curve is then
        used as it is, both below and above the range).
    below_range : {"raise", "endurance", "limit"}, optional
        What to do, when not extrapolating, with positive amplitudes below the
        calibrated minimum (small cycles of a measured history): refuse them
        (default); treat them as below the endurance limit (infinite life); or give
        them the life at the calibrated minimum (conservative, as srlife does at its
        design-curve cutoff). The choice is the caller's, never implicit.
    rtol : float, optional
        Convergence tolerance on :math:`\ln 2N_f`.
    max_iter : int, optional
        Newton iteration limit.

    Returns
    -------
    numpy.ndarray
        Cycles to failure; ``inf`` for zero amplitude (and for SWT with
        :math:`\sigma_{max} \le 0`, where the model predicts no damage).

    Raises
    ------
    LawInputError
        On NaN/inf, negative amplitudes, amplitudes out of range, Morrow mean stress
        at or above :math:`\sigma_f'`, or a missing ``max_stress`` for SWT.
    SolverDivergedError
        If Newton does not converge (not expected: the residual is monotone and
        nearly linear in :math:`\ln 2N_f`).
    """
    ea = check_sign("strain_amplitude", as_finite("strain_amplitude", strain_amplitude))
    lo, hi = constants.strain_amplitude_range
    if below_range not in ("raise", "endurance", "limit"):
        raise LawInputError(
            f"below_range: must be 'raise', 'endurance' or 'limit'; got {below_range!r}."
        )
    small = (ea > 0) & (ea < lo) & (not extrapolate) & (below_range != "raise")
    if below_range == "limit" and small.any():
        ea = np.where(small, lo, ea)
    checked = ea[(ea > 0) & ~small]
    if checked.size:
        check_range(
            "strain_amplitude", checked, low=lo, high=hi, unit="",
            extrapolate=extrapolate, what="the strain-life constants",
        )  # fmt: skip
    sf, b, ef, c, E = constants.sigma_f, constants.b, constants.eps_f, constants.c, constants.E
    if correction == "none":
        A = sf / E
        target = ea
        p, q, B = b, c, ef
    elif correction == "morrow":
        sm = as_finite("mean_stress", mean_stress)
        if (sm >= sf).any():
            raise LawInputError(
                "mean_stress: Morrow needs mean_stress < sigma_f'; got max "
                f"{float(np.max(sm))} Pa. "
                "Check units (Pa) or use the SWT correction."
            )
        A = (sf - sm) / E
        target = ea
        p, q, B = b, c, ef
    elif correction == "swt":
        if max_stress is None:
            raise LawInputError("max_stress: required for correction='swt'; got None. Pass Pa.")
        smax = as_finite("max_stress", max_stress)
        A = sf**2 / E
        B = sf * ef
        p, q = 2 * b, b + c
        target = np.where(smax > 0, smax, 0.0) * ea
    else:
        raise LawInputError(f"correction: must be 'none', 'morrow' or 'swt'; got {correction!r}.")
    A, B, p, q, target = np.broadcast_arrays(A, B, p, q, target)
    out = np.full(target.shape, np.inf)
    live = target > 0
    if not live.any():
        return out
    A, B, p, q, t = A[live], B[live], p[live], q[live], target[live]
    # Start from the smaller of the elastic-only and plastic-only solutions (in y).
    ye = np.log(t / A) / p
    yp = np.log(t / B) / q
    y = np.minimum(ye, yp)
    lt = np.log(t)
    for _ in range(max_iter):
        e1 = A * np.exp(p * y)
        e2 = B * np.exp(q * y)
        s = e1 + e2
        f = np.log(s) - lt
        df = (p * e1 + q * e2) / s
        step = f / df
        y = y - step
        if np.all(np.abs(step) <= rtol * np.maximum(1.0, np.abs(y))):
            break
    else:
        raise SolverDivergedError(
            f"strain-life Newton did not converge in {max_iter} iterations "
            f"(largest step {float(np.max(np.abs(step)))}).",
            step=max_iter,
            time=0.0,
            residual=float(np.max(np.abs(f))),
        )
    out[live] = 0.5 * np.exp(y)
    if below_range == "endurance" and small.any():
        out = np.where(np.broadcast_to(small, out.shape), np.inf, out)
    return out


def miner_damage(
    counts: ArrayLike, cycles_to_failure: ArrayLike, *, axis: int = -1
) -> NDArray[np.float64]:
    r"""Return Miner's sum :math:`\sum n_i / N_{f,i}` along ``axis``.

    Parameters
    ----------
    counts : array_like
        Applied cycles per block (0.5 for half cycles), >= 0.
    cycles_to_failure : array_like
        Cycles to failure per block (> 0, ``inf`` allowed for no damage).
    axis : int, optional
        Axis summed over.
    """
    n = check_sign("counts", as_finite("counts", counts))
    nf = np.asarray(cycles_to_failure, dtype=np.float64)
    if np.isnan(nf).any() or (nf <= 0).any():
        raise LawInputError(
            "cycles_to_failure: must be > 0 (inf allowed) and not NaN; got "
            f"min {float(np.nanmin(nf)) if nf.size else 'n/a'}. Check the life law."
        )
    return np.sum(n / nf, axis=axis)
