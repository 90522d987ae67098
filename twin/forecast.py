r"""Remaining-life forecast: Monte Carlo over posterior x material scatter x duty plan.

A sample :math:`s` is a particle of the twin's posterior (drawn by weight; the
parameters the sensors cannot identify, :attr:`twin.state.Twin.held`, drawn from their
priors), a material (fatigue-life factor :math:`\phi_s = 10^{z\,s_f}`, Larson-Miller
constant :math:`C_s = C + z'\,s_C`, :mod:`models.life.scatter`'s models) and a
realisation of the duty plan (:mod:`twin.plan`) over the horizon. In year :math:`y`
with :math:`n_{k}` cycles of kind :math:`k` (start-ups and trips) and holds
:math:`H_k` beyond the simulated settle :math:`S`, the increments per year of operation
at wall node :math:`j` are

.. math::

    I_{f,j} &= \sum_k n_k\, F_{kj} / \phi_s, \\
    I_{c,j} &= 10^{C_s - C} \sum_k n_k \max\!\big(0,\;
        C_{kj}(f_s) + (H_k - S)\, / t_R(\sigma_{kj} / f_s, T_{kj})\big), \\
    I_{x,j} &= f_{ox,s} \sum_k n_k \max\!\big(0,\; X_{kj} + (H_k - S)\, k_p(T_{kj})\big),

where :math:`F, C, X` are the fatigue, creep and oxide growth (:math:`\Delta x^2`) of
one simulated cycle and :math:`\sigma, T` its settled hold creep stress and metal
temperature (:mod:`twin._forecast_cycles`: computed **once** per particle at a few wall
losses :math:`\delta_j` and creep-strength factors, interpolated log-log in the
factor), :math:`t_R` the Larson-Miller rupture time and :math:`k_p` the parabolic rate
(the laws of :mod:`twin._damage_laws`, evaluated once per sample and node). Each time
step :math:`\Delta t` (``steps_per_year``) adds :math:`\Delta t\, I(\delta)`, the
increments interpolated linearly in their logarithm between the two nodes around the
sample's current wall loss :math:`\delta = w_{now} - w`, with
:math:`w = w_0 - (x - x_0) / r`: oxidation thins the wall, which raises the pressure
stress and so the creep rate of the next step (explicit in time). Failure is the first
of: the damage point :math:`(D_f, D_c)` reaching the creep-fatigue envelope scaled by
the user's ``damage_limit`` (mechanism ``creep`` when it leaves through the envelope's
creep-side leg, :math:`D_f \le d_f`, else ``fatigue``), or the wall reaching
``twin.minimum_wall_thickness_m`` (``wall_thinning``, at the oxidised location); the
crossing time inside a step is exact for the step's linear damage and linear growth of
:math:`x^2`. The past (the checkpoint's damage) carries the sample's material: fatigue
divided by :math:`\phi_s`, creep times :math:`10^{C_s-C}` and the ratio of the
per-cycle creep at :math:`f_s` to that at the particle's factor, oxide growth scaled by
the ratio of oxidation factors.

Not propagated: the drift of the heat-transfer coefficient over the horizon (the
cycles use today's), the interaction of cycles of different kinds in the rainflow
count (each kind is counted as repeated on its own), the hold time lost to trips.
Vectorised: the per-year increments are NumPy arrays over samples, years and nodes;
the time steps run in a compiled loop (:mod:`twin._forecast_kernel`).
"""

from __future__ import annotations

import math
import pathlib
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from twin._forecast_cycles import CycleTables, build_cycle_tables
from twin._forecast_posterior import ModelParts, Posterior
from twin.errors import TwinConfigError
from twin.plan import DutyPlan

__all__ = ["ForecastOptions", "ForecastResult", "Forecaster", "ModelParts", "Posterior"]

F64 = NDArray[np.float64]
YEAR = 365.25 * 86400.0
MECHANISMS = ("none", "creep", "fatigue", "wall_thinning")
_HELD_SAMPLED = ("creep_strength_factor", "oxidation_factor")


@dataclass(frozen=True)
class ForecastOptions:
    """Settings of a forecast run.

    Attributes
    ----------
    samples : int
        Monte Carlo samples (1000).
    horizon_years : float
        Forecast horizon (40).
    steps_per_year : int
        Time steps per year (12).
    damage_limit : float
        Failure when the damage point reaches this fraction of the creep-fatigue
        envelope (1: the envelope itself; 0 < limit <= 1).
    wall_nodes : int
        Wall thicknesses at which the cycles are simulated (3).
    creep_nodes : int
        Creep-strength factors at which the cycles are accounted (5).
    cycle_step_s : float
        Largest sampling step of the simulated cycles, s (60).
    material_scatter : bool
        Sample the material scatter (False: the mean curves).
    sample_held : bool
        Sample the held parameters from their priors (False: their prior medians).
    max_particles : int
        Posterior particles kept for the forecast (systematic thinning beyond).
    """

    samples: int = 1000
    horizon_years: float = 40.0
    steps_per_year: int = 12
    damage_limit: float = 1.0
    wall_nodes: int = 3
    creep_nodes: int = 5
    cycle_step_s: float = 60.0
    material_scatter: bool = True
    sample_held: bool = True
    max_particles: int = 200

    def __post_init__(self) -> None:
        ints = ("samples", "steps_per_year", "wall_nodes", "creep_nodes", "max_particles")
        for name in ints:
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
                raise TwinConfigError(f"forecast.{name}: must be an integer >= 1 (got {v!r})")
        for name in ("horizon_years", "cycle_step_s"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and math.isfinite(v) and v > 0):
                raise TwinConfigError(f"forecast.{name}: must be a number > 0 (got {v!r})")
        if not (isinstance(self.damage_limit, int | float) and 0 < self.damage_limit <= 1):
            raise TwinConfigError(
                f"forecast.damage_limit: must be in (0, 1] (got {self.damage_limit!r})"
            )


@dataclass
class ForecastResult:
    """Samples and trajectories of one forecast (see :mod:`twin._forecast_output`).

    Attributes
    ----------
    plan : DutyPlan
    years : numpy.ndarray, shape (N + 1,)
        Time since the forecast start at the step ends, years.
    time_to_failure : numpy.ndarray, shape (S,)
        Years from the forecast start; ``inf`` for samples that survive the horizon.
    mechanism : numpy.ndarray of int, shape (S,)
        Index into :data:`MECHANISMS`.
    location : numpy.ndarray of int, shape (S,)
        Index into ``locations`` of the failing location, -1 for survivors.
    locations : tuple of str
    trajectories : dict of str to numpy.ndarray
        ``usage``, ``fatigue``, ``creep`` (N + 1, S, L) and ``wall`` (N + 1, S, m).
    samples : dict of str to numpy.ndarray
        What each sample drew: ``particle``, ``creep_strength_factor``,
        ``oxidation_factor``, ``fatigue_life_factor``, ``larson_miller_C``.
    meta : dict
        Component, site, seed, horizon, start time, limits, settle time.
    """

    plan: DutyPlan
    years: F64
    time_to_failure: F64
    mechanism: NDArray[np.int8]
    location: NDArray[np.int8]
    locations: tuple[str, ...]
    trajectories: dict[str, NDArray[Any]]
    samples: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """Return the ``twin forecast --json`` object (:func:`~twin._forecast_output.summary`)."""
        from twin._forecast_output import summary

        return summary(self)

    def dataset(self) -> Any:
        """All of it as an :class:`xarray.Dataset` (:func:`twin._forecast_output.dataset`)."""
        from twin._forecast_output import dataset

        return dataset(self)


def _stream(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=key))


def _name_key(name: str) -> int:
    return zlib.crc32(name.encode())


class Forecaster:
    """Forecasts of one component from its posterior (see the module docstring).

    Parameters
    ----------
    parts : ModelParts
    posterior : Posterior
    options : ForecastOptions, optional
    """

    def __init__(
        self, *, parts: ModelParts, posterior: Posterior, options: ForecastOptions | None = None
    ) -> None:
        from models.life import larson_miller, oxidation_law
        from twin._damage_laws import OxidationRate, RuptureRate

        self.parts = parts
        self.posterior = posterior
        self.options = options or ForecastOptions()
        ds = parts.damage_settings
        self.curve = larson_miller(ds.material)
        self.rupture = RuptureRate(
            self.curve,
            cutoff=ds.creep_cutoff,
            below_range=ds.creep_below_range,
            extrapolate=ds.extrapolate,
        )
        self.oxidation: OxidationRate | None = None
        self.pilling_bedworth = 1.0
        if ds.oxidation_location is not None:
            assert ds.oxidation_cutoff is not None
            law = oxidation_law(ds.material)
            self.oxidation = OxidationRate(
                law, cutoff=ds.oxidation_cutoff, extrapolate=ds.extrapolate
            )
            self.pilling_bedworth = law.pilling_bedworth
        from models.life import creep_fatigue_envelope

        self.envelope = creep_fatigue_envelope(ds.material)
        self._tables: dict[Any, CycleTables] = {}

    # ------------------------------------------------------------ construction
    @classmethod
    def from_twin(cls, twin: Any, *, options: ForecastOptions | None = None) -> Forecaster:
        """Build a forecaster of a twin's current posterior."""
        opts = options or ForecastOptions()
        post = Posterior.from_twin(twin, max_particles=opts.max_particles)
        return cls(parts=ModelParts.from_twin(twin), posterior=post, options=opts)

    @classmethod
    def from_checkpoint(
        cls,
        path: str | pathlib.Path,
        *,
        surrogate: Any = None,
        options: ForecastOptions | None = None,
    ) -> Forecaster:
        """Build a forecaster of the twin in a checkpoint (or the out folder holding one).

        Reads the posterior and damage from the checkpoint without rebuilding the
        twin's filter (:func:`twin._forecast_posterior.read_posterior`): the same
        posterior as :meth:`from_twin` of the restored twin.
        """
        from twin._forecast_posterior import read_posterior

        opts = options or ForecastOptions()
        parts, post = read_posterior(path, surrogate=surrogate, max_particles=opts.max_particles)
        return cls(parts=parts, posterior=post, options=opts)

    # ------------------------------------------------------------ draws
    def draw(self, plan: DutyPlan, seed: int) -> dict[str, Any]:
        """Every random quantity of a run: posterior, material and plan samples.

        Independent streams per quantity (and per start-up kind, by name), so two plans
        share their posterior and material samples and, kind by kind, their plan
        draws: comparisons use common random numbers.
        """
        o, post, st = self.options, self.posterior, self.parts.settings
        S = o.samples
        Y = math.ceil(o.horizon_years)
        rng = _stream(seed, 1)
        cdf = np.cumsum(post.weights)
        cdf[-1] = 1.0
        particle = np.minimum(np.searchsorted(cdf, rng.random(S)), post.n_particles - 1)
        priors = {p.name: p.prior for p in st.parameters}
        out: dict[str, Any] = {"particle": particle}
        for name in _HELD_SAMPLED:
            draw = priors[name].sample(_stream(seed, 2, _name_key(name)), S)
            held = o.sample_held and name in post.held
            out[name] = draw if held else post.params[name][particle]
        z = _stream(seed, 3).standard_normal((2, S))
        sf = st.fatigue_log10_std if o.material_scatter else 0.0
        sc = st.larson_miller_C_std if o.material_scatter else 0.0
        out["fatigue_life_factor"] = 10.0 ** (sf * z[0])
        out["larson_miller_C"] = self.curve.C + sc * z[1]

        def sample(dist: Any, *key: int) -> F64:
            shape = (S, 1) if dist.varies == "once" else (S, Y)
            return np.broadcast_to(dist.sample(_stream(seed, 4, *key), shape), (S, Y))

        out["starts"] = np.stack(
            [sample(k.starts_per_year, _name_key(k.name), 0) for k in plan.startups], -1
        )
        out["hold"] = np.stack([sample(k.hold, _name_key(k.name), 1) for k in plan.startups], -1)
        out["trips"] = (
            sample(plan.trips.per_year, _name_key("trip")) if plan.trips else np.zeros((S, Y))
        )
        op = np.ones((S, Y))
        if plan.outages is not None:
            days = sample(plan.outages.duration, _name_key("outage"))
            at = np.arange(Y, dtype=np.float64)
            k = np.floor((at + 1.0 - 1e-9 - plan.outages.first) / plan.outages.every)
            hit = (k >= 0) & (plan.outages.first + k * plan.outages.every >= at)
            op = np.where(hit[None, :], np.clip(1.0 - days * 86400.0 / YEAR, 0.0, 1.0), 1.0)
        out["operating_fraction"] = op
        return out

    # ------------------------------------------------------------ cycle tables
    def tables(self, plan: DutyPlan, *, creep_factors: F64, wall_offsets: F64) -> CycleTables:
        """Return the per-cycle tables of a plan's cycle shapes (cached)."""
        shape_key = (
            tuple((k.start_temperature, k.hold_temperature, k.start_pressure, k.hold_pressure,
                   k.ramp_rate, k.shutdown_rate) for k in plan.startups),
            None if plan.trips is None else (plan.trips.kind, plan.trips.temperature_drop,
                                             plan.trips.cooling_rate, plan.trips.pressure,
                                             plan.trips.off),
            tuple(np.round(creep_factors, 12)), tuple(np.round(wall_offsets, 12)),
        )  # fmt: skip
        hit = self._tables.get(shape_key)
        if hit is None:
            hit = build_cycle_tables(
                model_parts=self.parts,
                plan=plan,
                bore_htc=self.posterior.bore_htc,
                wall=self.posterior.wall,
                wall_offsets=wall_offsets,
                creep_factors=creep_factors,
                dt=self.options.cycle_step_s,
            )
            if len(self._tables) > 16:
                self._tables.clear()
            self._tables[shape_key] = hit
        return hit

    def _nodes(self, plan: DutyPlan, draws: dict[str, Any]) -> tuple[F64, F64]:
        o = self.options
        f = np.asarray(draws["creep_strength_factor"], dtype=np.float64)
        f = np.concatenate([f, self.posterior.params["creep_strength_factor"]])
        lo, hi = float(f.min()), float(f.max())
        if o.creep_nodes == 1 or hi <= lo * (1.0 + 1e-12):
            cf = np.array([math.sqrt(lo * hi)])
        else:
            cf = np.exp(np.linspace(math.log(lo), math.log(hi), o.creep_nodes))
        if self.oxidation is None or o.wall_nodes == 1:
            return cf, np.zeros(1)
        T_hot = max(k.hold_temperature for k in plan.startups)
        kp = self.oxidation.rate(
            np.array([T_hot]), tmin=T_hot, tmax=T_hot, field="hold temperature"
        )
        rate = 0.0 if kp is None else float(kp[0])
        of = float(np.max(draws["oxidation_factor"]))
        x_now = np.sqrt(self.posterior.oxide_sq)
        x_end = np.sqrt(self.posterior.oxide_sq + of * rate * o.horizon_years * YEAR)
        loss = float(np.max(x_end - x_now)) / self.pilling_bedworth
        w_min = self.parts.settings.minimum_wall_thickness
        if w_min is not None:
            loss = min(loss, float(np.max(self.posterior.wall - w_min)))
        loss = max(loss, 1e-6)
        return cf, np.linspace(0.0, loss, o.wall_nodes)

    # ------------------------------------------------------------ run
    def run(
        self,
        plan: DutyPlan,
        *,
        seed: int = 0,
        progress: Callable[[int], None] | None = None,
    ) -> ForecastResult:
        """Forecast under ``plan``; the same seed gives the same result.

        Parameters
        ----------
        plan : DutyPlan
        seed : int, optional
        progress : callable, optional
            Called with the number of time steps done since the last call.
        """
        from twin._forecast_step import integrate

        draws = self.draw(plan, seed)
        cf, wo = self._nodes(plan, draws)
        tables = self.tables(plan, creep_factors=cf, wall_offsets=wo)
        result = integrate(self, plan, tables, draws, progress=progress)
        result.meta.update(
            component=self.parts.component,
            site=self.parts.site,
            seed=int(seed),
            start_time=self.posterior.time,
            settle_s=tables.settle,
            particles=self.posterior.n_particles,
            surrogate_out_of_range=float(np.mean(tables.out_of_range[draws["particle"]])),
        )
        return result
