r"""A vectorised particle filter for static parameters with a deterministic dynamic state.

The twin's particles are parameter vectors :math:`\theta_i` (heat-transfer coefficient,
wall, sensor biases, ...); each carries a deterministic dynamic state (the modal
filter's mode states and the damage accumulators) that the model advances. The filter
is sequential importance resampling (Gordon, Salmond and Smith 1993) with

- log-weights, updated observation by observation with the model's predictive
  density :math:`\log w_i \mathrel{+}= \log p(z_j \mid z_{<j}, \theta_i)` (the model
  may temper correlated readings by inflating their variance);
- systematic resampling (Kitagawa 1996) as soon as the effective sample size
  :math:`1 / \sum_i \bar w_i^2` falls below a fraction of the particle count; the
  model's dynamic state follows the resampled particles;
- the Liu-West kernel for the static parameters after each resampling (Liu and West
  2001): :math:`\theta_i \leftarrow a\,\theta_i + (1 - a)\,\bar\theta + \epsilon_i`,
  :math:`\epsilon_i \sim N(0, (1 - a^2) V)`, in an unconstrained parameterisation,
  which keeps the mean and covariance of the weighted cloud while restoring diversity.

Randomness comes only from the injected :class:`numpy.random.Generator`; the RNG state is
part of :meth:`ParticleFilter.state_dict`, so a restored filter continues bit for bit.

:meth:`ParticleFilter.estimate` has the shape of ProgPy's
``StateEstimator.estimate(t, u, z)``, generalised to a block of times: another
estimator (an ensemble or unscented Kalman filter) can replace this one behind the
same call, with the model protocol :class:`FilterModel`.

References
----------
N. J. Gordon, D. J. Salmond and A. F. M. Smith, "Novel approach to nonlinear/non-Gaussian
Bayesian state estimation", IEE Proc. F 140 (1993) 107-113. G. Kitagawa, "Monte Carlo
filter and smoother for non-Gaussian nonlinear state space models", J. Comput. Graph.
Stat. 5 (1996) 1-25. J. Liu and M. West, "Combined parameter and state estimation in
simulation-based filtering", in *Sequential Monte Carlo Methods in Practice*, Springer,
2001, 197-223.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from twin.errors import TwinInputError

__all__ = [
    "EstimateResult",
    "FilterModel",
    "Observations",
    "ParticleFilter",
    "effective_sample_size",
    "systematic_resample",
    "weighted_quantiles",
]


def effective_sample_size(logw: NDArray[np.float64]) -> NDArray[np.float64]:
    """Effective sample size ``1 / sum(w^2)`` of normalised weights, along axis 0."""
    m = np.max(logw, axis=0)
    w = np.exp(logw - m)
    s = np.sum(w, axis=0)
    return np.asarray(s * s / np.sum(w * w, axis=0), dtype=np.float64)


def systematic_resample(weights: NDArray[np.float64], u: float) -> NDArray[np.intp]:
    """Systematic resampling: indices of the particles drawn for offsets ``(u + k) / n``.

    Parameters
    ----------
    weights : numpy.ndarray, shape (n,)
        Normalised weights.
    u : float
        One uniform draw in [0, 1).

    Returns
    -------
    numpy.ndarray of int, shape (n,)
        Ancestor index of each new particle, non-decreasing.
    """
    n = weights.size
    positions = (u + np.arange(n)) / n
    cdf = np.cumsum(weights)
    cdf[-1] = 1.0
    return np.asarray(np.searchsorted(cdf, positions, side="right"), dtype=np.intp)


def weighted_quantiles(
    values: NDArray[np.float64], weights: NDArray[np.float64], q: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Quantiles of a weighted sample (inverse of the weighted empirical CDF).

    Parameters
    ----------
    values : numpy.ndarray, shape (n,) or (n, k)
        Sample, particles along axis 0.
    weights : numpy.ndarray, shape (n,)
        Normalised weights.
    q : numpy.ndarray, shape (m,)
        Probabilities in [0, 1].

    Returns
    -------
    numpy.ndarray, shape (m,) or (m, k)
    """
    v = np.asarray(values, dtype=np.float64)
    flat = v.reshape(v.shape[0], -1)
    order = np.argsort(flat, axis=0, kind="stable")
    cw = np.cumsum(weights[order], axis=0)
    cw /= cw[-1:]
    out = np.empty((q.size, flat.shape[1]))
    for j in range(flat.shape[1]):
        idx = np.searchsorted(cw[:, j], q, side="left")
        idx = np.minimum(idx, flat.shape[0] - 1)
        out[:, j] = flat[order[idx, j], j]
    return out.reshape((q.size, *v.shape[1:]))


@dataclass(frozen=True)
class Observations:
    """Observations of one block, sorted by time.

    Attributes
    ----------
    index : numpy.ndarray of int, shape (k,)
        Position of each observation on the block's time grid (non-decreasing).
    sensor : numpy.ndarray of int, shape (k,)
        Observed-sensor index of the model.
    value : numpy.ndarray, shape (k,)
        Measured value, SI.
    weight : numpy.ndarray, shape (k,)
        Tempering factor in (0, 1] for the model to apply (a reading of weight ``w``
        counts as one with its variance divided by ``w``); the filter itself uses the
        predictive mean and variance the model returns.
    """

    index: NDArray[np.intp]
    sensor: NDArray[np.intp]
    value: NDArray[np.float64]
    weight: NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.index.size)

    def select(self, mask: NDArray[np.bool_], shift: int) -> Observations:
        """Observations under ``mask`` with grid positions shifted by ``-shift``."""
        return Observations(
            self.index[mask] - shift, self.sensor[mask], self.value[mask], self.weight[mask]
        )


class FilterModel(Protocol):
    """What the filter needs of a model whose particles it weighs."""

    def save(self) -> Any:
        """Snapshot of the dynamic state (to go back to the start of a segment)."""

    def load(self, snapshot: Any) -> None:
        """Return to a snapshot."""

    def advance(self, t: NDArray[np.float64], inputs: Mapping[str, NDArray[np.float64]]) -> Any:
        """Advance every particle over the grid ``t``; return the outputs (opaque)."""

    def predict(self, outputs: Any, observations: Observations) -> tuple[NDArray[np.float64], ...]:
        """Predicted mean and variance of each observation per particle, (P, k) each.

        Optionally a third array: the variance as stated, without tempering, against
        which the normalised innovations are measured (defaults to the variance).
        """

    def commit(
        self, t: NDArray[np.float64], inputs: Mapping[str, NDArray[np.float64]], outputs: Any
    ) -> None:
        """Account a finished segment (damage): called once per segment, in order."""

    def take(self, index: NDArray[np.intp]) -> None:
        """Keep the particles ``index`` (resampling)."""

    def set_parameters(self, theta: NDArray[np.float64]) -> None:
        """Set new static parameters (after the move), unconstrained, (P, d)."""


@dataclass(frozen=True)
class EstimateResult:
    """What one call of :meth:`ParticleFilter.estimate` saw.

    Attributes
    ----------
    ess : numpy.ndarray, shape (k,)
        Effective sample size after each observation.
    innovation : numpy.ndarray, shape (k,)
        Normalised innovation ``(z - E[y]) / sqrt(Var[y])`` under the predictive mixture
        just before each observation, with the model's stated (untempered) variance.
    resampled : int
        Resampling events in the block.
    mean : numpy.ndarray, shape (k,)
        Predictive mean of each observation (before it).
    spread : numpy.ndarray, shape (k,)
        Variance of the particles' predictions (the parameter part of the predictive
        variance, without the observation noise).
    """

    ess: NDArray[np.float64]
    innovation: NDArray[np.float64]
    resampled: int
    mean: NDArray[np.float64]
    spread: NDArray[np.float64]


class ParticleFilter:
    """Sequential importance resampling over static parameters (see module docstring).

    Parameters
    ----------
    theta : numpy.ndarray, shape (P, d)
        Initial particles in the unconstrained parameterisation.
    rng : numpy.random.Generator
        The only source of randomness.
    ess_fraction : float
        Resample when ESS < ``ess_fraction * P``.
    liu_west_a : float
        Kernel shrinkage ``a`` (0 < a < 1).
    movable : numpy.ndarray of bool, shape (d,), optional
        Columns the kernel moves (fixed parameters stay); all by default.
    """

    def __init__(
        self,
        theta: NDArray[np.float64],
        *,
        rng: np.random.Generator,
        ess_fraction: float = 0.5,
        liu_west_a: float = 0.98,
        movable: NDArray[np.bool_] | None = None,
    ) -> None:
        theta = np.asarray(theta, dtype=np.float64)
        if theta.ndim != 2 or theta.shape[0] < 2:
            raise TwinInputError(f"theta: expected shape (particles >= 2, d), got {theta.shape}")
        self.theta = theta.copy()
        self.logw = np.zeros(theta.shape[0])
        self.rng = rng
        self.ess_fraction = float(ess_fraction)
        self.a = float(liu_west_a)
        self.movable = (
            np.ones(theta.shape[1], dtype=bool) if movable is None else np.asarray(movable, bool)
        )
        self.resamplings = 0
        self.log_evidence = 0.0  # log p(all readings so far), for model comparison

    @property
    def n_particles(self) -> int:
        """Number of particles."""
        return int(self.theta.shape[0])

    @property
    def weights(self) -> NDArray[np.float64]:
        """Normalised weights, (P,)."""
        w = np.exp(self.logw - np.max(self.logw))
        return np.asarray(w / np.sum(w), dtype=np.float64)

    @property
    def ess(self) -> float:
        """Effective sample size of the current weights."""
        return float(effective_sample_size(self.logw))

    def resample(self) -> NDArray[np.intp]:
        """Systematic resampling; returns the ancestor indices and resets the weights."""
        idx = systematic_resample(self.weights, float(self.rng.random()))
        self.theta = self.theta[idx]
        self.logw = np.zeros(self.n_particles)
        self.resamplings += 1
        return idx

    def move(self) -> None:
        """Liu-West kernel on the movable columns (equal weights after resampling)."""
        cols = self.movable
        if not np.any(cols):
            return
        x = self.theta[:, cols]
        mean = x.mean(axis=0)
        cov = np.atleast_2d(np.cov(x, rowvar=False))
        h2 = 1.0 - self.a * self.a
        # a tiny ridge keeps the factorisation defined when a column has collapsed
        ridge = 1e-12 * np.maximum(np.diag(cov), 1e-30)
        chol = np.linalg.cholesky(h2 * cov + np.diag(ridge))
        noise = self.rng.standard_normal(x.shape) @ chol.T
        self.theta[:, cols] = self.a * x + (1.0 - self.a) * mean + noise

    def estimate(
        self,
        model: FilterModel,
        t: NDArray[np.float64],
        inputs: Mapping[str, NDArray[np.float64]],
        observations: Observations,
    ) -> EstimateResult:
        """Assimilate one block: advance, weigh, resample and move where the ESS falls.

        Parameters
        ----------
        model : FilterModel
        t : numpy.ndarray, shape (n,)
            Time grid of the block (s, increasing).
        inputs : mapping of numpy.ndarray, shape (n,)
            Model inputs on the grid.
        observations : Observations
            Sorted by grid position.

        Returns
        -------
        EstimateResult
        """
        n = t.size
        k = len(observations)
        ess_out = np.empty(k)
        nu_out = np.empty(k)
        mean_out = np.empty(k)
        spread_out = np.empty(k)
        resampled = 0
        start = 0  # grid position where the current segment begins
        done = 0  # observations consumed
        thr = self.ess_fraction * self.n_particles
        while start < n:
            seg_t = t[start:]
            seg_in = {name: v[start:] for name, v in inputs.items()}
            mask = np.zeros(k, dtype=bool)
            mask[done:] = True
            obs = observations.select(mask, start)
            snap = model.save() if len(obs) else None
            outputs = model.advance(seg_t, seg_in)
            if not len(obs):
                model.commit(seg_t, seg_in, outputs)
                break
            pred = model.predict(outputs, obs)
            mu, var = pred[0], pred[1]
            stated = pred[2] if len(pred) > 2 else var
            # work in (observation, particle) layout: accumulation runs over rows
            muT, varT = mu.T, var.T
            resid = obs.value[:, None] - muT
            cum = np.empty((len(obs) + 1, self.n_particles))
            cum[0] = self.logw
            cum[1:] = -0.5 * (resid * resid / varT + np.log(2.0 * np.pi * varT))
            np.add.accumulate(cum, axis=0, out=cum)
            e = np.exp(cum - cum.max(axis=1, keepdims=True))
            s1 = e.sum(axis=1)
            ess = s1 * s1 / np.einsum("ij,ij->i", e, e)
            # predictive mixture before each observation (weights of the previous row)
            wprev = e[:-1] / s1[:-1, None]
            m = np.einsum("ij,ij->i", wprev, muT)
            spread = np.maximum(np.einsum("ij,ij->i", wprev, muT * muT) - m * m, 0.0)
            v = np.einsum("ij,ij->i", wprev, stated.T) + spread
            nu = (obs.value - m) / np.sqrt(np.maximum(v, 1e-300))
            # log marginal likelihood of the readings (model evidence), row by row
            cmax = cum.max(axis=1)
            lse = cmax + np.log(s1)
            below = np.flatnonzero(ess[1:] < thr)
            if below.size == 0:
                ess_out[done:] = ess[1:]
                nu_out[done:] = nu
                mean_out[done:] = m
                spread_out[done:] = spread
                self.log_evidence += float(lse[-1] - lse[0])
                self.logw = cum[-1] - np.max(cum[-1])
                model.commit(seg_t, seg_in, outputs)
                break
            j = int(below[0])
            g = int(obs.index[j])
            j = int(np.searchsorted(obs.index, g, side="right")) - 1  # whole time point
            ess_out[done : done + j + 1] = ess[1 : j + 2]
            nu_out[done : done + j + 1] = nu[: j + 1]
            mean_out[done : done + j + 1] = m[: j + 1]
            spread_out[done : done + j + 1] = spread[: j + 1]
            model.load(snap)
            head_t = seg_t[: g + 1]
            head_in = {name: v[: g + 1] for name, v in seg_in.items()}
            model.commit(head_t, head_in, model.advance(head_t, head_in))
            self.log_evidence += float(lse[j + 1] - lse[0])
            self.logw = cum[j + 1].copy()
            idx = self.resample()
            model.take(idx)
            self.move()
            model.set_parameters(self.theta)
            resampled += 1
            done += j + 1
            start += g + 1
        return EstimateResult(ess_out, nu_out, resampled, mean_out, spread_out)

    def state_dict(self) -> dict[str, Any]:
        """Arrays and JSON-able values that restore the filter bit for bit."""
        return {
            "theta": self.theta.copy(),
            "logw": self.logw.copy(),
            "movable": self.movable.copy(),
            "ess_fraction": self.ess_fraction,
            "liu_west_a": self.a,
            "resamplings": self.resamplings,
            "log_evidence": self.log_evidence,
            "rng_state": _jsonable(self.rng.bit_generator.state),
            "rng_kind": type(self.rng.bit_generator).__name__,
        }

    @classmethod
    def from_state_dict(cls, state: Mapping[str, Any]) -> ParticleFilter:
        """Rebuild a filter saved by :meth:`state_dict`."""
        kinds = {
            "PCG64": np.random.PCG64,
            "PCG64DXSM": np.random.PCG64DXSM,
            "Philox": np.random.Philox,
            "SFC64": np.random.SFC64,
            "MT19937": np.random.MT19937,
        }
        kind = str(state["rng_kind"])
        if kind not in kinds:
            raise TwinInputError(f"rng_kind: unknown bit generator {kind!r}")
        bitgen = kinds[kind]()
        bitgen.state = dict(state["rng_state"])
        pf = cls(
            np.asarray(state["theta"]),
            rng=np.random.Generator(bitgen),
            ess_fraction=float(state["ess_fraction"]),
            liu_west_a=float(state["liu_west_a"]),
            movable=np.asarray(state["movable"], dtype=bool),
        )
        pf.logw = np.asarray(state["logw"], dtype=np.float64).copy()
        pf.resamplings = int(state["resamplings"])
        pf.log_evidence = float(state["log_evidence"])
        return pf


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return obj
