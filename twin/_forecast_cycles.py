r"""Damage per cycle kind and per particle, computed once with the modal filter.

Every cycle kind of a plan (each start-up kind, and the trip) is simulated once per
forecast particle and per wall thickness node through the twin's own forward model
(:func:`simulate` on a :class:`twin.model.ComponentModel`: the per-particle modes at
the property temperature of the metal, refreshed every block of plant time, as in
assimilation)
and accounted with a fresh :class:`twin.damage.DamageAccount`:

- **fatigue per cycle**: the cycle fed twice; the damage of the cycles that close in
  the second pass is the per-cycle damage of the cycle repeated (the count of a
  periodic history, ASTM E1049-85 with the history started at its extreme);
- **creep per cycle** at each creep-strength-factor node (the account's rows repeated
  per node), and the **creep stress and metal temperature at the hold** (the settled
  stress under the hold pressure), from which the forecast evaluates the rupture rate
  per hold hour for every sample at its own wall and factor;
- **oxide growth per cycle** (:math:`\Delta x^2` at oxidation factor 1; the parabolic
  law is linear in the factor).

A start-up cycle is: ramp up from the start to the hold (pressure linear with it),
``settle`` at the hold, shut down at the shut-down rate, ``settle`` at rest; ``settle``
is six times the longest mode time constant, so the wall is back in equilibrium
(within ``exp(-6)``, 0.25 %) and the cycle repeats. A trip cycle starts in equilibrium
at its kind's hold, cools at the trip rate by the trip's drop, stays off, reheats at
the kind's ramp rate and settles at the hold. The forecast adds each cycle's hold
beyond the simulated ``settle`` at the hold's steady rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from twin.errors import TwinConfigError
from twin.plan import DutyPlan, StartupKind, Trips

__all__ = ["CycleShape", "CycleTables", "build_cycle_tables", "cycle_shapes", "restart", "simulate"]

F64 = NDArray[np.float64]
SETTLE_TAUS = 6.0


@dataclass(frozen=True)
class CycleShape:
    """One cycle's fluid temperature and pressure history, SI.

    Attributes
    ----------
    name : str
        Start-up kind name, or ``"trip"``.
    t, fluid_temperature, pressure : numpy.ndarray, shape (n,)
        From ``t[0] = 0`` in equilibrium; piecewise linear between the corners.
    hold_index : int
        Sample at the end of the simulated hold (hold conditions, settled).
    hold_kind : int
        Index of the start-up kind whose hold the cycle reaches.
    settle : float
        Time at the hold inside the simulated cycle, s.
    operating : float
        Operating time the cycle adds besides its hold (the ramps and the trip), s.
    """

    name: str
    t: F64
    fluid_temperature: F64
    pressure: F64
    hold_index: int
    hold_kind: int
    settle: float
    operating: float


def _polyline(
    corners: list[tuple[float, float, float]], dt: float
) -> tuple[F64, F64, F64, list[int]]:
    """Sample a piecewise-linear (t, T, p) history: each segment in equal steps <= dt."""
    ts, Ts, ps, at = (
        [np.array([corners[0][0]])],
        [np.array([corners[0][1]])],
        [np.array([corners[0][2]])],
        [0],
    )
    n = 0
    for (t0, T0, p0), (t1, T1, p1) in zip(corners[:-1], corners[1:], strict=True):
        if t1 <= t0:
            at.append(n)
            continue
        k = max(1, math.ceil((t1 - t0) / dt - 1e-9))
        s = np.arange(1, k + 1) / k
        ts.append(t0 + (t1 - t0) * s)
        Ts.append(T0 + (T1 - T0) * s)
        ps.append(p0 + (p1 - p0) * s)
        n += k
        at.append(n)
    return np.concatenate(ts), np.concatenate(Ts), np.concatenate(ps), at


def _startup(kind: StartupKind, index: int, settle: float, dt: float) -> CycleShape:
    k = kind
    c = [(0.0, k.start_temperature, k.start_pressure)]
    c.append((c[-1][0] + k.ramp_time, k.hold_temperature, k.hold_pressure))
    c.append((c[-1][0] + settle, k.hold_temperature, k.hold_pressure))
    c.append((c[-1][0] + k.shutdown_time, k.start_temperature, k.start_pressure))
    c.append((c[-1][0] + settle, k.start_temperature, k.start_pressure))
    t, T, p, at = _polyline(c, dt)
    return CycleShape(k.name, t, T, p, at[2], index, settle, k.ramp_time + k.shutdown_time)


def _trip(trips: Trips, kind: StartupKind, index: int, settle: float, dt: float) -> CycleShape:
    T_h, p_h = kind.hold_temperature, kind.hold_pressure
    T_l = T_h - trips.temperature_drop
    cool = trips.temperature_drop / trips.cooling_rate
    reheat = trips.temperature_drop / kind.ramp_rate
    c = [(0.0, T_h, p_h), (cool, T_l, trips.pressure), (cool + trips.off, T_l, trips.pressure)]
    c.append((c[-1][0] + reheat, T_h, p_h))
    c.append((c[-1][0] + settle, T_h, p_h))
    t, T, p, at = _polyline(c, dt)
    return CycleShape("trip", t, T, p, at[4], index, settle, cool + trips.off + reheat)


def cycle_shapes(plan: DutyPlan, *, settle: float, dt: float) -> tuple[CycleShape, ...]:
    """Return the cycles of a plan: one per start-up kind, then the trip (if any)."""
    shapes = [_startup(k, i, settle, dt) for i, k in enumerate(plan.startups)]
    if plan.trips is not None:
        i = [k.name for k in plan.startups].index(plan.trips.kind)
        shapes.append(_trip(plan.trips, plan.startups[i], i, settle, dt))
    return tuple(shapes)


@dataclass(frozen=True)
class CycleTables:
    r"""Per-cycle damage of every cycle kind, wall node and particle.

    Shapes use K cycle kinds, J wall nodes, L damage locations, P particles, M
    creep-strength-factor nodes.

    Attributes
    ----------
    shapes : tuple of CycleShape
    locations : tuple of str
    wall_offsets : numpy.ndarray, shape (J,)
        Wall lost since the forecast start at each node, m (node 0 is 0).
    creep_factors : numpy.ndarray, shape (M,)
        Creep-strength-factor nodes (increasing).
    fatigue : numpy.ndarray, shape (K, J, L, P)
        Fatigue damage per cycle (the cycle repeated).
    creep : numpy.ndarray, shape (K, J, L, P, M)
        Creep damage of the simulated cycle (with its ``settle`` at the hold).
    oxide : numpy.ndarray, shape (K, J, P)
        Growth of the squared oxide thickness over the simulated cycle at oxidation
        factor 1, m^2.
    hold_stress : numpy.ndarray, shape (K, J, L, P)
        Creep stress at the settled hold before the creep-strength factor
        (:math:`K_L \bar\\sigma / K'`, as :class:`twin.damage.DamageAccount`), Pa.
    hold_temperature : numpy.ndarray, shape (K, J, L, P)
        Metal temperature at the settled hold, K.
    settle : float
        Time at the hold (and at rest) inside each simulated start-up, s.
    out_of_range : numpy.ndarray of bool, shape (P,)
        Particles whose wall nodes left the mode surrogate's trained range.
    histories : dict or None
        ``{(kind, node): (t, stress {loc: (P, 3, n)}, temperature {loc: (P, n)})}`` when
        built with ``keep_histories=True`` (verification).
    """

    shapes: tuple[CycleShape, ...]
    locations: tuple[str, ...]
    wall_offsets: F64
    creep_factors: F64
    fatigue: F64
    creep: F64
    oxide: F64
    hold_stress: F64
    hold_temperature: F64
    settle: float
    out_of_range: NDArray[np.bool_]
    histories: dict[tuple[int, int], Any] | None = None


def _von_mises(s: F64) -> F64:
    """Von Mises stress of (..., 3) principal components (r, theta, z)."""
    a, b, c = s[..., 0], s[..., 1], s[..., 2]
    return np.asarray(np.sqrt(0.5 * ((a - b) ** 2 + (b - c) ** 2 + (c - a) ** 2)))


def restart(cm: Any, t0: float, fluid_temperature: float, pressure: float) -> None:
    """Begin a :class:`~twin.model.ComponentModel` again at rest in equilibrium with the fluid.

    As :meth:`~twin.model.ComponentModel.start` with the current parameters, but the
    mode table is not rebuilt (the heat-transfer coefficient and wall have not moved):
    only the property temperature follows the new fluid temperature.
    """
    cm.T_f0 = float(fluid_temperature)
    cm.eps_th0 = float(cm.material.thermal_strain(cm.T_f0, cm.reference_temperature))
    cm.damage = type(cm.damage)(cm.damage.settings, n_particles=cm.n_particles, t0=t0)
    cm.last_y = np.zeros_like(cm.last_y)
    cm.creep_strain = np.zeros(cm.n_particles)
    cm.refresh(t0)
    cm.filter.start(t0, fluid_temperature, pressure)


def simulate(cm: Any, t: F64, fluid_temperature: F64, pressure: F64, *, block: float) -> Any:
    """Advance every particle of a model through a whole history, without damage accounting.

    The history is advanced in blocks of plant time ``block`` (s, aligned to the start),
    the modes refreshed before each block from the property temperature at its start,
    as :class:`twin.state.Twin` does between its blocks (the quasi-linear model).

    Parameters
    ----------
    cm : twin.model.ComponentModel
        Started (or restarted) model.
    t : numpy.ndarray, shape (n,)
        Times (s), increasing, after the start.
    fluid_temperature, pressure : numpy.ndarray, shape (n,)
        Inputs at ``t`` (K, Pa), linear in between.
    block : float
        Plant time between two refreshes of the modes (s, > 0).

    Returns
    -------
    twin.model.BlockOutputs
    """
    from twin.model import BlockOutputs

    if not block > 0.0:
        raise TwinConfigError(f"block: must be > 0 s (got {block!r})")
    t_start = float(cm.filter.state.t_last)
    k = np.floor((t - t_start) / block)
    cuts = (np.flatnonzero(np.diff(k)) + 1).tolist()
    parts = []
    for lo, hi in zip([0, *cuts], [*cuts, t.size], strict=True):
        cm.refresh(float(t[lo]))
        y = cm.filter.advance(t[lo:hi], fluid_temperature[lo:hi], pressure[lo:hi])
        cm.last_y = y[:, :, -1].copy()
        parts.append(y)
    return BlockOutputs(
        t=t, y=np.concatenate(parts, axis=2), u=fluid_temperature - cm.T_f0, p=pressure
    )


def build_cycle_tables(
    *,
    model_parts: Any,
    plan: DutyPlan,
    bore_htc: F64,
    wall: F64,
    wall_offsets: F64,
    creep_factors: F64,
    dt: float = 60.0,
    settle: float | None = None,
    keep_histories: bool = False,
) -> CycleTables:
    """Simulate and account every cycle kind of ``plan`` for every particle and wall node.

    Parameters
    ----------
    model_parts : twin.forecast.ModelParts
        Settings, surrogate, material and damage settings of the component.
    plan : DutyPlan
    bore_htc, wall : numpy.ndarray, shape (P,)
        Heat-transfer coefficient (W m-2 K-1) and wall (m) of each particle now.
    wall_offsets : numpy.ndarray, shape (J,)
        Future wall loss at each node, m (first 0, increasing).
    creep_factors : numpy.ndarray, shape (M,)
        Creep-strength-factor nodes (> 0, increasing).
    dt : float, optional
        Largest sampling step of the simulated cycles, s.
    settle : float, optional
        Time at the hold and at rest in each simulated cycle, s; default
        :data:`SETTLE_TAUS` times the longest mode time constant of the particles.
    keep_histories : bool, optional
        Keep the simulated stress and temperature histories.
    """
    from twin.damage import DamageAccount
    from twin.model import ComponentModel

    mp = model_parts
    P, J, M = bore_htc.size, wall_offsets.size, creep_factors.size
    n = P * J
    settings = mp.settings
    cm = ComponentModel(
        settings,
        mp.surrogate,
        material=mp.material,
        material_name=mp.damage_settings.material,
        reference_temperature=mp.reference_temperature,
        n_particles=n,
        mode_std=False,
    )
    sampled = settings.sampled  # the particle columns of the model
    phys = np.tile(np.array([p.prior.interval(0.0)[0] for p in sampled]), (n, 1))
    names = tuple(p.name for p in sampled)
    phys[:, names.index("bore_htc")] = np.tile(bore_htc, J)
    phys[:, names.index("bore_htc_drift")] = 0.0
    walls = (wall[None, :] - wall_offsets[:, None]).ravel()  # row = node * P + particle
    if not np.all(walls > 0):
        raise TwinConfigError(f"forecast: a wall node is not positive ({walls.min()!r} m)")
    phys[:, names.index("wall_thickness")] = walls
    kinds = plan.startups
    cm.start(-dt, kinds[0].start_temperature, kinds[0].start_pressure, cm.unconstrained(phys))
    assert cm.filter is not None
    if settle is None:
        bank = cm.filter.bank
        live = np.abs(bank.amplitudes) > 0.0
        tau_max = float(bank.time_constants[live].max()) if live.any() else 1.0
        settle = SETTLE_TAUS * tau_max
    shapes = cycle_shapes(plan, settle=settle, dt=dt)
    locs = settings.damage_locations
    ds = mp.damage_settings
    L, K = len(locs), len(shapes)
    fatigue = np.zeros((K, J, L, P))
    creep = np.zeros((K, J, L, P, M))
    oxide = np.zeros((K, J, P))
    hold_stress = np.zeros((K, J, L, P))
    hold_T = np.zeros((K, J, L, P))
    histories: dict[tuple[int, int], Any] | None = {} if keep_histories else None
    x0_sq = ds.initial_oxide_thickness**2
    for k, shape in enumerate(shapes):
        restart(cm, -dt, float(shape.fluid_temperature[0]), float(shape.pressure[0]))
        out = simulate(cm, shape.t, shape.fluid_temperature, shape.pressure, block=settings.block)
        stress = {loc: cm.stress(out, loc) for loc in locs}
        temp = {loc: cm.metal_temperature(out, loc) for loc in locs}
        # creep and oxide: one pass, rows repeated per creep-factor node
        acc = DamageAccount(ds, n_particles=n * M, t0=-dt)
        acc.advance(
            shape.t,
            {loc: np.repeat(stress[loc], M, axis=0) for loc in locs},
            {loc: np.repeat(temp[loc], M, axis=0) for loc in locs},
            creep_factor=np.tile(creep_factors, n),
            oxidation_factor=np.ones(n * M),
        )
        oxide[k] = (acc.oxide_thickness[::M] ** 2 - x0_sq).reshape(J, P)
        # fatigue: the cycle twice, the second pass's closed cycles
        fat = DamageAccount(ds, n_particles=n, t0=-dt)
        fat.advance(shape.t, stress, temp, creep_factor=np.ones(n), oxidation_factor=np.ones(n))
        first = {loc: fat.fatigue(loc, include_residue=False) for loc in locs}
        period = float(shape.t[-1] - shape.t[0])
        fat.advance(
            shape.t[1:] + period,
            {loc: stress[loc][:, :, 1:] for loc in locs},
            {loc: temp[loc][:, 1:] for loc in locs},
            creep_factor=np.ones(n),
            oxidation_factor=np.ones(n),
        )
        h = shape.hold_index
        for li, loc in enumerate(locs):
            fatigue[k, :, li] = (fat.fatigue(loc, include_residue=False) - first[loc]).reshape(J, P)
            creep[k, :, li] = acc.creep(loc).reshape(J, P, M)
            scale = ds.stress_concentration[loc] / ds.creep_stress_factor
            hold_stress[k, :, li] = (scale * _von_mises(stress[loc][:, :, h])).reshape(J, P)
            hold_T[k, :, li] = temp[loc][:, h].reshape(J, P)
        if histories is not None:
            for j in range(J):
                rows = slice(j * P, (j + 1) * P)
                histories[(k, j)] = (
                    shape.t,
                    {loc: stress[loc][rows] for loc in locs},
                    {loc: temp[loc][rows] for loc in locs},
                )
    return CycleTables(
        shapes=shapes,
        locations=tuple(locs),
        wall_offsets=np.asarray(wall_offsets, dtype=np.float64),
        creep_factors=np.asarray(creep_factors, dtype=np.float64),
        fatigue=fatigue,
        creep=creep,
        oxide=oxide,
        hold_stress=hold_stress,
        hold_temperature=hold_T,
        settle=settle,
        out_of_range=cm.out_of_range.reshape(J, P).any(axis=0),
        histories=histories,
    )
