r"""Material scatter for Monte Carlo life forecasts, and the vectorised damage sum.

Two scatter models, both multiplicative in life so that a forecast over many samples
needs the life law only once per load block:

* fatigue: :math:`N_f^{(i)} = N_f \cdot 10^{z_i s}`, :math:`z_i \sim \mathcal N(0,1)`
  (log-normal life scatter with standard deviation :math:`s` in log10 cycles);
* creep: the Larson-Miller constant :math:`C^{(i)} = C + z_i s_C`, which moves
  :math:`\log_{10} t_R` by :math:`-z_i s_C` at every stress and temperature.

:func:`fatigue_creep_damage` uses that structure: the Miner and Robinson sums are
computed once over the blocks and scaled per sample, which is exact for these models
(checked against the brute-force sample-by-block evaluation in the tests).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from models.errors import LawInputError
from models.life._validate import as_finite, check_sign
from models.life.creep import LarsonMillerCurve, robinson_fraction
from models.life.fatigue import BelowRange, StrainLifeConstants, cycles_to_failure, miner_damage

__all__ = [
    "fatigue_creep_damage",
    "larson_miller_scatter_from_bounds",
    "sample_larson_miller_constant",
    "sample_life_factors",
]


def _check_rng(rng: object) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise LawInputError(
            f"rng: must be a numpy.random.Generator; got {type(rng).__name__}. "
            "Pass numpy.random.default_rng(seed)."
        )
    return rng


def sample_life_factors(
    rng: np.random.Generator, size: int, *, log10_std: float
) -> NDArray[np.float64]:
    r"""Draw log-normal life multipliers :math:`10^{z s}`.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source (no global state is used).
    size : int
        Number of samples.
    log10_std : float
        Standard deviation of :math:`\log_{10} N_f` (>= 0).
    """
    g = _check_rng(rng)
    if not (np.isfinite(log10_std) and log10_std >= 0):
        raise LawInputError(f"log10_std: must be finite and >= 0; got {log10_std!r}.")
    return np.asarray(10.0 ** (log10_std * g.standard_normal(size)), dtype=np.float64)


def sample_larson_miller_constant(
    rng: np.random.Generator, size: int, *, curve: LarsonMillerCurve, std: float
) -> NDArray[np.float64]:
    r"""Draw Larson-Miller constants :math:`C + z\,s_C`, normal about the curve's C."""
    g = _check_rng(rng)
    if not (np.isfinite(std) and std >= 0):
        raise LawInputError(f"std: must be finite and >= 0; got {std!r}.")
    return np.asarray(curve.C + std * g.standard_normal(size), dtype=np.float64)


def larson_miller_scatter_from_bounds(
    curve: LarsonMillerCurve,
    lower_coefficients: tuple[float, ...],
    *,
    stress: float,
    temperature: float,
    n_sigma: float = 2.0,
) -> float:
    r"""Return the std of C implied by a lower-bound curve lying ``n_sigma`` below the mean.

    At the given stress and temperature, the two curves differ by
    :math:`\Delta\log_{10} t_R = \Delta P / T`; that shift is ``n_sigma`` standard
    deviations of C.
    """
    low = LarsonMillerCurve(
        C=curve.C,
        coefficients=tuple(lower_coefficients),
        powers=curve.powers,
        temperature_range=curve.temperature_range,
        stress_range=curve.stress_range,
        form=curve.form,
        parameter_bracket=curve.parameter_bracket,
    )
    shift = (curve.parameter(stress) - low.parameter(stress)) / temperature
    return float(shift) / n_sigma


def fatigue_creep_damage(
    *,
    strain_amplitude: ArrayLike,
    cycle_counts: ArrayLike,
    strain_life_constants: StrainLifeConstants,
    hold_durations: ArrayLike,
    hold_stress: ArrayLike,
    hold_temperature: ArrayLike,
    rupture_curve: LarsonMillerCurve,
    life_factor: ArrayLike,
    C: ArrayLike,
    extrapolate: bool = False,
    below_range: BelowRange = "raise",
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return fatigue (Miner) and creep (Robinson) damage for every Monte Carlo sample.

    Parameters
    ----------
    strain_amplitude, cycle_counts : array_like, shape (cycles,)
        Strain amplitude and count (1.0 or 0.5) of each counted cycle.
    strain_life_constants : StrainLifeConstants
        Mean strain-life constants.
    hold_durations, hold_stress, hold_temperature : array_like, shape (holds,)
        Creep holds: duration (s), stress (Pa), temperature (K).
    rupture_curve : LarsonMillerCurve
        Mean rupture curve.
    life_factor : array_like, shape (samples,)
        Fatigue life multipliers (:func:`sample_life_factors`).
    C : array_like, shape (samples,)
        Larson-Miller constants (:func:`sample_larson_miller_constant`).
    extrapolate : bool, optional
        Passed to the laws.
    below_range : {"raise", "endurance", "limit"}, optional
        Passed to :func:`~models.life.fatigue.cycles_to_failure`.

    Returns
    -------
    fatigue, creep : numpy.ndarray, shape (samples,)
        Damage fractions per sample.
    """
    lf = check_sign("life_factor", as_finite("life_factor", life_factor), strict=True)
    cs = as_finite("C", C)
    if lf.shape != cs.shape:
        raise LawInputError(
            f"C: must have the shape of life_factor {lf.shape}; got {cs.shape}. "
            "Draw both for the same samples."
        )
    nf = cycles_to_failure(
        strain_amplitude,
        constants=strain_life_constants,
        extrapolate=extrapolate,
        below_range=below_range,
    )
    df = miner_damage(cycle_counts, nf)
    dc = robinson_fraction(
        hold_durations, hold_stress, hold_temperature, curve=rupture_curve,
        extrapolate=extrapolate,
    )  # fmt: skip
    return df / lf, dc * 10.0 ** (cs - rupture_curve.C)
