r"""Temperature-dependent material properties for the service models.

Each material is a TOML file shipped as package data in ``models/data/materials/``
(read and validated by :mod:`models.material_file`, which also reads user files).
Every property is either a table (``temperature_degC``, ``values``) interpolated
piecewise-linearly, or a temperature-independent ``value``; each names its source.
Temperatures are converted from degC to K once, at load; values are converted to SI
once, at load. Inside the package everything is SI: K, Pa, 1/K, W/(m K), kg/m^3,
J/(kg K).

Outside a table the properties raise :class:`~models.errors.MaterialRangeError`:
there is no silent extrapolation.

Thermal strain
--------------
ASME Section II Part D Table TE-1 tabulates the *mean* coefficient of thermal
expansion ``alpha_mean(T)`` from the reference temperature :data:`T20` = 293.15 K
(20 degC), so the free thermal strain between 20 degC and ``T`` is
``alpha_mean(T) * (T - T20)``. The strain from a stress-free temperature ``T_ref`` to
``T`` is the difference of two such strains:

.. math::

    \varepsilon_{th}(T, T_{ref}) = \bar\alpha(T)\,(T - T_{20})
        - \bar\alpha(T_{ref})\,(T_{ref} - T_{20})

which is zero at ``T = T_ref`` and has the slope of the instantaneous coefficient
``d/dT [alpha_mean(T) (T - T20)]``.

Examples
--------
>>> from models.materials import get_material
>>> mat = get_material("grade91")
>>> round(mat.E(673.15) / 1e9, 1)   # 400 degC, ASME II-D TM-1 Group E
187.0
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from models.errors import MaterialDataError, MaterialRangeError, UnknownMaterialError
from models.units import T20, ZERO_CELSIUS

__all__ = [
    "MATERIAL_ALIASES",
    "Material",
    "PROPERTY_NAMES",
    "PropertyTable",
    "T20",
    "available_materials",
    "canonical_material_name",
    "get_material",
]

#: Names of the properties every material defines.
PROPERTY_NAMES: tuple[str, ...] = ("E", "nu", "alpha_mean", "k", "rho", "cp")

_SCHEMA_VERSION = 1
_DATA_PACKAGE = "models"
_DATA_PATH = ("data", "materials")

# Accepted units in the data files and their factor to the SI unit (first entry = SI).
_UNITS: dict[str, dict[str, float]] = {
    "E": {"Pa": 1.0, "MPa": 1e6, "GPa": 1e9},
    "nu": {"-": 1.0},
    "alpha_mean": {"1/K": 1.0, "1e-6/K": 1e-6},
    "k": {"W/m/K": 1.0},
    "rho": {"kg/m^3": 1.0},
    "cp": {"J/kg/K": 1.0},
}
_SI_UNIT = {prop: next(iter(units)) for prop, units in _UNITS.items()}

#: Other names of the shipped materials (keys: lower case, letters and digits only).
MATERIAL_ALIASES: dict[str, str] = {
    "grade91": "grade91",
    "gr91": "grade91",
    "p91": "grade91",
    "t91": "grade91",
    "9cr1mov": "grade91",
    "316h": "316h",
    "ss316h": "316h",
    "a617": "a617",
    "alloy617": "a617",
    "in617": "a617",
}

ArrayLike = float | npt.ArrayLike


def _to_degc(T: float) -> float:
    return T - ZERO_CELSIUS


@dataclass(frozen=True, eq=False)
class PropertyTable:
    """One material property as a function of temperature.

    Parameters
    ----------
    name : str
        Property name (one of :data:`PROPERTY_NAMES`).
    unit : str
        SI unit of the values.
    source : str
        Citation of the table.
    values : numpy.ndarray, shape (n,)
        Values in SI units; ``n == 1`` with ``temperature=None`` for a constant.
    temperature : numpy.ndarray of shape (n,) or None
        Strictly increasing temperatures in K, or ``None`` for a temperature-independent
        value (no range limit).
    material : str
        Name of the owning material, used in error messages.
    """

    name: str
    unit: str
    source: str
    values: np.ndarray
    temperature: np.ndarray | None = None
    material: str = ""

    @property
    def is_constant(self) -> bool:
        """Whether the property does not depend on temperature."""
        return self.temperature is None

    @property
    def range(self) -> tuple[float, float]:
        """Tabulated temperature range ``(T_min, T_max)`` in K (``(0, inf)`` if constant)."""
        if self.temperature is None:
            return (0.0, math.inf)
        return (float(self.temperature[0]), float(self.temperature[-1]))

    def __call__(self, T: ArrayLike) -> float | np.ndarray:
        """Evaluate the property at temperature ``T`` in K (scalar or array).

        Raises
        ------
        MaterialRangeError
            If any temperature is not finite or lies outside the tabulated range.
        """
        T_arr = np.asarray(T, dtype=float)
        self._check(T_arr)
        if self.temperature is None:
            out = np.full_like(T_arr, self.values[0])
        else:
            out = np.interp(T_arr, self.temperature, self.values)
        return float(out) if out.ndim == 0 else out

    def _check(self, T: np.ndarray) -> None:
        t_min, t_max = self.range
        bad = ~np.isfinite(T) | (T < t_min) | (T > t_max)
        if self.temperature is None:
            bad |= T <= 0.0
        if not np.any(bad):
            return
        flat = T.ravel()
        first = float(flat[int(np.argmax(bad.ravel()))])
        count = int(np.count_nonzero(bad))
        where = f" ({count} of {T.size} values)" if T.size > 1 else ""
        if not math.isfinite(first):
            what = f"a non-finite temperature {first}"
        else:
            what = f"T = {first:.2f} K ({_to_degc(first):.2f} degC)"
        if self.temperature is None:
            valid = "T > 0 K"
        else:
            valid = f"{t_min:.2f}-{t_max:.2f} K ({_to_degc(t_min):.2f}-{_to_degc(t_max):.2f} degC)"
        raise MaterialRangeError(
            f"material {self.material!r}: property {self.name!r} was asked at {what}{where}, "
            f"outside the tabulated range {valid}; the tables are not extrapolated. "
            "Fix: keep temperatures inside the range or extend the data file with cited values."
        )


@dataclass(frozen=True, eq=False)
class Material:
    """A material: named, cited, temperature-dependent properties.

    Use :func:`get_material` for the shipped materials and :meth:`Material.constant`
    for verification cases with constant properties. All methods take temperatures in
    K (scalar or array) and return SI values of the same shape (a ``float`` for a
    scalar input).

    Parameters
    ----------
    name : str
        Identifier (lower case, as in the data file name).
    description : str
        Human-readable description.
    tables : Mapping[str, PropertyTable]
        One table per name in :data:`PROPERTY_NAMES`.
    """

    name: str
    description: str
    tables: Mapping[str, PropertyTable] = field(repr=False)
    # Smoothing spline of the linear expansion, built on first use (_expansion_spline).
    _expansion: Any = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        missing = [p for p in PROPERTY_NAMES if p not in self.tables]
        if missing:
            raise MaterialDataError(
                f"material {self.name!r}: properties {missing} are missing; "
                f"every material needs {list(PROPERTY_NAMES)}."
            )
        object.__setattr__(self, "tables", MappingProxyType(dict(self.tables)))

    # -- properties -------------------------------------------------------------------
    def E(self, T: ArrayLike) -> float | np.ndarray:
        """Young's modulus in Pa at temperature ``T`` in K."""
        return self.tables["E"](T)

    def nu(self, T: ArrayLike) -> float | np.ndarray:
        """Poisson's ratio (dimensionless) at temperature ``T`` in K."""
        return self.tables["nu"](T)

    def alpha_mean(self, T: ArrayLike) -> float | np.ndarray:
        """Mean coefficient of thermal expansion from :data:`T20` to ``T``, in 1/K."""
        return self.tables["alpha_mean"](T)

    def k(self, T: ArrayLike) -> float | np.ndarray:
        """Thermal conductivity in W/(m K) at temperature ``T`` in K."""
        return self.tables["k"](T)

    def rho(self, T: ArrayLike) -> float | np.ndarray:
        """Density in kg/m^3 at temperature ``T`` in K."""
        return self.tables["rho"](T)

    def cp(self, T: ArrayLike) -> float | np.ndarray:
        """Specific heat capacity in J/(kg K) at temperature ``T`` in K."""
        return self.tables["cp"](T)

    def thermal_strain(self, T: ArrayLike, T_ref: ArrayLike) -> float | np.ndarray:
        """Free linear thermal strain from ``T_ref`` to ``T`` (both in K).

        ``eps_th = e(T) - e(T_ref)`` with the linear expansion from ``T20`` = 293.15 K,
        ``e(T) = alpha_mean(T) (T - T20)``. For tabulated coefficients ``e`` is a cubic
        smoothing spline through the tabulated expansions, weighted by their printing
        precision (see :func:`_expansion_spline`): piecewise-linear interpolation of
        mean coefficients printed to 0.1e-6 /K makes the instantaneous coefficient jump
        by up to 10 % between rows, which shows up as kinks in thermal-stress histories
        and as spurious small cycles in rainflow counting.

        Parameters
        ----------
        T : float or array_like
            Temperature in K.
        T_ref : float or array_like
            Stress-free (reference) temperature in K, broadcast against ``T``.

        Returns
        -------
        float or numpy.ndarray
            Dimensionless strain.
        """
        T_arr = np.asarray(T, dtype=float)
        T_ref_arr = np.asarray(T_ref, dtype=float)
        table = self.tables["alpha_mean"]
        spline = _expansion_spline(self)
        if spline is None:
            eps = self.alpha_mean(T_arr) * (T_arr - T20) - self.alpha_mean(T_ref_arr) * (
                T_ref_arr - T20
            )
        else:
            table._check(T_arr)
            table._check(T_ref_arr)
            eps = spline(T_arr) - spline(T_ref_arr)
        eps = np.asarray(eps, dtype=float)
        return float(eps) if eps.ndim == 0 else eps

    def alpha_instantaneous(self, T: ArrayLike) -> float | np.ndarray:
        """Instantaneous coefficient of thermal expansion ``d eps_th / dT`` in 1/K."""
        T_arr = np.asarray(T, dtype=float)
        spline = _expansion_spline(self)
        if spline is None:
            d = 0.01
            lo, hi = self.tables["alpha_mean"].range
            up = np.minimum(T_arr + d, hi)
            down = np.maximum(T_arr - d, lo)
            out = np.asarray(self.thermal_strain(up, down), dtype=float) / (up - down)
        else:
            self.tables["alpha_mean"]._check(T_arr)
            out = np.asarray(spline.derivative()(T_arr), dtype=float)
        return float(out) if out.ndim == 0 else out

    def scaled(self, **factors: float) -> Material:
        """Return a copy with properties multiplied by factors (material scatter).

        Parameters
        ----------
        **factors : float
            ``E=1.05, alpha_mean=0.97, k=1.1``: a positive factor per property name of
            :data:`PROPERTY_NAMES`.

        Returns
        -------
        Material
            The scaled material; its thermal strain is exactly ``alpha_mean`` factor
            times this material's (the smoothed expansion is scaled, not refitted).
        """
        tables = dict(self.tables)
        for prop, factor in factors.items():
            if prop not in tables:
                raise MaterialDataError(
                    f"scaled(): unknown property {prop!r}; use one of {list(PROPERTY_NAMES)}"
                )
            if not (math.isfinite(factor) and factor > 0.0):
                raise MaterialDataError(
                    f"scaled(): factor {prop}={factor!r} must be finite and > 0"
                )
            tables[prop] = dataclasses.replace(tables[prop], values=tables[prop].values * factor)
        tag = ",".join(f"{k}x{v:.6g}" for k, v in factors.items())
        out = Material(name=self.name, description=f"{self.description} ({tag})", tables=tables)
        spline = _expansion_spline(self)
        if spline is not None:
            from scipy.interpolate import UnivariateSpline

            t, c, k = spline._eval_args
            f = float(factors.get("alpha_mean", 1.0))
            object.__setattr__(out, "_expansion", UnivariateSpline._from_tck((t, c * f, k)))
        return out

    # -- metadata ---------------------------------------------------------------------
    @property
    def temperature_range(self) -> tuple[float, float]:
        """Range ``(T_min, T_max)`` in K over which every property is tabulated."""
        lows, highs = zip(*(self.tables[p].range for p in PROPERTY_NAMES), strict=True)
        return (max(lows), min(highs))

    @property
    def sources(self) -> dict[str, str]:
        """Citation of every property table, keyed by property name."""
        return {p: self.tables[p].source for p in PROPERTY_NAMES}

    @classmethod
    def constant(
        cls,
        *,
        E: float,
        nu: float,
        alpha: float,
        k: float,
        rho: float,
        cp: float,
        name: str = "constant",
    ) -> Material:
        """Build a material with temperature-independent properties (SI units).

        Intended for verification against analytical solutions. The only temperature
        check left is ``T > 0 K`` and finite.

        Parameters
        ----------
        E : float
            Young's modulus in Pa.
        nu : float
            Poisson's ratio, in (-1, 0.5).
        alpha : float
            Coefficient of thermal expansion in 1/K (mean and instantaneous coincide).
        k : float
            Thermal conductivity in W/(m K).
        rho : float
            Density in kg/m^3.
        cp : float
            Specific heat capacity in J/(kg K).
        name : str, optional
            Identifier used in messages.

        Returns
        -------
        Material
        """
        given = {"E": E, "nu": nu, "alpha_mean": alpha, "k": k, "rho": rho, "cp": cp}
        tables = {}
        for prop, value in given.items():
            arg = "alpha" if prop == "alpha_mean" else prop
            v = _positive_number(value, where=f"Material.constant({arg}=...)", prop=prop)
            tables[prop] = PropertyTable(
                name=prop,
                unit=_SI_UNIT[prop],
                source=f"constant {arg} = {v:g} {_SI_UNIT[prop]} given by the caller",
                values=_frozen([v]),
                material=name,
            )
        return cls(name=name, description=f"constant-property material {name!r}", tables=tables)


# -- loading ---------------------------------------------------------------------------


def _frozen(values: Any) -> np.ndarray:
    arr = np.array(values, dtype=float)
    arr.flags.writeable = False
    return arr


def _positive_number(value: Any, *, where: str, prop: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MaterialDataError(f"{where}: {prop} must be a number, got {value!r}.")
    v = float(value)
    if not math.isfinite(v):
        raise MaterialDataError(f"{where}: {prop} must be finite, got {v!r}.")
    if prop == "nu":
        if not -1.0 < v < 0.5:
            raise MaterialDataError(f"{where}: Poisson's ratio must lie in (-1, 0.5), got {v!r}.")
    elif v <= 0.0:
        raise MaterialDataError(f"{where}: {prop} must be positive, got {v!r}.")
    return v


def canonical_material_name(name: str) -> str:
    """Return the shipped material a name or alias means (``"P91"`` -> ``"grade91"``).

    The name is compared in lower case with letters and digits only, so ``"Grade 91"``,
    ``"T91"`` and ``"gr91"`` all name Grade 91. The FEM (:func:`get_material`) and the
    life laws (:func:`models.life._data.normalise_material`) both use this table.

    Parameters
    ----------
    name : str
        Material name or alias.

    Returns
    -------
    str
        The data-file stem, or the normalised name when it is no alias.
    """
    key = "".join(ch for ch in name.lower() if ch.isalnum())
    return MATERIAL_ALIASES.get(key, key)


def _data_dir() -> Any:
    return resources.files(_DATA_PACKAGE).joinpath(*_DATA_PATH)


def available_materials() -> tuple[str, ...]:
    """Names of the shipped materials, sorted (lower case)."""
    return tuple(
        sorted(
            entry.name[: -len(".toml")].lower()
            for entry in _data_dir().iterdir()
            if entry.name.endswith(".toml")
        )
    )


@functools.cache
def _load(key: str) -> Material:
    from models.material_file import load_material_file

    entry = _data_dir().joinpath(f"{key}.toml")
    return load_material_file(entry.read_text(encoding="utf-8"), origin=f"{key}.toml")


def get_material(name: str) -> Material:
    """Return the shipped material ``name`` (case-insensitive, cached).

    Parameters
    ----------
    name : str
        Material identifier or alias, e.g. ``"grade91"``, ``"P91"`` or ``"316H"``
        (see :func:`canonical_material_name`).

    Returns
    -------
    Material

    Raises
    ------
    UnknownMaterialError
        If no data file exists under that name; the message lists the available ones.
    """
    available = available_materials()
    key = canonical_material_name(name) if isinstance(name, str) else None
    if key not in available:
        raise UnknownMaterialError(
            f"unknown material {name!r}; available materials: {', '.join(available)} "
            f"(aliases {', '.join(sorted(k for k in MATERIAL_ALIASES if k not in available))}). "
            "Fix: use one of these names, give the config a [material] section or "
            "component.material = 'file:PATH', or add a cited data file to "
            "models/data/materials/."
        )
    return _load(key)


#: ASME II-D Table TE prints mean coefficients to this resolution, 1/K.
ALPHA_PRINT_RESOLUTION = 0.1e-6


def _expansion_spline(material: Material) -> Any:
    """Return a smoothing spline of the linear expansion ``e(T)``, or ``None``.

    The tabulated expansions ``alpha_mean(T_i) (T_i - T20)`` carry the rounding of the
    printed coefficients, ``+/- 0.05e-6 |T_i - T20|``. A cubic spline weighted by that
    half-resolution (smoothing factor ``s = n / 4``) stays within about one rounding
    step of every row while its derivative, the instantaneous coefficient, varies
    smoothly. The fit is checked at every row; a table it cannot follow within 1.5
    rounding steps is a data error.
    """
    table = material.tables["alpha_mean"]
    if table.temperature is None or table.temperature.size < 5:
        return None
    if material._expansion is not None:
        return material._expansion
    from scipy.interpolate import UnivariateSpline

    T = table.temperature
    e = table.values * (T - T20)
    half = 0.5 * ALPHA_PRINT_RESOLUTION * np.maximum(np.abs(T - T20), 1.0)
    spline = UnivariateSpline(T, e, w=1.0 / half, k=3, s=0.25 * T.size)
    misfit = np.abs(spline(T) - e) / half
    if np.max(misfit) > 1.5:
        i = int(np.argmax(misfit))
        raise MaterialDataError(
            f"material {material.name!r}: the smoothed thermal expansion misses the table row "
            f"at {T[i]:.2f} K by {misfit[i]:.2f} rounding steps (limit 1.5); check that row."
        )
    object.__setattr__(material, "_expansion", spline)  # frozen: cache on the instance
    return spline
