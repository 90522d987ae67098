r"""Fatigue crack growth: the Paris law with an optional threshold.

.. math:: \frac{da}{dN} = C\,\Delta K^m \ \text{ for } \Delta K > \Delta K_{th}, \qquad
          \Delta K = Y\,\Delta\sigma\sqrt{\pi a}

(Paris and Erdogan, J. Basic Eng. 85, 1963, 528-534). With constant :math:`Y` and
constant amplitude the cycles from :math:`a_0` to :math:`a_f` integrate in closed form
(e.g. Dowling, *Mechanical Behavior of Materials*, 4th ed., eq. 11.33):

.. math:: N = \frac{a_f^{1-m/2} - a_0^{1-m/2}}{C\,(Y\Delta\sigma\sqrt\pi)^m\,(1-m/2)}
          \quad (m \ne 2), \qquad
          N = \frac{\ln(a_f/a_0)}{C\,(Y\Delta\sigma)^2\pi} \quad (m = 2).

Units: :math:`C` in m/cycle/(Pa·m^0.5)^m, :math:`\Delta K` in Pa·m^0.5, lengths in m,
stress ranges in Pa.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from models.errors import LawInputError
from models.life._validate import as_finite, check_sign

__all__ = ["ParisLaw"]


@dataclass(frozen=True)
class ParisLaw:
    r"""Paris-law crack growth with constant geometry factor.

    Attributes
    ----------
    C : float
        Paris coefficient, m/cycle/(Pa·m^0.5)^m.
    m : float
        Paris exponent (> 0).
    Y : float
        Geometry factor (dimensionless, > 0).
    threshold : float
        Threshold stress-intensity range :math:`\Delta K_{th}` (Pa·m^0.5); no growth
        at or below it. 0 disables it.
    """

    C: float
    m: float
    Y: float = 1.0
    threshold: float = 0.0

    def __post_init__(self) -> None:
        for name in ("C", "m", "Y"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v > 0):
                raise LawInputError(f"{name}: must be finite and > 0; got {v!r}.")
        if not (np.isfinite(self.threshold) and self.threshold >= 0):
            raise LawInputError(
                f"threshold: must be finite and >= 0 Pa*m^0.5; got {self.threshold!r}."
            )

    def delta_k(self, crack_length: ArrayLike, stress_range: ArrayLike) -> NDArray[np.float64]:
        r"""Return :math:`\Delta K = Y\Delta\sigma\sqrt{\pi a}` in Pa·m^0.5."""
        a = check_sign(
            "crack_length", as_finite("crack_length", crack_length), strict=True, unit="m"
        )
        ds = check_sign("stress_range", as_finite("stress_range", stress_range), unit="Pa")
        return self.Y * ds * np.sqrt(np.pi * a)

    def growth_rate(self, delta_k: ArrayLike) -> NDArray[np.float64]:
        """Return :math:`da/dN` (m/cycle) at ``delta_k`` (Pa·m^0.5); zero at or below threshold."""
        dk = check_sign("delta_k", as_finite("delta_k", delta_k), unit="Pa*m^0.5")
        return np.where(dk > self.threshold, self.C * dk**self.m, 0.0)

    def cycles_closed_form(
        self, initial_length: ArrayLike, final_length: ArrayLike, stress_range: ArrayLike
    ) -> NDArray[np.float64]:
        r"""Return constant-amplitude cycles to grow from ``initial_length`` to ``final_length``.

        ``inf`` where :math:`\Delta K(a_0)` is at or below the threshold (no growth).
        """
        a0 = check_sign("initial_length", as_finite("initial_length", initial_length), strict=True)
        af = check_sign("final_length", as_finite("final_length", final_length), strict=True)
        ds = check_sign("stress_range", as_finite("stress_range", stress_range), unit="Pa")
        if (af < a0).any():
            raise LawInputError(
                "final_length: must be >= initial_length; got "
                f"{float(np.min(af - a0))} m shorter. Swap the arguments."
            )
        k = self.C * (self.Y * ds * np.sqrt(np.pi)) ** self.m
        with np.errstate(divide="ignore"):
            if abs(self.m - 2.0) < 1e-12:
                n = np.log(af / a0) / k
            else:
                e = 1.0 - self.m / 2.0
                n = (af**e - a0**e) / (k * e)
        stalled = self.delta_k(a0, ds) <= self.threshold
        return np.where(stalled & (af > a0), np.inf, n)

    def cycles_numerical(
        self, initial_length: float, final_length: float, stress_range: float
    ) -> float:
        r"""Return constant-amplitude cycles by quadrature of :math:`dN = da / (C\Delta K^m)`."""
        from scipy.integrate import quad

        a0 = float(initial_length)
        af = float(final_length)
        ds = float(stress_range)
        if float(self.delta_k(a0, ds)) <= self.threshold:
            return float("inf")

        def dn_da(a: float) -> float:
            return float(1.0 / (self.C * (self.Y * ds * math.sqrt(math.pi * a)) ** self.m))

        val, _err = quad(dn_da, a0, af, epsabs=0.0, epsrel=1e-12, limit=200)
        return float(val)

    def grow(
        self, initial_length: ArrayLike, stress_ranges: ArrayLike, *, counts: ArrayLike = 1.0
    ) -> NDArray[np.float64]:
        """Grow cracks cycle block by cycle block under variable amplitude.

        Parameters
        ----------
        initial_length : array_like, shape (samples,)
            Initial crack lengths (m).
        stress_ranges : array_like, shape (blocks,)
            Stress range of each block (Pa), in the order applied.
        counts : array_like, shape (blocks,), optional
            Cycles per block (e.g. rainflow counts, 0.5 for half cycles). The crack
            length is held constant within a block (explicit Euler per block).

        Returns
        -------
        numpy.ndarray, shape (samples,)
            Crack lengths after all blocks (m).
        """
        a = check_sign(
            "initial_length", as_finite("initial_length", initial_length), strict=True
        ).copy()
        ds = check_sign("stress_ranges", as_finite("stress_ranges", stress_ranges), unit="Pa")
        n = np.broadcast_to(check_sign("counts", as_finite("counts", counts)), ds.shape)
        root_pi = np.sqrt(np.pi)
        for dsk, nk in zip(ds.tolist(), n.tolist(), strict=True):
            dk = self.Y * dsk * root_pi * np.sqrt(a)
            a = a + nk * np.where(dk > self.threshold, self.C * dk**self.m, 0.0)
        return a
