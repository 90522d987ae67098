r"""The plant's true damage: one damage account fed with the FEM truth.

:class:`TruthDamage` is a one-particle :class:`twin.damage.DamageAccount` (fatigue by
rainflow and the strain-life law, creep by Robinson's time fraction on the
Larson-Miller curve, steam-side oxidation, the creep-fatigue envelope of ASME III-5
HBB-T-1420; the laws, their sources and simplifications are in :mod:`twin.damage`)
whose settings are built exactly as the twin builds its own (:mod:`twin.model`: the
config's ``twin.damage_locations`` and ``twin.stress_concentration``), so the truth and
the twin account damage by the same rules; only the inputs differ (the FEM truth of the
plant instead of the twin's particles) and the material factors are the scenario's
hidden truth.

Long steady holds may be advanced as two samples (start and end): the account's
quadrature (trapezoid on the rates :math:`1/t_R` and :math:`k_p`, also across
batches) is exact for a constant stress and temperature, so a constant hold costs
nothing in accuracy (``tests/scenarios/test_truthdamage.py`` checks it against the hand
formula). Failure is the first of (as :mod:`twin.forecast` names them): the damage
point reaching the envelope (margin <= 0; ``creep`` when it leaves through the
creep-side leg, :math:`D_f \le d_f`, else ``fatigue``), or the wall falling below the
minimum (``wall_thinning``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from scenarios.errors import ScenarioInputError

__all__ = ["TruthDamage", "damage_settings"]

F64 = NDArray[np.float64]
_STRESS = ("sigma_r", "sigma_theta", "sigma_z")


def damage_settings(config: Any) -> Any:
    """Return the :class:`twin.damage.DamageSettings` the twin builds for ``config``.

    As :meth:`twin.state.Twin.from_config` and :class:`twin.model.ComponentModel` do:
    the ``[twin]`` section validated against the sensors and FEM locations, the
    material of the component, the damage locations and their stress concentration
    factors.
    """
    from sensors.catalogue import parse_catalogue
    from twin.damage import DamageSettings
    from twin.settings import parse_twin_settings

    catalogue = parse_catalogue(config.to_dict())
    settings = parse_twin_settings(
        config.sections.get("twin"),
        catalogue=catalogue.sensors,
        locations=[loc.name for loc in config.locations],
    )
    return DamageSettings(
        material=config.component.material,
        locations=settings.damage_locations,
        stress_concentration=dict(settings.stress_concentration),
    )


class TruthDamage:
    """True damage of the virtual plant (one particle), advanced segment by segment.

    Parameters
    ----------
    config : models.config.ComponentConfig
        The component (material, ``[twin]`` damage locations and SCFs).
    creep_strength_factor : float
        Rupture time at stress / factor (the twin's meaning), > 0.
    oxidation_factor : float
        Factor on the material's parabolic oxidation rate constant, >= 0.
    t0 : float
        Epoch time (s) at which the account starts.
    settings : twin.damage.DamageSettings, optional
        Use these settings instead of building them from the config (a restore).
    """

    def __init__(
        self,
        config: Any,
        *,
        creep_strength_factor: float,
        oxidation_factor: float,
        t0: float,
        settings: Any = None,
        larson_miller_C_offset: float = 0.0,
        fatigue_life_factor: float = 1.0,
    ) -> None:
        from twin.damage import DamageAccount

        dc, phi = float(larson_miller_C_offset), float(fatigue_life_factor)
        if not (math.isfinite(dc) and math.isfinite(phi) and phi > 0.0):
            raise ScenarioInputError(
                "larson_miller_C_offset, fatigue_life_factor: must be finite, the factor > 0; "
                f"got {larson_miller_C_offset!r}, {fatigue_life_factor!r}."
            )
        # the heat's place in the material scatter (as twin.forecast samples it): rupture
        # time over the average curve's is 10**-dC at every stress and temperature, so the
        # time fraction scales by 10**dC; fatigue damage by 1 / phi
        self._creep_scale = 10.0**dc
        self._fatigue_scale = 1.0 / phi

        cf = float(creep_strength_factor)
        if not (math.isfinite(cf) and cf > 0.0):
            raise ScenarioInputError(
                f"creep_strength_factor: must be finite and > 0; got {creep_strength_factor!r}."
            )
        of = float(oxidation_factor)
        if not (math.isfinite(of) and of >= 0.0):
            raise ScenarioInputError(
                f"oxidation_factor: must be finite and >= 0; got {oxidation_factor!r}."
            )
        if not math.isfinite(float(t0)):
            raise ScenarioInputError(f"t0: must be a finite epoch time (s); got {t0!r}.")
        self.creep_strength_factor = cf
        self.oxidation_factor = of
        self.settings = damage_settings(config) if settings is None else settings
        self.account = DamageAccount(self.settings, n_particles=1, t0=float(t0))
        from models.life import creep_fatigue_envelope

        self._envelope = creep_fatigue_envelope(self.settings.material)

    # ------------------------------------------------------------ state
    @property
    def locations(self) -> tuple[str, ...]:
        """Damage locations."""
        return tuple(self.settings.locations)

    @property
    def time(self) -> float:
        """Last epoch time accounted, s."""
        return float(self.account.time)

    @property
    def wall_loss(self) -> float:
        """Metal lost to steam-side oxidation since the start, m."""
        return float(self.account.wall_loss[0])

    def fatigue(self) -> dict[str, float]:
        """Fatigue damage per location (closed cycles plus the ASTM end-of-history residue)."""
        k = self._fatigue_scale
        return {loc: k * float(self.account.fatigue(loc)[0]) for loc in self.locations}

    def creep(self) -> dict[str, float]:
        """Creep damage (time fraction) per location."""
        k = self._creep_scale
        return {loc: k * float(self.account.creep(loc)[0]) for loc in self.locations}

    def margin(self) -> dict[str, float]:
        """Margin to the creep-fatigue envelope per location (> 0 inside, inf undamaged)."""
        f, c = self.fatigue(), self.creep()
        out = {}
        for loc in self.locations:
            if f[loc] > 0.0 or c[loc] > 0.0:
                out[loc] = float(np.asarray(self._envelope.margin([f[loc]], [c[loc]]))[0])
            else:
                out[loc] = math.inf
        return out

    def failure(self, minimum_wall: float | None, wall0: float) -> tuple[str, str] | None:
        """Return ``(mechanism, location)`` once failed, else None (see :meth:`failed`)."""
        margin = self.margin()
        worst = min(margin, key=lambda loc: margin[loc])
        if margin[worst] <= 0.0:
            d_f = self._envelope.fatigue_intersection
            f = self.fatigue()[worst]
            return ("creep" if f <= d_f else "fatigue", worst)
        if minimum_wall is not None and wall0 - self.wall_loss < float(minimum_wall):
            return ("wall_thinning", self.settings.oxidation_location or worst)
        return None

    def failed(self, minimum_wall: float | None, wall0: float) -> str | None:
        """Return the failure mechanism, or None while the component lives.

        Parameters
        ----------
        minimum_wall : float or None
            Minimum wall thickness (m), e.g. ``twin.minimum_wall_thickness_m``; None:
            no wall-thinning failure.
        wall0 : float
            Wall thickness at the start of the account, m.

        Returns
        -------
        str or None
            ``"creep"`` or ``"fatigue"`` when the damage point of a location has reached
            the creep-fatigue envelope (``creep`` through the creep-side leg, as
            :mod:`twin.forecast`), ``"wall_thinning"`` when ``wall0 - wall_loss`` is
            below ``minimum_wall``.
        """
        out = self.failure(minimum_wall, wall0)
        return None if out is None else out[0]

    # ------------------------------------------------------------ advance
    def _inputs(
        self, t_abs: ArrayLike, values: Mapping[str, ArrayLike]
    ) -> tuple[F64, dict[str, F64], dict[str, F64]]:
        t = np.asarray(t_abs, dtype=np.float64).ravel()
        n = t.shape[0]
        stress: dict[str, F64] = {}
        temperature: dict[str, F64] = {}
        for loc in self.locations:
            cols = []
            for var in (*_STRESS, "temperature"):
                key = f"{var}@{loc}"
                if key not in values:
                    raise ScenarioInputError(
                        f"values[{key!r}]: missing; the truth needs the stresses and the "
                        f"temperature at every damage location {list(self.locations)}."
                    )
                a = np.asarray(values[key], dtype=np.float64).ravel()
                if a.shape[0] != n:
                    raise ScenarioInputError(
                        f"values[{key!r}]: needs one value per time ({n}); got {a.shape[0]}."
                    )
                cols.append(a)
            stress[loc] = np.stack(cols[:3])[None, :, :]
            temperature[loc] = cols[3][None, :]
        return t, stress, temperature

    def advance(self, t_abs: ArrayLike, values: Mapping[str, ArrayLike]) -> None:
        """Account the truth at epoch times ``t_abs`` (strictly increasing, after the last).

        Parameters
        ----------
        t_abs : array_like, shape (n,)
            Epoch times, s.
        values : mapping
            As :attr:`scenarios.segments.SegmentTruth.values`: ``"sigma_r@<loc>"``,
            ``"sigma_theta@<loc>"``, ``"sigma_z@<loc>"`` (Pa) and ``"temperature@<loc>"``
            (K) at every damage location, each shape (n,).

        Raises
        ------
        ScenarioInputError
            On a missing key, a length mismatch, stale times or values the laws refuse
            (the account is then unchanged).
        """
        from twin.errors import TwinInputError

        t, stress, temperature = self._inputs(t_abs, values)
        try:
            self.account.advance(
                t,
                stress,
                temperature,
                creep_factor=np.array([self.creep_strength_factor]),
                oxidation_factor=np.array([self.oxidation_factor]),
            )
        except TwinInputError as err:
            raise ScenarioInputError(f"truth damage: {err}") from err

    def advance_until(
        self,
        t_abs: ArrayLike,
        values: Mapping[str, ArrayLike],
        *,
        minimum_wall: float | None,
        wall0: float,
    ) -> float | None:
        """Advance like :meth:`advance`, stopping at the first sample at which it fails.

        Returns
        -------
        float or None
            The epoch time of the first sample of the batch at which :meth:`failed`
            reports a mechanism (the account then stands there), or None (the whole
            batch accounted, still alive).
        """
        t = self._inputs(t_abs, values)[0]
        before = self.account.state_dict()
        self.advance(t, values)
        if self.failed(minimum_wall, wall0) is None:
            return None
        from twin.damage import DamageAccount

        lo, hi = 0, t.shape[0]  # alive after lo samples (0: before the batch), failed after hi
        while hi - lo > 1:
            mid = (lo + hi) // 2
            self.account = DamageAccount.from_state_dict(before)
            self.advance(t[:mid], {k: np.asarray(v)[:mid] for k, v in values.items()})
            if self.failed(minimum_wall, wall0) is None:
                lo = mid
            else:
                hi = mid
        self.account = DamageAccount.from_state_dict(before)
        self.advance(t[:hi], {k: np.asarray(v)[:hi] for k, v in values.items()})
        return float(t[hi - 1])

    # ------------------------------------------------------------ persistence
    def state_dict(self) -> dict[str, Any]:
        """Return the state (the account's arrays and JSON values, plus the factors)."""
        d = self.account.state_dict()
        d["creep_strength_factor"] = self.creep_strength_factor
        d["oxidation_factor"] = self.oxidation_factor
        d["larson_miller_C_offset"] = math.log10(self._creep_scale)
        d["fatigue_life_factor"] = 1.0 / self._fatigue_scale
        return d

    @classmethod
    def from_state_dict(cls, config: Any, d: Mapping[str, Any]) -> TruthDamage:
        """Restore a truth saved by :meth:`state_dict`."""
        from twin.damage import DamageAccount
        from twin.errors import TwinInputError

        own = ("creep_strength_factor", "oxidation_factor", "larson_miller_C_offset",
               "fatigue_life_factor")  # fmt: skip
        rest = {k: v for k, v in d.items() if k not in own}
        try:
            account = DamageAccount.from_state_dict(rest)
        except TwinInputError as err:
            raise ScenarioInputError(f"truth damage state: {err}") from err
        obj = cls(
            config,
            creep_strength_factor=float(d["creep_strength_factor"]),
            oxidation_factor=float(d["oxidation_factor"]),
            t0=float(d["t0"]),
            settings=account.settings,
            larson_miller_C_offset=float(d.get("larson_miller_C_offset", 0.0)),
            fatigue_life_factor=float(d.get("fatigue_life_factor", 1.0)),
        )
        obj.account = account
        return obj
