"""The component twin: readings in, posterior, damage and health out, state kept.

:class:`Twin` is a deterministic function of (config, seed, readings): no wall clock,
no global randomness. Readings are assimilated in **blocks of plant time**
(``[twin] block_s``, aligned to multiples of the block length since the epoch). A
block is closed, and assimilated, once the newest reading seen is ``lateness_s`` past
its end; a reading that arrives after its block was closed is *late*: it is counted
(``late_readings``) and reported, never assimilated silently. Because closing depends
only on the order of the readings, not on how they were batched, the state after N
readings is the same whether they came one by one or all at once.

Within a block the readings are sorted by time (then sensor, then arrival), checked
for plausibility (:class:`twin.health.PlausibilityChecker`), and the good ones
assimilated: fluid temperature and pressure readings are the model's inputs
(piecewise linear between readings, held after the last one), the others are
observations weighed by the particle filter (:mod:`twin.filter`). Normalised
innovations feed a CUSUM per sensor (:class:`twin.health.InnovationMonitor`) that
flags bias steps and drifts the plausibility checks cannot see.

Python::

    from models.config import load_config
    from twin import Twin
    cfg = load_config("examples/grade91_header.toml")
    twin = Twin.from_config(cfg, rng=np.random.default_rng(0))
    twin.update(readings)          # any object with time, sensor, value (and quality)
    twin.state                     # posterior, damage, wall, filter and sensor health
    twin.checkpoint("ckpt")        # Twin.restore("ckpt") continues bit for bit
"""

from __future__ import annotations

import math
import pathlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from twin._setup import Pending as _Pending
from twin._setup import sensor_specs as _sensor_specs
from twin.errors import TwinInputError
from twin.filter import Observations, ParticleFilter, weighted_quantiles
from twin.settings import TwinSettings, parse_twin_settings

__all__ = ["STATE_SCHEMA_VERSION", "Twin", "UpdateSummary", "held_parameters"]

STATE_SCHEMA_VERSION = 1
QUANTILES = np.array([0.05, 0.5, 0.95])
_QUALITY_BAD = 2
_UNCERTAIN_WEIGHT = 0.25


@dataclass
class UpdateSummary:
    """What one :meth:`Twin.update` did.

    Attributes
    ----------
    accepted : int
        Readings taken into the buffer (not late).
    late : int
        Readings that arrived after their block was closed (not assimilated).
    blocks : int
        Blocks assimilated.
    assimilated : int
        Observations weighed by the filter.
    """

    accepted: int = 0
    late: int = 0
    blocks: int = 0
    assimilated: int = 0


class Twin:
    """A component twin (see the module docstring).

    Use :meth:`from_config`; the constructor takes already-built parts.
    """

    def __init__(
        self,
        *,
        config: Any,
        settings: TwinSettings,
        surrogate: Any,
        material: Any,
        rng: np.random.Generator,
        surrogate_path: str | None = None,
    ) -> None:
        from twin.health import HealthSettings, InnovationMonitor, PlausibilityChecker
        from twin.model import ComponentModel

        self.config = config
        self.settings = settings
        self.surrogate_path = surrogate_path
        self.sensor_ids = tuple(s.id for s in settings.sensors)
        self._sensor_index = {sid: i for i, sid in enumerate(self.sensor_ids)}
        self._observed = {s.id: j for j, s in enumerate(settings.observed())}
        self._input_of = {sid: name for name, sid in settings.inputs.items()}
        P = settings.particles
        self.model = ComponentModel(
            settings,
            surrogate,
            material=material,
            material_name=config.component.material,
            reference_temperature=config.mechanical.reference_temperature,
            n_particles=P,
        )
        # Parameters no sensor of this component informs are held at their prior median:
        # the data cannot learn them, and as particles resampling would only collapse
        # their spread (genealogical degeneracy). Their prior stays the uncertainty
        # (reported as such, sampled by the forecast).
        self.held = held_parameters(settings)
        theta_phys = np.column_stack(
            [
                np.full(P, p.prior.interval(0.0)[0])
                if p.name in self.held
                else p.prior.sample(rng, P)
                for p in settings.sampled
            ]
        )
        movable = np.array(
            [p.prior.distribution != "fixed" and p.name not in self.held for p in settings.sampled]
        )
        self.pf = ParticleFilter(
            self.model.unconstrained(theta_phys),
            rng=rng,
            ess_fraction=settings.resample_ess_fraction,
            liu_west_a=settings.liu_west_a,
            movable=movable,
        )
        self.health_settings = HealthSettings()
        self.health = PlausibilityChecker(_sensor_specs(settings), self.health_settings)
        self.innovations = InnovationMonitor(list(self._observed), self.health_settings)
        self._pending = _Pending()
        self.started = False
        self.closed_until = -math.inf  # plant time up to which blocks are assimilated
        self.max_seen = -math.inf
        self.readings_seen = 0
        self.late_readings = 0
        self.before_start = 0
        self.assimilated = 0
        self.bad_readings = 0
        self.blocks = 0
        self.archive_offset = 0
        self.time = math.nan  # plant time of the newest assimilated grid point
        self._last_input: dict[str, tuple[float, float]] = {}
        self._last_obs_time = np.full(len(self._observed), -math.inf)
        self.ess_min = float(P)
        self._block_ess_min = float(P)
        self.nis_sum = np.zeros(len(self._observed))
        self.nis_count = np.zeros(len(self._observed), dtype=np.int64)
        self.history: list[dict[str, Any]] = []
        self._next_record = -math.inf
        self._resampled_since = 0
        self._obs_since = 0
        # observed sensors found faulty (stuck, flat-line, bias step or innovation alarm):
        # their later readings are checked and counted but no longer assimilated
        self.quarantined: dict[str, float] = {}

    # ------------------------------------------------------------ construction
    @classmethod
    def from_config(
        cls,
        config: Any,
        *,
        rng: np.random.Generator | None = None,
        seed: int = 0,
        surrogate: Any = None,
        config_path: str | pathlib.Path | None = None,
    ) -> Twin:
        """Build a twin from a component config and its mode surrogate.

        Parameters
        ----------
        config : models.config.ComponentConfig
        rng : numpy.random.Generator, optional
            Defaults to ``numpy.random.default_rng(seed)``.
        seed : int, optional
        surrogate : surrogates.modes.ModeSurrogate or path, optional
            Defaults to ``twin.surrogate`` of the config, else ``<config stem>.surrogate``
            beside ``config_path``.
        config_path : path, optional
            Where the config was read from (to find the surrogate).
        """
        from models.materials import get_material
        from sensors.catalogue import parse_catalogue

        catalogue = parse_catalogue(config.to_dict())
        settings = parse_twin_settings(
            config.sections.get("twin"),
            catalogue=catalogue.sensors,
            locations=[loc.name for loc in config.locations],
        )
        from twin._setup import check_priors, load_surrogate

        sur, path = load_surrogate(config, settings, surrogate, config_path)
        check_priors(settings, sur)
        return cls(
            config=config,
            settings=settings,
            surrogate=sur,
            material=get_material(config.component.material),
            rng=rng if rng is not None else np.random.default_rng(seed),
            surrogate_path=path,
        )

    # ------------------------------------------------------------ update
    def _coerce(
        self, readings: Any
    ) -> tuple[NDArray[np.float64], NDArray[np.intp], NDArray[np.float64], NDArray[np.int8]]:
        get = (
            readings.get
            if isinstance(readings, Mapping)
            else lambda k, d=None: getattr(readings, k, d)
        )
        t = np.asarray(get("time"), dtype=np.float64).ravel()
        v = np.asarray(get("value"), dtype=np.float64).ravel()
        raw_s = np.asarray(get("sensor")).ravel()
        q_raw = get("quality")
        q = np.zeros(t.size, np.int8) if q_raw is None else np.asarray(q_raw, dtype=np.int8).ravel()
        if not (t.size == v.size == raw_s.size == q.size):
            raise TwinInputError(
                f"readings: time, sensor, value and quality must have equal lengths (got "
                f"{t.size}, {raw_s.size}, {v.size}, {q.size})"
            )
        if raw_s.dtype.kind in "iu":
            ids = get("sensor_ids")
            if ids is None:
                raise TwinInputError(
                    "readings.sensor: integer sensor indices need readings.sensor_ids"
                )
            names = np.asarray(list(ids), dtype=object)
            if raw_s.size and (raw_s.min() < 0 or raw_s.max() >= names.size):
                raise TwinInputError(
                    f"readings.sensor: index outside sensor_ids (0..{names.size - 1})"
                )
            raw_s = names[raw_s] if raw_s.size else np.zeros(0, dtype=object)
        lookup = self._sensor_index
        s = np.empty(t.size, dtype=np.intp)
        for name in (str(x) for x in np.unique(raw_s.astype(str))) if raw_s.size else []:
            if name not in lookup:
                raise TwinInputError(
                    f"readings.sensor: unknown sensor {name!r}; the twin knows {list(lookup)}"
                )
            s[raw_s.astype(str) == name] = lookup[name]
        bad = ~np.isfinite(t)
        if bad.any():
            raise TwinInputError(f"readings.time: must be finite (got {t[bad][0]})")
        return t, s, v, q

    def update(self, readings: Any, *, archive_offset: int | None = None) -> UpdateSummary:
        """Take readings (any batch, any order) and assimilate every block they close.

        Parameters
        ----------
        readings : object or mapping
            ``time`` (epoch s), ``sensor`` (ids, or indices with ``sensor_ids``),
            ``value`` (SI) and optionally ``quality`` (0 good, 1 uncertain, 2 bad).
        archive_offset : int, optional
            Archive offset after these readings (kept in the checkpoint).

        Returns
        -------
        UpdateSummary
        """
        t, s, v, q = self._coerce(readings)
        summary = UpdateSummary()
        if archive_offset is not None:
            self.archive_offset = int(archive_offset)
        if t.size == 0:
            return summary
        B, L = self.settings.block, self.settings.lateness
        if not self.started and self.closed_until == -math.inf:
            self.closed_until = math.floor((t[0] - L) / B) * B
        # watermark after each reading, and the blocks closed before each reading
        seen = np.maximum.accumulate(np.concatenate([[self.max_seen], t]))
        closed = np.maximum(self.closed_until, np.floor((seen - L) / B) * B)
        late = t < closed[:-1]
        keep = ~late
        summary.late = int(late.sum())
        summary.accepted = int(keep.sum())
        self.late_readings += summary.late
        self.readings_seen += t.size
        self.max_seen = float(seen[-1])
        pt, ps, pv, pq = self._pending.arrays()
        pt = np.concatenate([pt, t[keep]])
        ps = np.concatenate([ps, s[keep]])
        pv = np.concatenate([pv, v[keep]])
        pq = np.concatenate([pq, q[keep]])
        new_closed = float(closed[-1])
        while self.closed_until < new_closed:
            lo = self.closed_until
            in_block = pt < lo + B
            if in_block.any():
                n_obs = self._assimilate_block(
                    pt[in_block], ps[in_block], pv[in_block], pq[in_block], lo + B
                )
                summary.assimilated += n_obs
                summary.blocks += 1
                pt, ps, pv, pq = pt[~in_block], ps[~in_block], pv[~in_block], pq[~in_block]
                self.closed_until = lo + B
            else:
                # skip empty blocks at once
                nxt = math.floor(pt.min() / B) * B if pt.size else new_closed
                self.closed_until = min(max(lo + B, nxt), new_closed)
        self._pending.set(pt, ps, pv, pq)
        return summary

    def flush(self) -> UpdateSummary:
        """Assimilate every pending reading (end of a replay): closes all open blocks."""
        pt, *_ = self._pending.arrays()
        if pt.size == 0:
            return UpdateSummary()
        end = math.floor(pt.max() / self.settings.block) * self.settings.block + self.settings.block
        summary = UpdateSummary()
        self.max_seen = max(self.max_seen, end + self.settings.lateness)
        pt, ps, pv, pq = self._pending.arrays()
        while self.closed_until < end:
            lo = self.closed_until
            m = pt < lo + self.settings.block
            if m.any():
                summary.assimilated += self._assimilate_block(
                    pt[m], ps[m], pv[m], pq[m], lo + self.settings.block
                )
                summary.blocks += 1
                pt, ps, pv, pq = pt[~m], ps[~m], pv[~m], pq[~m]
            self.closed_until = lo + self.settings.block
        self._pending.set(pt, ps, pv, pq)
        return summary

    # ------------------------------------------------------------ one block
    def _assimilate_block(
        self,
        t: NDArray[np.float64],
        s: NDArray[np.intp],
        v: NDArray[np.float64],
        q: NDArray[np.int8],
        block_end: float,
    ) -> int:
        order = np.lexsort((s, t))
        t, s, v, q = t[order], s[order], v[order], q[order]
        quality = self.health.check(s, t, v, q)
        good = quality < _QUALITY_BAD
        self.bad_readings += int((~good).sum())
        t, s, v, quality = t[good], s[good], v[good], quality[good]
        ids = self.sensor_ids
        tf_id = self._sensor_index[self.settings.inputs["fluid_temperature"]]
        p_id = self._sensor_index[self.settings.inputs["pressure"]]
        is_tf, is_p = s == tf_id, s == p_id
        if not self.started:
            if not (is_tf.any() and is_p.any()):
                self.before_start += int(t.size)
                return 0
            t_start = max(float(t[is_tf][0]), float(t[is_p][0]))
            tf0 = float(v[is_tf][np.searchsorted(t[is_tf], t_start, side="right") - 1])
            p0 = float(v[is_p][np.searchsorted(t[is_p], t_start, side="right") - 1])
            self.model.start(t_start, tf0, p0, self.pf.theta)
            self._last_input = {"fluid_temperature": (t_start, tf0), "pressure": (t_start, p0)}
            self.started = True
            self.time = t_start
            early = t <= t_start
            self.before_start += int(early.sum())
            t, s, v, quality = t[~early], s[~early], v[~early], quality[~early]
            is_tf, is_p = is_tf[~early], is_p[~early]
        obs_map = np.full(len(ids), -1, dtype=np.intp)
        for sid, j in self._observed.items():
            obs_map[self._sensor_index[sid]] = j
        for sid in self.quarantined:
            obs_map[self._sensor_index[sid]] = -1
        obs_j = obs_map[s]
        is_obs = obs_j >= 0
        use = is_tf | is_p | is_obs
        if not use.any():
            return 0
        grid = np.unique(t[use])
        grid = grid[grid > self.time]
        if grid.size == 0:
            return 0
        inputs: dict[str, NDArray[np.float64]] = {}
        for name, mask in (("fluid_temperature", is_tf), ("pressure", is_p)):
            t0, u0 = self._last_input[name]
            ti = np.concatenate([[t0], t[mask]])
            ui = np.concatenate([[u0], v[mask]])
            ti, first = np.unique(ti, return_index=True)
            ui = ui[first]
            inputs[name] = np.interp(grid, ti, ui)
            self._last_input[name] = (float(grid[-1]), float(inputs[name][-1]))
        # observations on the grid, with tempering for correlated model error
        o_t, o_j, o_v, o_q = t[is_obs], obs_j[is_obs], v[is_obs], quality[is_obs]
        keep = o_t > self.time
        o_t, o_j, o_v, o_q = o_t[keep], o_j[keep], o_v[keep], o_q[keep]
        # an "uncertain" reading counts a quarter (its variance four times the stated)
        weight = np.where(o_q > 0, _UNCERTAIN_WEIGHT, 1.0)
        tc = self.settings.correlation_time
        if tc > 0 and o_t.size:
            for j in np.unique(o_j):
                m = np.flatnonzero(o_j == j)
                prev = np.concatenate([[self._last_obs_time[j]], o_t[m][:-1]])
                weight[m] *= np.minimum(1.0, (o_t[m] - prev) / tc)
                self._last_obs_time[j] = o_t[m][-1]
        obs = Observations(np.searchsorted(grid, o_t), o_j.astype(np.intp), o_v, weight)
        self.model.refresh(float(grid[0]))
        result = self.pf.estimate(self.model, grid, inputs, obs)
        self.time = float(grid[-1])
        self.blocks += 1
        self.assimilated += len(obs)
        if len(obs):
            self._block_ess_min = float(result.ess.min())
            self.ess_min = min(self.ess_min, self._block_ess_min)
            np.add.at(self.nis_sum, o_j, result.innovation**2)
            np.add.at(self.nis_count, o_j, 1)
            # the CUSUM watches innovations against the stated noise and model error plus
            # the particles' spread, not the tempered variance (tempering divides the
            # information of correlated readings, not the sensor's noise)
            # no change detection while the posterior still learns from its prior: the
            # innovations are not stationary then (they lead the first transients)
            watch = o_t >= self.model.t0 + self.settings.health_warmup
            if watch.any():
                self.innovations.update(
                    o_j[watch].astype(np.intp), o_t[watch], result.innovation[watch]
                )
        self._quarantine()
        self._resampled_since += result.resampled
        self._obs_since += len(obs)
        H = self.settings.history_interval
        # the checkpointed bookkeeping decides, not the history list (a restore starts it
        # empty, and a restored twin must continue bit for bit)
        if block_end >= self._next_record:
            self.history.append(self._record(block_end, self._obs_since, self._resampled_since))
            self._next_record = (math.floor(block_end / H) + 1) * H
            self._resampled_since = self._obs_since = 0
        return len(obs)

    def _quarantine(self) -> None:
        """Stop assimilating observed sensors the health checks now call faulty."""
        if not self.settings.quarantine_faulty:
            return
        for sid, h in self.health.flags(self.innovations).items():
            if sid in self._observed and h["status"] == "faulty" and sid not in self.quarantined:
                self.quarantined[sid] = float(self.time)

    # ------------------------------------------------------------ state
    def _record(self, block_end: float, n_obs: int, resampled: int) -> dict[str, Any]:
        w = self.pf.weights
        phys = self.model.physical(self.pf.theta)
        rec: dict[str, Any] = {
            "time": self.time,
            "observations": n_obs,
            "ess": self.pf.ess,
            "ess_min": self._block_ess_min,
            "resampled": resampled,
        }
        for name in self.settings.parameter_names:
            mean, _, q = self._summary(name, w, phys)
            rec[f"{name}.mean"] = mean
            rec[f"{name}.q"] = q
        cur = self.model.current(self.time)
        for name, col in cur.items():
            rec[f"{name}_now.mean"] = float(np.sum(w * col))
            rec[f"{name}_now.q"] = weighted_quantiles(col, w, QUANTILES)
        for loc in self.settings.damage_locations:
            for what in ("fatigue", "creep", "margin"):
                col = self._damage(what, loc)
                rec[f"{what}.{loc}.mean"] = float(np.sum(w * col))
                rec[f"{what}.{loc}.q"] = weighted_quantiles(col, w, QUANTILES)
        rec["out_of_range"] = float(np.sum(w * self.model.out_of_range))
        return rec

    def _damage(self, what: str, location: str) -> NDArray[np.float64]:
        """Per-particle fatigue, creep, or envelope margin at a location.

        The margin is ``1 - 1/lambda``, where ``lambda`` scales the current (fatigue,
        creep) point onto the creep-fatigue envelope along its ray from the origin: 1 for
        an undamaged component, 0 on the envelope, negative outside (the fraction of the
        envelope left along the current damage path).
        """
        dmg = self.model.damage
        if what == "margin":
            s = np.asarray(dmg.margin(location), dtype=np.float64)  # lambda - 1
            return np.where(np.isinf(s), 1.0, 1.0 - 1.0 / (1.0 + s))
        return np.asarray(getattr(dmg, what)(location), dtype=np.float64)

    def _summary(
        self, name: str, w: NDArray[np.float64], phys: NDArray[np.float64]
    ) -> tuple[float, float, NDArray[np.float64]]:
        """Posterior mean, standard deviation and 5/50/95 % quantiles of a parameter (SI).

        Sampled parameters: the weighted particles. Sensor offsets and drifts: the
        mixture of the particles' Gaussian posteriors (:mod:`twin.linear`). Parameters
        held at the prior (not identifiable): the prior itself.
        """
        from twin.linear import YEAR, mixture_quantiles

        spec = next(p for p in self.settings.parameters if p.name == name)
        if name in self.held:
            lo, hi = spec.prior.interval(0.9)
            return spec.prior.mean, spec.prior.std, np.array([lo, spec.prior.interval(0.0)[0], hi])
        if name in self.model.names:
            col = phys[:, self.model.names.index(name)]
            mean = float(np.sum(w * col))
            std = float(np.sqrt(max(np.sum(w * col * col) - mean * mean, 0.0)))
            return mean, std, weighted_quantiles(col, w, QUANTILES)
        kind, _, sid = name.partition(".")
        j = list(self._observed).index(sid)
        k = 1 if kind == "drift" else 0
        scale = 1.0 / YEAR if kind == "drift" else 1.0
        m, cov = self.model.linear.posterior(j)
        mi, si = m[:, k] * scale, np.sqrt(cov[:, k, k]) * scale
        mean = float(np.sum(w * mi))
        std = float(np.sqrt(max(np.sum(w * (si * si + mi * mi)) - mean * mean, 0.0)))
        return mean, std, mixture_quantiles(mi, si, w, QUANTILES)

    @property
    def state(self) -> dict[str, Any]:
        """The twin's current state as plain values (JSON-able), SI with units named."""
        return self.state_view()

    def state_view(self, *, parameters: bool = True) -> dict[str, Any]:
        """Return :attr:`state`; ``parameters=False`` leaves ``parameters`` empty (cheaper).

        The alert conditions of the service's core read damage, wall, filter and sensor
        health only; they are evaluated at every closed block.
        """
        w = self.pf.weights
        phys = self.model.physical(self.pf.theta)
        ident = self.settings.identifiable()
        params: dict[str, Any] = {}
        for p in self.settings.parameters if parameters else ():
            mean, std, q = self._summary(p.name, w, phys)
            params[p.name] = {
                "mean": mean,
                "std": std,
                "p05": float(q[0]),
                "p50": float(q[1]),
                "p95": float(q[2]),
                "unit": p.unit,
                "prior_std": p.prior.std,
                "identifiability": ident[p.name],
                "learned": p.name not in self.held,
            }
        damage: dict[str, Any] = {}
        for loc in self.settings.damage_locations:
            damage[loc] = {}
            for what in ("fatigue", "creep", "margin"):
                col = self._damage(what, loc)
                q = weighted_quantiles(col, w, QUANTILES)
                key = "envelope_margin" if what == "margin" else what
                damage[loc][key] = {
                    "mean": float(np.sum(w * col)),
                    "p05": float(q[0]),
                    "p50": float(q[1]),
                    "p95": float(q[2]),
                }
        started = self.started
        wall = (
            self.model.current(self.time)["wall_thickness"]
            if started
            else phys[:, self.model.names.index("wall_thickness")]
        )
        qw = weighted_quantiles(wall, w, QUANTILES)
        nis = np.where(self.nis_count > 0, self.nis_sum / np.maximum(self.nis_count, 1), np.nan)
        observed = list(self._observed)
        return {
            "schema_version": STATE_SCHEMA_VERSION,
            "component": self.config.component.name,
            "site": self.config.component.site,
            "time": None if math.isnan(self.time) else self.time,
            "readings": self.readings_seen,
            "assimilated": self.assimilated,
            "late_readings": self.late_readings,
            "bad_readings": self.bad_readings,
            "before_start": self.before_start,
            "archive_offset": self.archive_offset,
            "parameters": params,
            "damage": damage,
            "wall_thickness_m": {
                "mean": float(np.sum(w * wall)),
                "p05": float(qw[0]),
                "p50": float(qw[1]),
                "p95": float(qw[2]),
            },
            "filter": {
                "particles": self.pf.n_particles,
                "ess": self.pf.ess,
                "ess_min": self.ess_min,
                "resamplings": self.pf.resamplings,
                "normalised_innovation_sq": {
                    sid: _none_nan(nis[j]) for j, sid in enumerate(observed)
                },
                "divergence": bool(np.any(nis[np.isfinite(nis)] > 9.0)),
                "surrogate_out_of_range": float(np.sum(w * self.model.out_of_range)),
            },
            "sensors": {
                sid: {**h, "quarantined": sid in self.quarantined}
                for sid, h in self.health.flags(self.innovations).items()
            },
            "quarantined": dict(self.quarantined),
        }

    # ------------------------------------------------------------ persistence
    def state_dict(self) -> dict[str, Any]:
        """Everything that determines the twin's future: arrays and JSON-able values."""
        from twin.checkpoint import twin_state_dict

        return twin_state_dict(self)

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict` into this twin (same config and surrogate)."""
        from twin.checkpoint import load_twin_state

        load_twin_state(self, state)

    def checkpoint(self, path: str | pathlib.Path) -> pathlib.Path:
        """Write a versioned checkpoint (NumPy arrays + JSON, atomically; never pickle)."""
        from twin.checkpoint import write_checkpoint

        return write_checkpoint(self, path)

    @classmethod
    def restore(
        cls,
        path: str | pathlib.Path,
        *,
        config: Any = None,
        surrogate: Any = None,
    ) -> Twin:
        """Rebuild a twin from :meth:`checkpoint`; continuing gives the uninterrupted state."""
        from twin.checkpoint import read_checkpoint

        return read_checkpoint(path, config=config, surrogate=surrogate)


def held_parameters(settings: TwinSettings) -> tuple[str, ...]:
    """Parameters no sensor of the component informs (held at their prior median)."""
    ident = settings.identifiable()
    return tuple(p.name for p in settings.parameters if ident[p.name].startswith("not identified"))


def _none_nan(x: float) -> float | None:
    return None if not math.isfinite(float(x)) else float(x)
