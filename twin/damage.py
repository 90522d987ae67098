r"""Damage accounting per particle at each critical location: fatigue, creep, oxidation.

The account follows the elastic-analysis route of ASME BPVC Section III, Division 5,
Subsection HB, Subpart B, Appendix HBB-T (HBB-T-1411 to HBB-T-1420), with the
simplifications listed below. Every particle carries its own stress and temperature
history (its own parameters), so damage carries the posterior's spread.

Equivalent strain (fatigue)
    At location :math:`L` with stress concentration factor :math:`K_L` (config), from
    the nominal stress components :math:`(\sigma_r, \sigma_\theta, \sigma_z)` and the
    metal temperature :math:`T`:

    .. math:: \varepsilon_{eq}(t) = \operatorname{sign}(\sigma_\theta)\,
              \frac{K_L\,\bar\sigma(t)}{E(T(t))}, \qquad
              \bar\sigma = \sqrt{\tfrac12[(\sigma_r-\sigma_\theta)^2
              + (\sigma_\theta-\sigma_z)^2 + (\sigma_z-\sigma_r)^2]}

    with :math:`E(T)` from :mod:`models.materials` (ASME II-D Table TM-1). This is the
    equivalent strain of HBB-T-1413's formula with the elastic Poisson's ratio for
    :math:`\nu^*`. *Sign*: the hoop stress's, because in an axisymmetric header without
    shear the hoop stress is the largest component at the bore and the outer surface
    under both pressure and through-wall thermal gradients, so its sign is that of the
    dominant principal stress over the cycles that matter; the sign of the principal
    stress of largest magnitude flips where :math:`|\sigma_1| = |\sigma_3|`, which on this
    component happens at a larger von Mises stress (a larger artificial jump).
    *What HBB-T-1413 does instead*: it takes the change of every strain component from
    a reference time, forms the equivalent strain of that difference tensor (with
    :math:`\nu^*`; srlife's implementation of the Division 5 rules uses 0.5) and
    maximises over time pairs, which needs the whole cycle and is no scalar history to
    rainflow. For a proportional stress path both give the same range; when the sign
    changes between two reversals the signed range is larger (triangle inequality,
    conservative); between two reversals of one sign on a path offset by the pressure
    stress it can be smaller by up to the pressure's von Mises stress.
    The streaming rainflow count (ASTM E1049-85 5.4.4, per particle, see
    :mod:`twin._damage_rainflow`) gives ranges; each cycle's life :math:`N_f` is the
    strain-life law (:func:`models.life.cycles_to_failure`, no mean-stress correction,
    as the Code's design curves) at amplitude range/2 and at the larger metal
    temperature of the cycle's two reversals; :math:`D_f = \sum n_i / N_{f,i}` (Miner).
    Closed cycles count 1 (or 1/2 when they hold the start of the history); the open
    residue is *reported* as ASTM's end-of-history count (the last sample closes what it
    reaches, the rest are half cycles) but stays open for the stream.

Creep (HBB-T-1411 time fraction)
    :math:`D_c = \int dt / t_R(\sigma_c / f_c, T)` with the Larson-Miller curve
    (:func:`models.life.larson_miller`), the creep stress
    :math:`\sigma_c = K_L \bar\sigma / K'` (the von Mises stress times the SCF) and the
    particle's creep-strength factor :math:`f_c`. HBB-T-1411 takes the allowable time
    at the stress divided by a factor :math:`K'` (0.9 in the elastic route as we read
    the Code; the Code text was not re-checked for this release); here ``K'`` defaults
    to 1 (a best estimate with the average curve) and is a setting.
    Quadrature: trapezoid rule on :math:`1/t_R` over each interval between samples
    (also across batches), i.e. Robinson's sum
    :func:`models.life.robinson_fraction` with weights
    :math:`(t_{k+1}-t_{k-1})/2`.

Oxidation (steam side, bore)
    :math:`x^2 = x_0^2 + f_{ox}\int k_p(T_{bore})\,dt` with
    :math:`k_p = k_0 e^{-Q/RT}` (:func:`models.life.oxidation_law`), same trapezoid
    rule; wall loss :math:`(x - x_0)/r` with the Pilling-Bedworth ratio :math:`r`
    (metal consumed since the account started).

Envelope margin
    :meth:`models.life.BilinearEnvelope.margin` at :math:`(D_f, D_c)` (Fig.
    HBB-T-1420-2 intersection per material): the multiple of the accumulated damage
    that still fits, > 0 inside, 0 on, < 0 outside the envelope; ``inf`` while both
    damages are exactly zero.

Simplifications (each one a departure from the Code's elastic route)
    - No HBB-T-1414 modification of the strain range (no :math:`K_v` plasticity or
      Poisson adjustment, no creep strain increment): the range is elastic times SCF.
    - No HBB-T-1433 stress relaxation during holds: the creep stress is the elastic
      stress times SCF (conservative for peak stresses), and the rupture curve is the
      *average* Larson-Miller curve on file, not the expected-minimum stress to
      rupture :math:`S_r` of Table HBB-I-14.6 (see ``models/data/life/grade91.toml``:
      :math:`S_r` is 0.67-0.98 of it), so :math:`D_c` is a best estimate.
    - Grade 91 strain-life constants exist for the 540 C design curve only; they are
      used at every temperature (``strain_life(..., extrapolate=True)``), also above
      540 C where the Code gives no curve (non-conservative there). Materials with
      curves at several temperatures interpolate; colder cycles use the coldest curve.
    - Cycle temperature: the larger metal temperature of the two reversals (hbbdata and
      srlife use the largest temperature over the cycle).
    - Below the strain-life law's smallest calibrated amplitude (the design curve's
      end, 10^8 cycles) a cycle does no damage (``fatigue_below_range="endurance"``).
    - No creep damage below ``creep_cutoff_temperature``, by default the rupture
      curve's lowest calibrated temperature (773 K for Grade 91). Division 5's
      elevated-temperature rules start at 371 C (700 F) for ferritic steels; between
      that and the default cut-off the curve is uncalibrated and the damage rate small.
    - Creep stresses below the curve's calibrated minimum use the rupture time at that
      minimum (``creep_below_range="limit"``, conservative) or count nothing
      (``"zero"``); above its maximum, or temperatures above its range, raise
      :class:`~twin.errors.TwinInputError` unless ``extrapolate=True``; never NaN.
    - No oxide growth below ``oxidation_cutoff_temperature`` (default: the lowest
      calibrated temperature of the constants, where :math:`k_p` is ~3 % of its 600 C
      value for Grade 91).
    - The history starts at the first sample: the interval from ``t0`` to it carries
      no damage (no stress is known there).

References
----------
ASME BPVC Section III Division 5 (2023), HBB-T-1411, HBB-T-1413, HBB-T-1420;
ASTM E1049-85 (2017) 5.4.4; Robinson, Trans. ASME 74 (1952) 777-781; Larson and
Miller, Trans. ASME 74 (1952) 765-775; Argonne srlife, ``srlife/damage.py``
(``TimeFractionInteractionDamage``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from twin._damage_input import (
    by_location,
    refuse_stress,
    row_sum,
    shaped,
    times,
    vector,
)
from twin._damage_laws import FatigueLaw, Modulus, OxidationRate, RuptureRate
from twin._damage_rainflow import (
    CycleBuffer,
    PushResult,
    RainflowState,
    count_strain,
    residue_terms,
)
from twin._damage_settings import DamageSettings
from twin.errors import TwinConfigError, TwinInputError

__all__ = ["DamageAccount", "DamageSettings"]

SCHEMA_VERSION = 1
F64 = NDArray[np.float64]
#: Samples per block of particles in the per-sample work (a few hundred kB per array,
#: so the temporaries stay in cache).
_BLOCK_SAMPLES = 65536


class DamageAccount:
    """Per-particle damage at each critical location, advanced with each batch of history.

    Parameters
    ----------
    settings : DamageSettings
        Material, locations, SCFs and the range rules.
    n_particles : int
        Number of particles ``P``.
    t0 : float
        Start time (s): the first batch may start at ``t0``, every later batch after
        the last time seen.

    Notes
    -----
    :meth:`advance` with consecutive batches equals one call with their concatenation
    to round-off. There is no Python loop over particles or samples: the equivalent
    strain and the rainflow stack run as compiled per-row loops
    (:mod:`twin._damage_kernel`), the creep and oxidation rates as NumPy on blocks of
    particles that fit in cache. Rows are ``location index * P + particle``.
    """

    def __init__(self, settings: DamageSettings, *, n_particles: int, t0: float) -> None:
        if not isinstance(settings, DamageSettings):
            raise TwinConfigError(
                f"settings: must be a DamageSettings; got {type(settings).__name__}."
            )
        if isinstance(n_particles, bool) or not isinstance(n_particles, int | np.integer):
            raise TwinConfigError(f"n_particles: must be an integer >= 1; got {n_particles!r}.")
        if n_particles < 1:
            raise TwinConfigError(f"n_particles: must be >= 1; got {n_particles!r}.")
        t0f = float(t0)
        if not math.isfinite(t0f):
            raise TwinConfigError(f"t0: must be a finite time (s); got {t0!r}.")
        self._setup(settings, int(n_particles))
        P, R = self._P, self._R
        self._t0 = t0f
        self._time = t0f
        self._rf = RainflowState.empty(R)
        self._cycle_damage = np.zeros(self._rf.values.shape)
        self._fatigue_closed = np.zeros(R)
        self._fatigue_residue = np.zeros(R)
        self._creep = np.zeros(R)
        self._creep_rate = np.zeros(R)
        self._oxide_sq = np.full(P, settings.initial_oxide_thickness**2)
        self._oxidation_rate = np.zeros(P)

    def _setup(self, settings: DamageSettings, n_particles: int) -> None:
        from models.life import creep_fatigue_envelope, larson_miller, oxidation_law

        self._settings = settings
        self._cycles = CycleBuffer()  # scratch, not state
        self._P = n_particles
        self._R = n_particles * len(settings.locations)
        self._modulus = Modulus(settings.material)
        self._rupture = RuptureRate(
            larson_miller(settings.material),
            cutoff=settings.creep_cutoff,
            below_range=settings.creep_below_range,
            extrapolate=settings.extrapolate,
        )
        self._fatigue_law = FatigueLaw(
            settings.material,
            below_range=settings.fatigue_below_range,
            extrapolate=settings.extrapolate,
        )
        self._envelope = creep_fatigue_envelope(settings.material)
        self._oxidation: OxidationRate | None = None
        if settings.oxidation_location is not None:
            assert settings.oxidation_cutoff is not None  # resolved with the location
            self._oxidation = OxidationRate(
                oxidation_law(settings.material),
                cutoff=settings.oxidation_cutoff,
                extrapolate=settings.extrapolate,
            )

    # ------------------------------------------------------------------ properties
    @property
    def settings(self) -> DamageSettings:
        """The settings the account was built with."""
        return self._settings

    @property
    def n_particles(self) -> int:
        """Number of particles."""
        return self._P

    @property
    def time(self) -> float:
        """Last sample time seen (s); ``t0`` before the first batch."""
        return self._time

    @property
    def oxide_thickness(self) -> F64:
        """Oxide thickness on the bore (P,), m."""
        return np.sqrt(self._oxide_sq)

    @property
    def wall_loss(self) -> F64:
        """Metal lost to steam oxidation at the bore since the start (P,), m."""
        if self._oxidation is None:
            return np.zeros(self._P)
        x0 = self._settings.initial_oxide_thickness
        return (np.sqrt(self._oxide_sq) - x0) / self._oxidation.law.pilling_bedworth

    # ------------------------------------------------------------------ results
    def _rows(self, location: str) -> slice:
        try:
            k = self._settings.locations.index(location)
        except ValueError:
            raise TwinInputError(
                f"location: {location!r} is not a damage location; known are "
                f"{list(self._settings.locations)}."
            ) from None
        return slice(k * self._P, (k + 1) * self._P)

    def fatigue(self, location: str, *, include_residue: bool = True) -> F64:
        """Return the fatigue damage (P,) at ``location``.

        Closed cycles plus, by default, the open residue counted as ASTM E1049 counts
        the end of a history (the residue itself stays open).
        """
        rows = self._rows(location)
        if include_residue:
            return self._fatigue_closed[rows] + self._fatigue_residue[rows]
        return self._fatigue_closed[rows].copy()

    def creep(self, location: str) -> F64:
        """Return the creep damage (Robinson time fraction) (P,) at ``location``."""
        return self._creep[self._rows(location)].copy()

    def margin(self, location: str) -> F64:
        """Return the margin (P,) to the creep-fatigue envelope at ``location``.

        The multiple of the current damage that still fits inside the bilinear
        envelope (:meth:`models.life.BilinearEnvelope.margin`): > 0 inside, 0 on, < 0
        outside; ``inf`` where both damages are zero.
        """
        f = self.fatigue(location)
        c = self.creep(location)
        out = np.full(f.shape, np.inf)
        some = (f > 0.0) | (c > 0.0)
        if some.any():
            out[some] = self._envelope.margin(f[some], c[some])
        return out

    def summary(self) -> dict[str, Any]:
        """Return the current damage per location (fatigue, creep, margin) and the oxide.

        Returns
        -------
        dict
            ``{"time": float, "locations": {loc: {"fatigue", "creep", "margin"}},
            "oxide_thickness": (P,) m, "wall_loss": (P,) m}``.
        """
        return {
            "time": self._time,
            "locations": {
                loc: {
                    "fatigue": self.fatigue(loc),
                    "creep": self.creep(loc),
                    "margin": self.margin(loc),
                }
                for loc in self._settings.locations
            },
            "oxide_thickness": self.oxide_thickness,
            "wall_loss": self.wall_loss,
        }

    # ------------------------------------------------------------------ advance
    def advance(
        self,
        t: ArrayLike,
        stress: Mapping[str, ArrayLike],
        temperature: Mapping[str, ArrayLike],
        *,
        creep_factor: ArrayLike,
        oxidation_factor: ArrayLike,
    ) -> None:
        """Account the next batch of samples.

        Parameters
        ----------
        t : array_like, shape (n,)
            Sample times (s), strictly increasing, after the last time seen.
        stress : mapping of str to array_like, shape (P, 3, n)
            Per location: nominal stress components sigma_r, sigma_theta, sigma_z (Pa),
            before the SCF.
        temperature : mapping of str to array_like, shape (P, n)
            Per location: metal temperature (K).
        creep_factor : array_like, shape (P,)
            Creep-strength factor per particle (> 0): rupture time at stress / factor.
        oxidation_factor : array_like, shape (P,)
            Factor on the parabolic rate constant per particle (>= 0).

        Raises
        ------
        TwinInputError
            On a shape mismatch, an unknown or missing location, non-increasing or
            stale times, NaN/inf, or values the laws refuse; the account is then
            unchanged.
        """
        st = self._settings
        P, locs = self._P, st.locations
        started = self._rf.started
        tt = times(t, self._time, first=not started)
        n = tt.shape[0]
        sig = by_location("stress", stress, locs)
        tem = by_location("temperature", temperature, locs)
        cf = vector("creep_factor", creep_factor, P, strict=True)
        of = vector("oxidation_factor", oxidation_factor, P, strict=False)
        arrays = {
            loc: (
                shaped(f"stress[{loc!r}]", sig[loc], (P, 3, n)),
                shaped(f"temperature[{loc!r}]", tem[loc], (P, n)),
            )
            for loc in locs
        }
        w = np.zeros(n)
        if n > 1:
            half = 0.5 * np.diff(tt)
            w[:-1] += half
            w[1:] += half
        h0 = 0.5 * (tt[0] - self._time) if started else 0.0
        w[0] += h0
        R = self._R
        creep = self._creep.copy()
        creep_rate = np.zeros(R)
        ox_inc = np.zeros(P)
        ox_rate = np.zeros(P)
        creep_scale = 1.0 / (st.creep_stress_factor * cf)
        E_lo, E_hi = self._modulus.range
        B = max(1, min(P, _BLOCK_SAMPLES // n))
        res, sc_all, ext_all = count_strain(
            self._rf,
            [(arrays[loc][0], arrays[loc][1], st.stress_concentration[loc]) for loc in locs],
            table=self._modulus.table,
            creep_scale=creep_scale,
            creep_cutoff=st.creep_cutoff,
            min_range=self._fatigue_law.min_range,
            buffer=self._cycles,
        )
        for k, loc in enumerate(locs):
            S_all, T_all = arrays[loc]
            sc, ext = sc_all[k], ext_all[k]
            if not (float(ext[:, 0].min()) >= max(E_lo, 0.0) and float(ext[:, 1].max()) <= E_hi):
                self._modulus.refuse(T_all, field=f"temperature[{loc!r}]")
            if not math.isfinite(float(ext[:, 3].max())):
                refuse_stress(S_all, f"stress[{loc!r}]", 0)
            oxidise = self._oxidation is not None and loc == st.oxidation_location
            for p0 in range(0, P, B):
                p1 = min(P, p0 + B)
                brows = slice(k * P + p0, k * P + p1)
                T = T_all[p0:p1]
                e = ext[p0:p1]
                tmin, tmax = float(e[:, 0].min()), float(e[:, 1].max())
                f = self._rupture.rate(
                    sc[p0:p1],
                    T,
                    smin=float(e[:, 2].min()),
                    smax=float(e[:, 3].max()),
                    tmin=tmin,
                    tmax=tmax,
                    field=f"stress[{loc!r}] (creep stress)",
                    offset=p0,
                )
                inc = h0 * self._creep_rate[brows]
                if f is not None:
                    inc = f @ w + inc
                    creep_rate[brows] = f[:, -1]
                creep[brows] += inc
                if oxidise:
                    assert self._oxidation is not None
                    g = self._oxidation.rate(
                        T, tmin=tmin, tmax=tmax, field=f"temperature[{loc!r}]", offset=p0
                    )
                    ox_inc[p0:p1] = h0 * self._oxidation_rate[p0:p1]
                    if g is not None:
                        ox_inc[p0:p1] = g @ w + ox_inc[p0:p1]
                        ox_rate[p0:p1] = g[:, -1]
        fatigue = self._count(res)
        oxide_sq = self._oxide_sq + of * ox_inc if self._oxidation is not None else self._oxide_sq
        # commit (nothing above changed the account)
        self._rf, self._cycle_damage, self._fatigue_closed, self._fatigue_residue = fatigue
        self._creep, self._creep_rate = creep, creep_rate
        self._oxide_sq, self._oxidation_rate = oxide_sq, ox_rate
        self._time = float(tt[-1])

    def _count(self, res: PushResult) -> tuple[RainflowState, F64, F64, F64]:
        """Damage of a rainflow push: new state, residue pair damages, closed and residue damage."""
        law = self._fatigue_law
        R = self._R
        d_cyc = law.damage(res.ranges, res.temperatures, field="equivalent strain (closed cycle)")
        closed = self._fatigue_closed + np.bincount(
            res.rows, weights=res.counts * d_cyc, minlength=R
        )
        new = res.state
        D = new.values.shape[1]
        pair = np.zeros((R, D))
        if D > 1:
            valid = np.arange(D - 1)[None, :] < (new.depth - 1)[:, None]
            o0, o1 = res.origin[:, :-1], res.origin[:, 1:]
            kept = valid & (o0 >= 0) & (o1 == o0 + 1)
            ri, rj = np.nonzero(kept)
            pair[ri, rj] = self._cycle_damage[ri, o0[ri, rj]]
            ri, rj = np.nonzero(valid & ~kept)
            if ri.shape[0]:
                rng = np.abs(new.values[ri, rj + 1] - new.values[ri, rj])
                tmp = np.maximum(new.temperatures[ri, rj], new.temperatures[ri, rj + 1])
                pair[ri, rj] = law.damage(rng, tmp, field="equivalent strain (residue)")
        terms = residue_terms(new)
        tail = law.damage(
            terms.tail_range, terms.tail_temperature, field="equivalent strain (residue)"
        )
        residue = row_sum(pair * terms.closing) + 0.5 * (row_sum(pair * terms.half) + tail)
        return new, pair, closed, residue

    # ------------------------------------------------------------------ resampling
    def take(self, idx: ArrayLike) -> None:
        """Resample: particle ``i`` becomes the old particle ``idx[i]``.

        Every accumulator, rainflow residue and oxide state follows its particle.

        Parameters
        ----------
        idx : array_like of int, shape (P',)
            Indices into the current particles (repeats allowed).
        """
        ix = np.asarray(idx)
        if ix.ndim != 1 or ix.shape[0] < 1 or not np.issubdtype(ix.dtype, np.integer):
            raise TwinInputError(
                f"idx: must be a non-empty 1-D integer array; got dtype {ix.dtype} and shape "
                f"{ix.shape}."
            )
        if int(ix.min()) < 0 or int(ix.max()) >= self._P:
            bad = int(ix[(ix < 0) | (ix >= self._P)][0])
            raise TwinInputError(f"idx: {bad} is not a particle index (0..{self._P - 1}).")
        ix = ix.astype(np.intp)
        L = len(self._settings.locations)
        rows = (np.arange(L, dtype=np.intp)[:, None] * self._P + ix[None, :]).ravel()
        self._rf = self._rf.take(rows)
        self._cycle_damage = self._cycle_damage[rows]
        self._fatigue_closed = self._fatigue_closed[rows]
        self._fatigue_residue = self._fatigue_residue[rows]
        self._creep = self._creep[rows]
        self._creep_rate = self._creep_rate[rows]
        self._oxide_sq = self._oxide_sq[ix]
        self._oxidation_rate = self._oxidation_rate[ix]
        self._P = int(ix.shape[0])
        self._R = self._P * L

    # ------------------------------------------------------------------ persistence
    def state_dict(self) -> dict[str, Any]:
        """Return the state: NumPy arrays plus JSON-able values (no pickle needed).

        The arrays round-trip exactly through ``.npz`` or zarr, the rest through JSON;
        a restored account continues byte-identically.
        """
        rf = self._rf
        return {
            "schema_version": SCHEMA_VERSION,
            "settings": self._settings.to_dict(),
            "n_particles": self._P,
            "t0": self._t0,
            "time": self._time,
            "started": rf.started,
            "rainflow_values": rf.values.copy(),
            "rainflow_temperatures": rf.temperatures.copy(),
            "rainflow_depth": rf.depth.copy(),
            "rainflow_last": rf.last.copy(),
            "rainflow_last_temperature": rf.last_temperature.copy(),
            "rainflow_direction": rf.direction.copy(),
            "residue_pair_damage": self._cycle_damage.copy(),
            "fatigue_closed": self._fatigue_closed.copy(),
            "fatigue_residue": self._fatigue_residue.copy(),
            "creep": self._creep.copy(),
            "creep_rate_last": self._creep_rate.copy(),
            "oxide_squared": self._oxide_sq.copy(),
            "oxidation_rate_last": self._oxidation_rate.copy(),
        }

    @classmethod
    def from_state_dict(cls, d: Mapping[str, Any]) -> DamageAccount:
        """Restore an account saved by :meth:`state_dict` (arrays may come from npz/zarr).

        Raises
        ------
        TwinInputError
            If the schema version is unknown or a field is missing or has the wrong shape.
        """
        if d.get("schema_version") != SCHEMA_VERSION:
            raise TwinInputError(
                f"state.schema_version: must be {SCHEMA_VERSION}; got "
                f"{d.get('schema_version')!r}. Save the state with this version."
            )
        try:
            settings = DamageSettings.from_dict(d["settings"])
            P = int(d["n_particles"])
            obj = cls(settings, n_particles=P, t0=float(d["t0"]))
            R = obj._R
            D = np.asarray(d["rainflow_values"]).shape[-1]

            def arr(key: str, shape: tuple[int, ...], dtype: Any = np.float64) -> Any:
                a = np.asarray(d[key])
                if a.shape != shape:
                    raise TwinInputError(f"state.{key}: must have shape {shape}; got {a.shape}.")
                return np.array(a, dtype=dtype)

            obj._rf = RainflowState(
                values=arr("rainflow_values", (R, D)),
                temperatures=arr("rainflow_temperatures", (R, D)),
                depth=arr("rainflow_depth", (R,), np.int64),
                last=arr("rainflow_last", (R,)),
                last_temperature=arr("rainflow_last_temperature", (R,)),
                direction=arr("rainflow_direction", (R,), np.int8),
                started=bool(d["started"]),
            )
            obj._cycle_damage = arr("residue_pair_damage", (R, D))
            obj._fatigue_closed = arr("fatigue_closed", (R,))
            obj._fatigue_residue = arr("fatigue_residue", (R,))
            obj._creep = arr("creep", (R,))
            obj._creep_rate = arr("creep_rate_last", (R,))
            obj._oxide_sq = arr("oxide_squared", (P,))
            obj._oxidation_rate = arr("oxidation_rate_last", (P,))
            obj._time = float(d["time"])
        except KeyError as err:
            raise TwinInputError(
                f"state: missing field {err.args[0]!r}; pass a dictionary from state_dict()."
            ) from err
        if int(obj._rf.depth.max(initial=0)) > D:
            raise TwinInputError(
                f"state.rainflow_depth: exceeds the stored residue width {D}; the state is corrupt."
            )
        return obj
