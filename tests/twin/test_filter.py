"""The particle filter against closed forms: conjugate Gaussian posterior, resampling laws."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twin.filter import (
    Observations,
    ParticleFilter,
    effective_sample_size,
    systematic_resample,
    weighted_quantiles,
)


class _Constant:
    """Static parameter observed directly: z = theta + noise (no dynamic state)."""

    def __init__(self, n: int, sigma: float) -> None:
        self.theta = np.zeros((n, 1))
        self.sigma = sigma
        self.committed = 0

    def save(self):
        return None

    def load(self, snapshot):
        pass

    def advance(self, t, inputs):
        return t

    def predict(self, outputs, observations):
        mu = np.repeat(self.theta[:, :1], len(observations), axis=1)
        return mu, np.full_like(mu, self.sigma**2)

    def commit(self, t, inputs, outputs):
        self.committed += t.size

    def take(self, index):
        self.theta = self.theta[index]

    def set_parameters(self, theta):
        self.theta = theta.copy()


def _run(seed: int, n: int = 4000, k: int = 40, sigma: float = 1.0, split: int | None = None):
    rng = np.random.default_rng(seed)
    prior_mean, prior_std, truth = 2.0, 3.0, 3.3
    theta0 = rng.normal(prior_mean, prior_std, (n, 1))
    pf = ParticleFilter(theta0, rng=rng, ess_fraction=0.5, liu_west_a=0.98)
    model = _Constant(n, sigma)
    model.set_parameters(pf.theta)
    z = truth + np.random.default_rng(seed + 1000).normal(0, sigma, k)
    t = np.arange(1.0, k + 1.0)
    parts = [slice(0, k)] if split is None else [slice(0, split), slice(split, k)]
    for sl in parts:
        tt = t[sl]
        obs = Observations(np.arange(tt.size), np.zeros(tt.size, np.intp), z[sl], np.ones(tt.size))
        pf.estimate(model, tt, {}, obs)
    return pf, z, prior_mean, prior_std


def test_conjugate_gaussian_posterior_is_recovered():
    # Reference: the conjugate normal-normal posterior (e.g. Gelman et al., Bayesian Data
    # Analysis, 3rd ed., sec. 2.5): precision 1/s0^2 + k/s^2, mean weighted by precisions.
    pf, z, m0, s0 = _run(3)
    k, s = z.size, 1.0
    post_var = 1.0 / (1.0 / s0**2 + k / s**2)
    post_mean = post_var * (m0 / s0**2 + z.sum() / s**2)
    w = pf.weights
    mean = float(np.sum(w * pf.theta[:, 0]))
    std = float(np.sqrt(np.sum(w * (pf.theta[:, 0] - mean) ** 2)))
    # Monte Carlo error of the mean ~ std / sqrt(ESS); resample-move adds some: 5 sigma
    assert abs(mean - post_mean) < 5 * np.sqrt(post_var / 200)
    assert std == pytest.approx(np.sqrt(post_var), rel=0.25)
    assert pf.resamplings > 0


def test_state_dict_round_trip_continues_bit_for_bit():
    a, *_ = _run(5, k=40)
    rng = np.random.default_rng(5)
    n = 4000
    pf = ParticleFilter(rng.normal(2.0, 3.0, (n, 1)), rng=rng)
    model = _Constant(n, 1.0)
    model.set_parameters(pf.theta)
    z = 3.3 + np.random.default_rng(1005).normal(0, 1.0, 40)
    t = np.arange(1.0, 41.0)
    obs = Observations(np.arange(20), np.zeros(20, np.intp), z[:20], np.ones(20))
    pf.estimate(model, t[:20], {}, obs)
    state = json.loads(
        json.dumps({k: v for k, v in pf.state_dict().items() if not isinstance(v, np.ndarray)})
    )
    arrays = {k: v for k, v in pf.state_dict().items() if isinstance(v, np.ndarray)}
    pf2 = ParticleFilter.from_state_dict({**state, **arrays})
    model.set_parameters(pf2.theta)
    obs = Observations(np.arange(20), np.zeros(20, np.intp), z[20:], np.ones(20))
    pf2.estimate(model, t[20:], {}, obs)
    assert np.array_equal(pf2.theta, a.theta)
    assert np.array_equal(pf2.logw, a.logw)


@given(st.lists(st.floats(0.01, 10.0), min_size=2, max_size=60), st.floats(0.0, 0.999))
@settings(max_examples=200)
def test_systematic_resampling_gives_floor_or_ceil_copies(raw, u):
    # Systematic resampling gives particle i either floor(n w_i) or ceil(n w_i) copies
    # (Douc, Cappe and Moulines 2005, "Comparison of resampling schemes", sec. 3).
    w = np.asarray(raw) / np.sum(raw)
    n = w.size
    idx = systematic_resample(w, u)
    counts = np.bincount(idx, minlength=n)
    assert counts.sum() == n
    assert np.all(counts >= np.floor(n * w - 1e-9))
    assert np.all(counts <= np.ceil(n * w + 1e-9))


def test_effective_sample_size_closed_forms():
    assert effective_sample_size(np.zeros(10)) == pytest.approx(10.0)
    logw = np.log(np.array([1.0, 0.0, 0.0, 0.0]) + 1e-300)
    assert effective_sample_size(logw) == pytest.approx(1.0)
    w = np.array([0.5, 0.25, 0.25])  # 1 / (0.25 + 0.0625 + 0.0625) = 2.6667
    assert effective_sample_size(np.log(w)) == pytest.approx(1.0 / 0.375)


def test_weighted_quantiles_match_repeated_samples():
    # integer weights are the same as repeating the values (inverted-CDF quantiles)
    v = np.array([3.0, 1.0, 2.0, 5.0])
    k = np.array([1, 3, 2, 4])
    w = k / k.sum()
    q = np.array([0.05, 0.3, 0.5, 0.95])
    ref = np.quantile(np.repeat(v, k), q, method="inverted_cdf")
    assert np.allclose(weighted_quantiles(v, w, q), ref)


def test_liu_west_kernel_keeps_mean_and_covariance():
    # Liu and West (2001): a theta + (1 - a) mean + N(0, (1 - a^2) V) keeps mean and V.
    rng = np.random.default_rng(0)
    n = 200_000
    cov = np.array([[2.0, 0.6], [0.6, 1.0]])
    theta = rng.multivariate_normal([1.0, -2.0], cov, n)
    pf = ParticleFilter(theta, rng=rng, liu_west_a=0.9)
    m0, c0 = theta.mean(axis=0), np.cov(theta, rowvar=False)
    pf.move()
    assert np.allclose(pf.theta.mean(axis=0), m0, atol=5 * np.sqrt(2.0 * 0.19 / n) + 1e-12)
    assert np.allclose(np.cov(pf.theta, rowvar=False), c0, atol=0.02)
    assert not np.allclose(pf.theta, theta)


def test_fixed_columns_are_not_moved():
    rng = np.random.default_rng(1)
    theta = rng.normal(size=(100, 2))
    pf = ParticleFilter(theta, rng=rng, movable=np.array([True, False]))
    pf.move()
    assert np.array_equal(pf.theta[:, 1], theta[:, 1])
    assert not np.array_equal(pf.theta[:, 0], theta[:, 0])
