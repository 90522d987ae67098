r"""Creep rupture and creep damage: Larson-Miller, Robinson, Norton, Kachanov-Rabotnov.

Larson-Miller master curve (Larson and Miller, Trans. ASME 74, 1952, 765-775)

.. math:: P = T\,(C + \log_{10} t_R[\mathrm{h}]) = \sum_i a_i\,(\log_{10}\sigma[\mathrm{MPa}])^{n_i}

or, in the inverse form used by NEML's ``LarsonMillerRelation``,
:math:`\log_{10}\sigma[\mathrm{MPa}] = \sum_i a_i P^{n_i}`, solved for :math:`P` on a
bracket where that polynomial falls monotonically.

Robinson's time (life) fraction rule (Robinson, Trans. ASME 74, 1952, 777-781):
:math:`D_c = \sum_k \Delta t_k / t_R(\sigma_k, T_k)`.

Norton creep rate: :math:`\dot\varepsilon = A\,\sigma^n\,\exp(-Q/RT)`.

Kachanov-Rabotnov damage (Kachanov 1958; Rabotnov 1969), uniaxial, with the damage
rate :math:`\dot\omega = B\,\sigma^\chi / (1-\omega)^\phi`. Under constant stress it
integrates to :math:`\omega(t) = 1 - (1 - t/t_R)^{1/(\phi+1)}` with
:math:`t_R = 1 / ((\phi+1) B \sigma^\chi)`.

SI inside: stress in Pa, temperature in K, time in s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from models.errors import LawInputError, SolverDivergedError
from models.life._data import law_data, normalise_material
from models.life._validate import as_finite, check_range, check_sign
from models.units import HOUR

__all__ = [
    "GAS_CONSTANT",
    "KachanovRabotnov",
    "KocksMeckingCreep",
    "LarsonMillerCurve",
    "creep_rate_law",
    "larson_miller",
    "norton_rate",
    "robinson_fraction",
]

GAS_CONSTANT = 8.314462618  # J/(mol K), CODATA 2018


@dataclass(frozen=True)
class LarsonMillerCurve:
    r"""A Larson-Miller rupture master curve.

    Attributes
    ----------
    C : float
        Larson-Miller constant (time in hours), dimensionless.
    coefficients : tuple of float
        :math:`a_i` of the polynomial :math:`P(\log_{10}\sigma[\mathrm{MPa}])`, in K.
    powers : tuple of int
        :math:`n_i`, same length as ``coefficients``.
    temperature_range : tuple of float
        Calibrated temperatures (K), inclusive.
    stress_range : tuple of float
        Calibrated stresses (Pa), inclusive.
    source : str
        Citation.
    name : str
        Material or curve name used in messages.
    form : {"parameter", "log_stress"}
        ``"parameter"``: the polynomial gives :math:`P(\log_{10}\sigma)` (srlife's
        form). ``"log_stress"``: it gives :math:`\log_{10}\sigma(P)` (NEML's form),
        inverted numerically on ``parameter_bracket``.
    parameter_bracket : tuple of float, optional
        ``(P_low, P_high)`` in K·log10(h) on which the ``"log_stress"`` polynomial
        decreases monotonically; required for that form.
    """

    C: float
    coefficients: tuple[float, ...]
    powers: tuple[int, ...]
    temperature_range: tuple[float, float]
    stress_range: tuple[float, float]
    source: str = ""
    name: str = "Larson-Miller curve"
    form: Literal["parameter", "log_stress"] = "parameter"
    parameter_bracket: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if self.form not in ("parameter", "log_stress"):
            raise LawInputError(f"form: must be 'parameter' or 'log_stress'; got {self.form!r}.")
        if self.form == "log_stress":
            br = self.parameter_bracket
            if br is None or not (np.isfinite(br).all() and br[0] < br[1]):
                raise LawInputError(
                    "parameter_bracket: form='log_stress' needs finite (P_low, P_high) with "
                    f"P_low < P_high; got {br!r}."
                )
            grid = np.linspace(br[0], br[1], 257)
            if (np.diff(self._log_stress(grid)) >= 0).any():
                raise LawInputError(
                    f"parameter_bracket: log10(stress) must fall monotonically on {br}; it "
                    "does not. Choose the decreasing branch of the polynomial."
                )

    def _log_stress(self, p: NDArray[np.float64]) -> NDArray[np.float64]:
        out = np.zeros_like(p)
        for a, n in zip(self.coefficients, self.powers, strict=True):
            out = out + a * p**n
        return out

    def parameter(self, stress: ArrayLike, *, extrapolate: bool = False) -> NDArray[np.float64]:
        """Return the Larson-Miller parameter at ``stress`` (Pa), in K·log10(h).

        In the ``"log_stress"`` form the parameter is found by bisection on
        ``parameter_bracket`` (to about 1e-9 K·log10(h)); stresses the bracket cannot
        reach raise :class:`~models.errors.LawInputError` even with ``extrapolate``.
        """
        s = check_sign("stress", as_finite("stress", stress), strict=True, unit="Pa")
        lo, hi = self.stress_range
        check_range(
            "stress", s, low=lo, high=hi, unit="Pa", extrapolate=extrapolate,
            what=f"{self.name} rupture curve",
        )  # fmt: skip
        x = np.log10(s / 1.0e6)
        if self.form == "log_stress":
            return self._invert(x)
        p = np.zeros_like(x)
        for a, n in zip(self.coefficients, self.powers, strict=True):
            p = p + a * x**n
        return p

    def _invert(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        assert self.parameter_bracket is not None  # checked in __post_init__
        p_lo, p_hi = self.parameter_bracket
        top = float(self._log_stress(np.array(p_lo)))
        bottom = float(self._log_stress(np.array(p_hi)))
        if x.size and ((x > top).any() or (x < bottom).any()):
            raise LawInputError(
                f"stress: the {self.name} rupture curve covers {10**bottom:.4g} to "
                f"{10**top:.4g} MPa on its parameter bracket; got "
                f"{float(10 ** x.min()):.4g} to {float(10 ** x.max()):.4g} MPa."
            )
        lo = np.full(x.shape, p_lo)
        hi = np.full(x.shape, p_hi)
        for _ in range(60):  # bracket / 2^60: far below 1e-9 K log10(h)
            mid = 0.5 * (lo + hi)
            above = self._log_stress(mid) > x  # still on the high-stress side
            lo = np.where(above, mid, lo)
            hi = np.where(above, hi, mid)
        return np.asarray(0.5 * (lo + hi), dtype=np.float64)

    def rupture_time(
        self,
        stress: ArrayLike,
        temperature: ArrayLike,
        *,
        C: ArrayLike | None = None,
        extrapolate: bool = False,
    ) -> NDArray[np.float64]:
        """Return the mean rupture time (s) at constant ``stress`` (Pa) and ``temperature`` (K).

        Parameters
        ----------
        stress, temperature : array_like
            Broadcastable arrays, Pa and K.
        C : array_like, optional
            Larson-Miller constant(s) replacing :attr:`C` (e.g. scatter samples).
        extrapolate : bool, optional
            Accept stresses and temperatures outside the calibrated ranges.

        Returns
        -------
        numpy.ndarray
            Rupture time in s; ``inf`` where the stress is zero (no creep damage). The
            calibrated-range checks apply where the stress is positive, so zero-stress
            holds (shutdowns) may sit at any temperature.
        """
        s = check_sign("stress", as_finite("stress", stress), unit="Pa")
        T = check_sign("temperature", as_finite("temperature", temperature), strict=True, unit="K")
        s, T = np.broadcast_arrays(s, T)
        loaded = s > 0
        lo, hi = self.temperature_range
        check_range(
            "temperature", T[loaded], low=lo, high=hi, unit="K", extrapolate=extrapolate,
            what=f"{self.name} rupture curve",
        )  # fmt: skip
        p = np.zeros(s.shape)
        p[loaded] = self.parameter(s[loaded], extrapolate=extrapolate)
        c = self.C if C is None else as_finite("C", C)
        with np.errstate(over="ignore"):
            tr = HOUR * 10.0 ** (p / T - c)
        return np.where(loaded, tr, np.inf)


def larson_miller(material: str) -> LarsonMillerCurve:
    """Return the cited average Larson-Miller curve of a material.

    Parameters
    ----------
    material : str
        ``"316H"``, ``"A617"``, ... (see ``models/data/life``).

    Raises
    ------
    UnknownMaterialError
        If the material is unknown or has no cited curve.
    """
    d = law_data(material, "larson_miller")
    bracket = d.get("parameter_bracket")
    return LarsonMillerCurve(
        C=float(d["C"]),
        coefficients=tuple(float(a) for a in d["coefficients"]),
        powers=tuple(int(n) for n in d["powers"]),
        temperature_range=(float(d["temperature_range_K"][0]), float(d["temperature_range_K"][1])),
        stress_range=(float(d["stress_range_Pa"][0]), float(d["stress_range_Pa"][1])),
        source=str(d["source"]),
        name=normalise_material(material),
        form=d.get("form", "parameter"),
        parameter_bracket=None if bracket is None else (float(bracket[0]), float(bracket[1])),
    )


def robinson_fraction(
    durations: ArrayLike,
    stress: ArrayLike,
    temperature: ArrayLike,
    *,
    curve: LarsonMillerCurve,
    C: ArrayLike | None = None,
    extrapolate: bool = False,
    axis: int = -1,
) -> NDArray[np.float64]:
    r"""Return Robinson's creep time fraction :math:`\sum_k \Delta t_k / t_R(\sigma_k, T_k)`.

    Parameters
    ----------
    durations : array_like, shape (..., k)
        Hold durations (s), >= 0.
    stress, temperature : array_like
        Stress (Pa) and temperature (K) of each hold, broadcastable with ``durations``.
    curve : LarsonMillerCurve
        Rupture curve.
    C : array_like, optional
        Larson-Miller constant(s), e.g. shape (samples, 1) for scatter samples.
    extrapolate : bool, optional
        Accept inputs outside the curve's calibrated ranges.
    axis : int, optional
        Axis of the holds summed over.

    Returns
    -------
    numpy.ndarray
        Creep damage fraction (dimensionless).
    """
    dt = check_sign("durations", as_finite("durations", durations), unit="s")
    tr = curve.rupture_time(stress, temperature, C=C, extrapolate=extrapolate)
    return np.sum(dt / tr, axis=axis)


def norton_rate(
    stress: ArrayLike,
    temperature: ArrayLike,
    *,
    A: float,
    n: float,
    Q: float,
) -> NDArray[np.float64]:
    r"""Return the Norton (power-law) creep strain rate :math:`A\sigma^n e^{-Q/RT}`, in 1/s.

    Parameters
    ----------
    stress : array_like
        Stress (Pa), >= 0.
    temperature : array_like
        Temperature (K), > 0.
    A : float
        Pre-factor, in 1/s/Pa^n.
    n : float
        Stress exponent.
    Q : float
        Activation energy (J/mol), >= 0.
    """
    s = check_sign("stress", as_finite("stress", stress), unit="Pa")
    T = check_sign("temperature", as_finite("temperature", temperature), strict=True, unit="K")
    for name, val in (("A", A), ("n", n)):
        if not np.isfinite(val) or val <= 0:
            raise LawInputError(
                f"{name}: must be finite and > 0; got {val!r}. Check the constants."
            )
    if not np.isfinite(Q) or Q < 0:
        raise LawInputError(f"Q: must be finite and >= 0 J/mol; got {Q!r}. Check the constants.")
    return A * s**n * np.exp(-Q / (GAS_CONSTANT * T))


@dataclass(frozen=True)
class KocksMeckingCreep:
    r"""Minimum creep rate in Kocks-Mecking form: a Norton law with :math:`n(T)`.

    .. math:: \dot\varepsilon = \dot\varepsilon_0 \exp(C_1 B)\,(\sigma/G)^{C_1 A},
              \qquad C_1 = -\frac{G b^3}{k T}, \quad G = \frac{E(T)}{2(1+\nu)}

    (Kocks, Argon and Ashby, Prog. Mater. Sci. 19, 1975; the form of NEML's
    ``RegionKMCreep``). The Norton exponent is :math:`n = C_1 A`.

    Attributes
    ----------
    A, B : float
        Kocks-Mecking constants (dimensionless).
    b : float
        Burgers vector (m).
    eps0 : float
        Reference strain rate (1/s).
    temperature_table, modulus_table : tuple of float
        Young's modulus table (K, Pa), interpolated linearly.
    nu : float
        Poisson's ratio.
    boltzmann : float
        Boltzmann constant (J/K).
    temperature_range, stress_range : tuple of float
        Calibrated ranges (K, Pa).
    source : str
        Citation.
    """

    A: float
    B: float
    b: float
    eps0: float
    temperature_table: tuple[float, ...]
    modulus_table: tuple[float, ...]
    nu: float = 0.3
    boltzmann: float = 1.380649e-23
    temperature_range: tuple[float, float] = (0.0, np.inf)
    stress_range: tuple[float, float] = (0.0, np.inf)
    source: str = ""

    def exponent(self, temperature: ArrayLike) -> NDArray[np.float64]:
        """Return the Norton exponent :math:`n = C_1 A` at ``temperature`` (K)."""
        T = check_sign("temperature", as_finite("temperature", temperature), strict=True, unit="K")
        G = np.interp(T, self.temperature_table, self.modulus_table) / (2.0 * (1.0 + self.nu))
        return np.asarray(-G * self.b**3 / (self.boltzmann * T) * self.A, dtype=np.float64)

    def rate(
        self, stress: ArrayLike, temperature: ArrayLike, *, extrapolate: bool = False
    ) -> NDArray[np.float64]:
        """Return the minimum creep strain rate (1/s) at ``stress`` (Pa) and ``temperature`` (K).

        Outside the modulus table (only with ``extrapolate=True``) the end values of
        the table are used for E.
        """
        s = check_sign("stress", as_finite("stress", stress), unit="Pa")
        T = check_sign("temperature", as_finite("temperature", temperature), strict=True, unit="K")
        what = "the Kocks-Mecking creep constants"
        lo, hi = self.temperature_range
        check_range("temperature", T, low=lo, high=hi, unit="K", extrapolate=extrapolate, what=what)
        lo, hi = self.stress_range
        pos = s[s > 0]  # zero stress: zero rate, no range to check
        check_range("stress", np.asarray(pos), low=lo, high=hi, unit="Pa",
                    extrapolate=extrapolate, what=what)  # fmt: skip
        G = np.interp(T, self.temperature_table, self.modulus_table) / (2.0 * (1.0 + self.nu))
        c1 = -G * self.b**3 / (self.boltzmann * T)
        return np.asarray(self.eps0 * np.exp(c1 * self.B) * (s / G) ** (c1 * self.A))


def creep_rate_law(material: str) -> KocksMeckingCreep:
    """Return a material's cited minimum-creep-rate law (Grade 91 for now).

    Raises
    ------
    UnknownMaterialError
        If the material is unknown or has no cited creep-rate law.
    """
    d = law_data(material, "creep_rate")
    return KocksMeckingCreep(
        A=float(d["A"]),
        B=float(d["B"]),
        b=float(d["b_m"]),
        eps0=float(d["eps0_per_s"]),
        temperature_table=tuple(float(t) for t in d["temperature_K"]),
        modulus_table=tuple(float(e) for e in d["E_Pa"]),
        nu=float(d["poisson_ratio"]),
        boltzmann=float(d["boltzmann_J_per_K"]),
        temperature_range=(float(d["temperature_range_K"][0]), float(d["temperature_range_K"][1])),
        stress_range=(float(d["stress_range_Pa"][0]), float(d["stress_range_Pa"][1])),
        source=str(d["source"]),
    )


@dataclass(frozen=True)
class KachanovRabotnov:
    r"""Uniaxial Kachanov-Rabotnov damage, :math:`\dot\omega = B\sigma^\chi/(1-\omega)^\phi`.

    Attributes
    ----------
    B : float
        Damage-rate coefficient, in 1/s/Pa^chi.
    chi : float
        Stress exponent of the damage rate.
    phi : float
        Damage exponent (> -1).
    """

    B: float
    chi: float
    phi: float

    def __post_init__(self) -> None:
        if not (np.isfinite(self.B) and self.B > 0):
            raise LawInputError(f"B: must be finite and > 0; got {self.B!r}.")
        if not (np.isfinite(self.chi) and np.isfinite(self.phi) and self.phi > -1):
            raise LawInputError(
                f"chi, phi: must be finite with phi > -1; got chi={self.chi!r}, phi={self.phi!r}."
            )

    def damage_rate(self, stress: ArrayLike, omega: ArrayLike) -> NDArray[np.float64]:
        r"""Return :math:`\dot\omega` (1/s) at ``stress`` (Pa) and damage ``omega`` in [0, 1)."""
        s = check_sign("stress", as_finite("stress", stress), unit="Pa")
        w = check_sign("omega", as_finite("omega", omega))
        if (w >= 1).any():
            raise LawInputError(
                f"omega: must be < 1 (1 is rupture); got max {float(w.max())}. Stop at rupture."
            )
        return self.B * s**self.chi / (1.0 - w) ** self.phi

    def rupture_time(self, stress: ArrayLike) -> NDArray[np.float64]:
        """Return the closed-form rupture time (s) under constant ``stress`` (Pa)."""
        s = check_sign("stress", as_finite("stress", stress), strict=True, unit="Pa")
        return 1.0 / ((self.phi + 1.0) * self.B * s**self.chi)

    def damage(self, time: ArrayLike, stress: ArrayLike) -> NDArray[np.float64]:
        """Return the closed-form damage after ``time`` (s) at constant ``stress`` (Pa).

        Times at or past rupture give 1.0 (the material has failed; not a clip).
        """
        t = check_sign("time", as_finite("time", time), unit="s")
        tr = self.rupture_time(stress)
        frac = np.minimum(t / tr, 1.0)
        return 1.0 - (1.0 - frac) ** (1.0 / (self.phi + 1.0))

    def integrate(
        self,
        times: ArrayLike,
        stress: ArrayLike,
        *,
        omega_stop: float = 0.99,
        rtol: float = 1.0e-10,
    ) -> tuple[float, float]:
        r"""Integrate the damage rate numerically under a piecewise-constant stress history.

        Parameters
        ----------
        times : array_like, shape (k + 1,)
            Segment boundaries (s), increasing, starting at the initial time.
        stress : array_like, shape (k,)
            Stress (Pa) in each segment.
        omega_stop : float, optional
            Damage taken as rupture. Under constant stress the life left beyond it is
            the fraction :math:`(1-\omega_{stop})^{\phi+1}` (1e-10 for 0.99 and
            :math:`\phi = 4`); much closer to 1 the rate outgrows the float resolution
            of time.
        rtol : float, optional
            Relative tolerance of the integrator.

        Returns
        -------
        omega_end : float
            Damage at the end of the history (``omega_stop`` if it ruptured).
        t_rupture : float
            Time (s) at which ``omega_stop`` was reached, or ``inf``.
        """
        from scipy.integrate import solve_ivp

        t = as_finite("times", times).reshape(-1)
        s = check_sign("stress", as_finite("stress", stress), unit="Pa").reshape(-1)
        if t.shape[0] != s.shape[0] + 1 or (np.diff(t) <= 0).any():
            raise LawInputError(
                f"times: must be increasing with one more entry than stress ({s.shape[0]}); "
                f"got {t.shape[0]} entries. Pass segment boundaries."
            )
        omega = 0.0
        for k in range(s.shape[0]):
            sk = float(s[k])

            def rhs(_t: float, y: NDArray[np.float64], sk: float = sk) -> NDArray[np.float64]:
                return np.array([self.B * sk**self.chi / max(1.0 - y[0], 1e-12) ** self.phi])

            def hit(_t: float, y: NDArray[np.float64]) -> float:
                return float(y[0] - omega_stop)

            hit.terminal = True  # type: ignore[attr-defined]
            sol = solve_ivp(
                rhs, (t[k], t[k + 1]), [omega], method="DOP853", rtol=rtol, atol=1e-14, events=hit
            )
            if not sol.success:
                raise SolverDivergedError(
                    f"Kachanov-Rabotnov integration failed in segment {k}: {sol.message}",
                    step=k,
                    time=float(t[k]),
                    residual=float("nan"),
                )
            if sol.t_events[0].size:
                return omega_stop, float(sol.t_events[0][0])
            omega = float(sol.y[0, -1])
        return omega, float("inf")
