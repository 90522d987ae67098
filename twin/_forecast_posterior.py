"""The forecast's inputs from a twin: the posterior per particle and the model's parts.

:class:`Posterior` holds what a forecast samples from (particles, weights, damage so
far, today's heat-transfer coefficient and wall); :class:`ModelParts` what it simulates
with (settings, mode surrogate, material, damage settings). Both come from a live
:class:`twin.state.Twin` or, without rebuilding the twin, from its checkpoint
(:func:`read_posterior`).
"""

from __future__ import annotations

import math
import pathlib
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["ModelParts", "Posterior", "read_posterior"]

F64 = NDArray[np.float64]


@dataclass(frozen=True)
class ModelParts:
    """What the forecast needs of the component besides the posterior."""

    settings: Any
    surrogate: Any
    material: Any
    damage_settings: Any
    reference_temperature: float
    component: str
    site: str

    @classmethod
    def from_twin(cls, twin: Any) -> ModelParts:
        """Return the parts of a twin."""
        return cls(
            settings=twin.settings,
            surrogate=twin.model.surrogate,
            material=twin.model.material,
            damage_settings=twin.model.damage.settings,
            reference_temperature=twin.config.mechanical.reference_temperature,
            component=twin.config.component.name,
            site=twin.config.component.site,
        )


@dataclass(frozen=True)
class Posterior:
    """The twin's posterior at the forecast start, per particle (SI).

    Attributes
    ----------
    weights : numpy.ndarray, shape (P,)
    params : dict of str to numpy.ndarray (P,)
        Physical values of the particle parameters (``settings.sampled``).
    held : tuple of str
        Parameters held at their prior median in the filter (sampled from the prior).
    bore_htc, wall : numpy.ndarray, shape (P,)
        Heat-transfer coefficient and wall thickness now.
    fatigue, creep : numpy.ndarray, shape (L, P)
        Damage so far at each location.
    oxide_sq : numpy.ndarray, shape (P,)
        Squared oxide thickness now, m^2.
    time : float
        Plant time of the state, epoch s (NaN before any reading).
    """

    weights: F64
    params: dict[str, F64]
    held: tuple[str, ...]
    bore_htc: F64
    wall: F64
    fatigue: F64
    creep: F64
    oxide_sq: F64
    time: float

    @property
    def n_particles(self) -> int:
        """Number of particles."""
        return int(self.weights.size)

    def select(self, index: NDArray[np.intp]) -> Posterior:
        """Return the particles ``index`` with their weights renormalised (e.g. one: collapsed)."""
        ix = np.asarray(index, dtype=np.intp)
        w = self.weights[ix]
        return Posterior(
            weights=w / w.sum(),
            params={k: v[ix] for k, v in self.params.items()},
            held=self.held,
            bore_htc=self.bore_htc[ix],
            wall=self.wall[ix],
            fatigue=self.fatigue[:, ix],
            creep=self.creep[:, ix],
            oxide_sq=self.oxide_sq[ix],
            time=self.time,
        )

    @classmethod
    def from_twin(cls, twin: Any, *, max_particles: int = 200) -> Posterior:
        """Return the posterior of a twin, thinned to ``max_particles`` (see :meth:`thin`)."""
        m = twin.model
        post = _posterior(
            settings=twin.settings,
            held=tuple(twin.held),
            theta=twin.pf.theta,
            weights=twin.pf.weights,
            damage=m.damage,
            t0=m.t0,
            time=twin.time,
            started=twin.started,
        )
        return post.thin(max_particles)

    def thin(self, max_particles: int) -> Posterior:
        """Return the posterior thinned by systematic resampling to ``max_particles``.

        Duplicates of the thinning are merged into one particle with their count as
        weight; with no more particles than ``max_particles`` the posterior is kept.
        The thinning's offset is fixed (0.5), so it is a function of the state.
        """
        if self.n_particles <= max_particles:
            return self
        cdf = np.cumsum(self.weights)
        cdf[-1] = 1.0
        idx = np.searchsorted(cdf, (0.5 + np.arange(max_particles)) / max_particles)
        uniq, counts = np.unique(idx, return_counts=True)
        thin = self.select(uniq)
        return Posterior(**{**thin.__dict__, "weights": counts / counts.sum()})


def _posterior(
    *,
    settings: Any,
    held: tuple[str, ...],
    theta: F64,
    weights: F64,
    damage: Any,
    t0: float,
    time: float,
    started: bool,
) -> Posterior:
    """Build the posterior from the filter's particles and the damage account.

    The current heat-transfer coefficient and wall follow
    :meth:`twin.model.ComponentModel.current`: ``h0 exp(drift (t - t0))`` and the
    initial wall minus the oxidation metal loss.
    """
    sampled = settings.sampled  # the particle columns (sensor offsets are analytic)
    names = tuple(p.name for p in sampled)
    phys = np.column_stack([p.prior.from_unconstrained(theta[:, j]) for j, p in enumerate(sampled)])
    h0 = phys[:, names.index("bore_htc")]
    w0 = phys[:, names.index("wall_thickness")]
    if started and math.isfinite(time):
        h = h0 * np.exp(phys[:, names.index("bore_htc_drift")] * (time - t0))
        wall = w0 - damage.wall_loss
    else:
        h, wall = h0, w0
    w = np.asarray(weights, dtype=np.float64)
    locs = settings.damage_locations
    return Posterior(
        weights=w / w.sum(),
        params={n: phys[:, j].copy() for j, n in enumerate(names)},
        held=held,
        bore_htc=np.asarray(h, dtype=np.float64),
        wall=np.asarray(wall, dtype=np.float64),
        fatigue=np.array([damage.fatigue(loc) for loc in locs]),
        creep=np.array([damage.creep(loc) for loc in locs]),
        oxide_sq=np.asarray(damage.oxide_thickness, dtype=np.float64) ** 2,
        time=float(time),
    )


def read_posterior(
    path: str | pathlib.Path, *, surrogate: Any = None, max_particles: int = 200
) -> tuple[ModelParts, Posterior]:
    """Read the parts and the posterior of a checkpoint without rebuilding the twin.

    The filter's particles and weights, the model's damage account and times come
    from :func:`twin.checkpoint.read_state`; the mode surrogate from the path the
    checkpoint names (or ``surrogate``). Restoring the whole twin would also evaluate
    the mode GP's variances for every particle, which the forecast does not use.

    Raises
    ------
    CheckpointError
        If the checkpoint is unreadable or its config does not hash to the one saved.
    """
    from models.config import parse_config
    from models.materials import get_material
    from sensors.catalogue import parse_catalogue
    from twin._setup import load_surrogate
    from twin.checkpoint import read_state
    from twin.damage import DamageAccount
    from twin.errors import CheckpointError
    from twin.filter import ParticleFilter
    from twin.settings import parse_twin_settings
    from twin.state import held_parameters

    meta = read_state(path)
    cfg = parse_config(meta["config"])
    if cfg.config_hash != meta["config_hash"]:
        raise CheckpointError(
            f"checkpoint: its config hashes to {cfg.config_hash[:12]}, it was written for "
            f"{meta['config_hash'][:12]}; the checkpoint is corrupt"
        )
    settings = parse_twin_settings(
        cfg.sections.get("twin"),
        catalogue=parse_catalogue(cfg.to_dict()).sensors,
        locations=[loc.name for loc in cfg.locations],
    )
    sur, _ = load_surrogate(cfg, settings, surrogate or meta.get("surrogate_path"), None)
    state = meta["state"]
    pf = ParticleFilter.from_state_dict(state["filter"])
    damage = DamageAccount.from_state_dict(state["model"]["damage"])
    parts = ModelParts(
        settings=settings,
        surrogate=sur,
        material=get_material(cfg.component.material),
        damage_settings=damage.settings,
        reference_temperature=cfg.mechanical.reference_temperature,
        component=cfg.component.name,
        site=cfg.component.site,
    )
    post = _posterior(
        settings=settings,
        held=held_parameters(settings),
        theta=pf.theta,
        weights=pf.weights,
        damage=damage,
        t0=float(state["model"]["t0"]),
        time=float(state["time"]),
        started=bool(state["started"]),
    )
    return parts, post.thin(max_particles)
