"""The life laws as the damage account evaluates them: vectorised, with explicit range rules.

Each class wraps a law of :mod:`models.life` (or a property of :mod:`models.materials`)
and adds the rule the twin needs where a history leaves the law's calibrated range:
nothing is clipped silently, and what is refused raises
:class:`~twin.errors.TwinInputError` naming the field, the particle, the sample and the
value. The rupture rate avoids the Larson-Miller curve's bisection where the curve's
polynomial can be inverted in closed form (checked against
:meth:`models.life.LarsonMillerCurve.rupture_time` in the tests).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from models.errors import LawInputError
from models.life import (
    LarsonMillerCurve,
    ParabolicOxidation,
    StrainLifeConstants,
    cycles_to_failure,
    strain_life,
)
from models.life.creep import GAS_CONSTANT
from twin.errors import TwinConfigError, TwinInputError

__all__ = ["FatigueLaw", "Modulus", "OxidationRate", "RuptureRate", "first_bad", "where"]

F64 = NDArray[np.float64]
_LN10 = math.log(10.0)
_LN_HOUR = math.log(3600.0)


def first_bad(mask: NDArray[np.bool_]) -> tuple[int, ...]:
    """Return the index (particle, sample, ...) of the first true element of ``mask``."""
    flat = int(np.flatnonzero(mask.ravel())[0])
    return tuple(int(i) for i in np.unravel_index(flat, mask.shape))


def where(field: str, index: tuple[int, ...], offset: int = 0) -> str:
    """Format ``field[particle i, sample k]`` for an index (particle shifted by ``offset``)."""
    if len(index) == 2:
        return f"{field}[particle {index[0] + offset}, sample {index[1]}]"
    return f"{field}[{', '.join(str(i) for i in index)}]"


class Modulus:
    """Young's modulus E(T) of a material (Pa), as :mod:`models.materials` tabulates it.

    The table's own piecewise-linear interpolation (``numpy.interp`` on the same knots,
    or the same formula compiled); the range check is the caller's.
    """

    def __init__(self, material: str) -> None:
        from models.materials import get_material

        table = get_material(material).tables["E"]
        self.range = table.range
        xp = np.asarray(table.temperature, dtype=np.float64)
        fp = np.asarray(table.values, dtype=np.float64)
        #: The table's knots (K), values (Pa) and segment slopes, for the compiled
        #: interpolation (``numpy.interp``'s slopes and formula).
        self.table = (xp, fp, np.diff(fp) / np.diff(xp))

    def __call__(self, T: F64) -> F64:
        """Return E at the temperatures ``T`` (K), which must lie in :attr:`range`."""
        return np.asarray(np.interp(T, *self.table[:2]), dtype=np.float64)

    def refuse(self, T: F64, *, field: str, offset: int = 0) -> None:
        """Raise for the first temperature that is not finite, not > 0 or off the table."""
        lo, hi = self.range
        checks = (
            (~np.isfinite(T), "must be finite"),
            (T <= 0.0, "must be > 0 (K)"),
            (
                (T < lo) | (T > hi),
                f"is outside the modulus table {lo:.2f}-{hi:.2f} K of the "
                "material; check the metal temperature (K, not degC)",
            ),
        )
        for bad, rule in checks:
            if bad.any():
                idx = first_bad(bad)
                raise TwinInputError(f"{where(field, idx, offset)}: {float(T[idx])!r} K {rule}.")


class RuptureRate:
    r"""Creep rupture rate :math:`1/t_R(\sigma, T)` (1/s) from a Larson-Miller curve.

    Parameters
    ----------
    curve : models.life.LarsonMillerCurve
        Rupture curve.
    cutoff : float
        Metal temperature (K) below which no creep damage is counted.
    below_range : {"limit", "zero"}
        Stresses below the curve's calibrated minimum: rupture time at that minimum
        (conservative) or no damage.
    extrapolate : bool
        Accept stresses and temperatures above the calibrated ranges (the curve as it
        is; never beyond the stress its polynomial reaches).
    """

    def __init__(
        self,
        curve: LarsonMillerCurve,
        *,
        cutoff: float,
        below_range: Literal["limit", "zero"],
        extrapolate: bool,
    ) -> None:
        self.curve = curve
        self.cutoff = float(cutoff)
        self.below_range = below_range
        self.extrapolate = bool(extrapolate)
        self.s_lo, self.s_hi = curve.stress_range
        self.T_hi = curve.temperature_range[1]
        self._quadratic = curve.form == "log_stress" and sorted(curve.powers) == [0, 1, 2]
        if curve.form == "log_stress":
            br = curve.parameter_bracket
            assert br is not None  # LarsonMillerCurve checks it
            top = sum(a * br[0] ** n for a, n in zip(curve.coefficients, curve.powers, strict=True))
            self.s_cap = 1.0e6 * 10.0**top  # the largest stress the curve reaches
        else:
            self.s_cap = math.inf
        if self._quadratic:
            c = dict(zip(curve.powers, curve.coefficients, strict=True))
            a2, a1, a0 = c[2], c[1], c[0]
            # Falling branch of log10(s/MPa) = a2 P^2 + a1 P + a0 (a2 < 0), the larger
            # root: P = Pv + sqrt(K0 + K1 x) / (2|a2|), x = log10(s/MPa), which is
            # P = Pv + sqrt((ln s_v - ln s) |K1| / ln 10) / (2|a2|), s_v the vertex stress.
            self._Pv = -a1 / (2.0 * a2)
            self._K0 = a1 * a1 - 4.0 * a2 * a0
            self._K1 = 4.0 * a2
            self._inv = 1.0 / (2.0 * abs(a2))
            self._ln_sv = (6.0 - self._K0 / self._K1) * _LN10
            self._k_sqrt = _LN10 * self._inv * math.sqrt(abs(self._K1) / _LN10)
            if not self.s_cap < math.exp(self._ln_sv):  # pragma: no cover - bracket checked
                raise TwinConfigError("parameter_bracket reaches the vertex of the rupture curve")

    def parameter(self, s: F64) -> F64:
        """Return the Larson-Miller parameter at stresses ``s`` (Pa, inside the curve)."""
        if self._quadratic:
            x = np.log10(s) - 6.0
            disc = self._K0 + self._K1 * x
            return np.asarray(self._Pv + np.sqrt(np.maximum(disc, 0.0)) * self._inv)
        if self.curve.form == "parameter":
            x = np.log10(s) - 6.0
            p = np.zeros_like(x)
            for a, n in zip(self.curve.coefficients, self.curve.powers, strict=True):
                p = p + a * x**n
            return p
        return self.curve.parameter(s, extrapolate=True)  # pragma: no cover - no such data yet

    def rate(
        self,
        sigma: F64,
        T: F64,
        *,
        smin: float,
        smax: float,
        tmin: float,
        tmax: float,
        field: str,
        offset: int = 0,
    ) -> F64 | None:
        """Return the rupture rate (1/s) at creep stresses ``sigma`` (Pa) and ``T`` (K).

        ``smin``, ``smax``, ``tmin`` and ``tmax`` are the extremes of ``sigma`` and ``T``
        (finite); ``sigma`` must be 0 where ``T`` is below the cut-off (the strain
        kernel does that) and is overwritten. Returns None when no sample is hot.

        Raises
        ------
        TwinInputError
            If a loaded, hot sample lies above the curve's calibrated stress or
            temperature (without ``extrapolate``), or beyond the curve's reach.
        """
        if tmax < self.cutoff:
            return None
        limit = self.s_cap if self.extrapolate else min(self.s_hi, self.s_cap)
        zero_rule = self.below_range == "zero"
        if smax > limit or (not self.extrapolate and tmax > self.T_hi):
            live = (T >= self.cutoff) & ((sigma >= self.s_lo) if zero_rule else (sigma > 0.0))
            self._refuse(sigma, T, live, limit, field, offset)
        dead: NDArray[np.bool_] | None = None
        if not (smin >= self.s_lo if zero_rule else smin > 0.0):  # cold samples have 0
            dead = (sigma < self.s_lo) if zero_rule else (sigma <= 0.0)
        r = np.maximum(sigma, self.s_lo, out=sigma)
        if self._quadratic:
            np.log(r, out=r)
            np.subtract(self._ln_sv, r, out=r)
            np.sqrt(r, out=r)
            r *= self._k_sqrt
            r += _LN10 * self._Pv  # ln10 * P
        else:
            r = _LN10 * self.parameter(r)
        r /= T
        np.subtract(_LN10 * self.curve.C - _LN_HOUR, r, out=r)
        if dead is not None:
            np.copyto(r, -np.inf, where=dead)
        return np.exp(r, out=r)

    def _refuse(
        self,
        sigma: F64,
        T: F64,
        live: NDArray[np.bool_],
        limit: float,
        field: str,
        offset: int,
    ) -> None:
        high = live & (sigma > limit)
        if high.any():
            idx = first_bad(high)
            what = "the curve's reach" if limit == self.s_cap else "its calibrated range"
            raise TwinInputError(
                f"{where(field, idx, offset)}: creep stress {float(sigma[idx]) / 1e6:.4g} MPa "
                f"at {float(T[idx]):.2f} K is above {what} ({limit / 1e6:.4g} MPa) of the "
                f"{self.curve.name} rupture curve; check the stress (Pa) and the SCF, or set "
                "extrapolate=True to use the curve above its calibrated range."
            )
        hot = live & (T > self.T_hi)
        if not self.extrapolate and hot.any():
            idx = first_bad(hot)
            raise TwinInputError(
                f"{where(field, idx, offset)}: metal temperature {float(T[idx]):.2f} K is above "
                f"the calibrated range (<= {self.T_hi:.2f} K) of the {self.curve.name} "
                "rupture curve; check the temperature or set extrapolate=True."
            )


class FatigueLaw:
    """Full-cycle fatigue damage :math:`1/N_f` of strain ranges, from the strain-life law.

    Parameters
    ----------
    material : str
        Material with strain-life constants in ``models/data/life``.
    below_range : {"endurance", "limit"}
        Amplitudes below the calibrated minimum: no damage (the design curves end at
        their lowest strain range) or the life at that minimum.
    extrapolate : bool
        Accept amplitudes above the calibrated range (and, for a material with curves
        at several temperatures, cycles hotter than the hottest curve).
    """

    def __init__(
        self, material: str, *, below_range: Literal["endurance", "limit"], extrapolate: bool
    ) -> None:
        from models.life._data import law_data

        d = law_data(material, "strain_life")
        self.material = material
        self.table_T = tuple(float(t) for t in d["temperature_K"])
        self.below_range = below_range
        self.extrapolate = bool(extrapolate)
        # One curve on file (Grade 91: 540 C): it is used at every temperature, which is
        # extrapolate=True in strain_life's terms (documented in twin.damage).
        self._single: StrainLifeConstants | None = None
        if len(self.table_T) == 1:
            self._single = strain_life(material, self.table_T[0], extrapolate=True)
            self.amplitude_range = self._single.strain_amplitude_range
        else:
            self.amplitude_range = strain_life(material, self.table_T[0]).strain_amplitude_range

    @property
    def min_range(self) -> float:
        """Smallest strain range that can do damage (0 unless below-range is "endurance")."""
        return 2.0 * self.amplitude_range[0] if self.below_range == "endurance" else 0.0

    def constants(self, T: F64) -> StrainLifeConstants:
        """Return the constants at cycle temperatures ``T`` (K)."""
        if self._single is not None:
            return self._single
        Tc = np.maximum(T, self.table_T[0])  # colder cycles: the coldest curve
        return strain_life(self.material, Tc, extrapolate=self.extrapolate)

    def damage(self, strain_range: F64, T: F64, *, field: str) -> F64:
        """Return :math:`1/N_f` for each strain range (full cycle) at temperatures ``T`` (K).

        Raises
        ------
        TwinInputError
            If an amplitude is above the calibrated range (without ``extrapolate``), or
            a cycle is hotter than the hottest curve of a multi-curve table.
        """
        amp = 0.5 * strain_range
        lo, hi = self.amplitude_range
        out = np.zeros(amp.shape)
        if self.below_range == "endurance":
            live = amp >= lo
        else:
            live = amp > 0.0
            amp = np.where(live & (amp < lo), lo, amp)
        if not live.any():
            return out
        a = amp[live]
        t = T[live]
        if not self.extrapolate and float(a.max()) > hi:
            i = int(np.argmax(a > hi))
            raise TwinInputError(
                f"{field}: equivalent strain range {2.0 * float(a[i]):.4g} (amplitude "
                f"{float(a[i]):.4g}) is above the calibrated amplitudes {lo:g}..{hi:g} of the "
                f"{self.material} strain-life law; check the stresses and SCF, or set "
                "extrapolate=True to use the curve beyond its range."
            )
        if self._single is None and not self.extrapolate and float(t.max()) > self.table_T[-1]:
            i = int(np.argmax(t > self.table_T[-1]))
            raise TwinInputError(
                f"{field}: cycle temperature {float(t[i]):.2f} K is above the hottest "
                f"strain-life curve ({self.table_T[-1]:.2f} K) of {self.material}; set "
                "extrapolate=True to continue the table linearly."
            )
        try:
            nf = cycles_to_failure(
                a, constants=self.constants(t), extrapolate=self.extrapolate, below_range="raise"
            )
        except LawInputError as err:
            raise TwinInputError(f"{field}: {err}") from err
        out[live] = 1.0 / nf
        return out


class OxidationRate:
    r"""Parabolic rate constant :math:`k_p(T) = k_0 e^{-Q/RT}` (m^2/s) with a cut-off.

    Parameters
    ----------
    law : models.life.ParabolicOxidation
        Oxidation constants.
    cutoff : float
        Metal temperature (K) below which no oxide grows.
    extrapolate : bool
        Accept temperatures above the calibrated range.
    """

    def __init__(self, law: ParabolicOxidation, *, cutoff: float, extrapolate: bool) -> None:
        self.law = law
        self.cutoff = float(cutoff)
        self.extrapolate = bool(extrapolate)
        self.T_hi = law.temperature_range[1]

    def rate(self, T: F64, *, tmin: float, tmax: float, field: str, offset: int = 0) -> F64 | None:
        """Return :math:`k_p` (m^2/s) at ``T`` (K), 0 below the cut-off; None if all 0."""
        if not self.extrapolate and tmax > self.T_hi:
            idx = first_bad(T > self.T_hi)
            raise TwinInputError(
                f"{where(field, idx, offset)}: metal temperature {float(T[idx]):.2f} K is above "
                f"the calibrated range (<= {self.T_hi:.2f} K) of the oxidation constants; "
                "check the temperature or set extrapolate=True."
            )
        if tmax < self.cutoff:
            return None
        g = np.divide(-self.law.Q / GAS_CONSTANT, T)
        np.exp(g, out=g)
        g *= self.law.k0
        if tmin < self.cutoff:
            np.copyto(g, 0.0, where=T < self.cutoff)
        return g
