"""The GPyTorch model wiring and the stationary correlation functions of :mod:`surrogates.gp`.

The ExactGP class only wires mean, kernel and likelihood (GPyTorch idiom); the
correlation functions are the same Matern/RBF forms evaluated directly, in torch for
batched prediction and in NumPy for a few points.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

__all__: list[str] = []


def _make_exact_gp(
    train_x: torch.Tensor,
    train_y: torch.Tensor,
    likelihood: Any,
    *,
    kernel: str,
    ard: bool,
    lengthscale_max: float,
    lengthscale_prior: tuple[float, float] | None,
) -> Any:
    """Build the GPyTorch ExactGP: constant mean, scaled ARD kernel, batch of outputs."""
    import gpytorch

    class _BatchExactGP(gpytorch.models.ExactGP):  # type: ignore[misc]
        """Only wires the mean, the kernel and the likelihood (GPyTorch idiom)."""

        def __init__(self) -> None:
            super().__init__(train_x, train_y, likelihood)
            batch = torch.Size([train_y.shape[0]])
            dims = train_x.shape[-1] if ard else None
            # Bounded transforms keep L-BFGS line searches away from overflow (unit-cube
            # inputs, standardised outputs make these bounds generous).
            opts: dict[str, Any] = {
                "ard_num_dims": dims,
                "batch_shape": batch,
                "lengthscale_constraint": gpytorch.constraints.Interval(1e-3, lengthscale_max),
            }
            if lengthscale_prior is not None:
                opts["lengthscale_prior"] = gpytorch.priors.GammaPrior(*lengthscale_prior)
            if kernel == "rbf":
                base = gpytorch.kernels.RBFKernel(**opts)
            else:
                nu = {"matern12": 0.5, "matern32": 1.5, "matern52": 2.5}[kernel]
                base = gpytorch.kernels.MaternKernel(nu=nu, **opts)
            self.mean_module = gpytorch.means.ConstantMean(batch_shape=batch)
            self.covar_module = gpytorch.kernels.ScaleKernel(
                base,
                batch_shape=batch,
                outputscale_constraint=gpytorch.constraints.Interval(1e-4, 1e4),
            )

        def forward(self, x: torch.Tensor) -> Any:
            return gpytorch.distributions.MultivariateNormal(
                self.mean_module(x), self.covar_module(x)
            )

    return _BatchExactGP()


def _correlation_np(r: NDArray[np.float64], kernel: str) -> NDArray[np.float64]:
    """NumPy twin of :func:`_correlation` (the few-point prediction path)."""
    if kernel == "rbf":
        return np.exp(-0.5 * r * r)
    if kernel == "matern12":
        return np.exp(-r)
    if kernel == "matern32":
        t = math.sqrt(3.0) * r
        return (1.0 + t) * np.exp(-t)
    t = math.sqrt(5.0) * r
    return (1.0 + t + t * t / 3.0) * np.exp(-t)


def _correlation(r: torch.Tensor, kernel: str) -> torch.Tensor:
    """Stationary correlation as a function of the scaled distance ``r``."""
    if kernel == "rbf":
        return torch.exp(-0.5 * r * r)
    if kernel == "matern12":
        return torch.exp(-r)
    if kernel == "matern32":
        s = math.sqrt(3.0) * r
        return (1.0 + s) * torch.exp(-s)
    s = math.sqrt(5.0) * r
    return (1.0 + s + s * s / 3.0) * torch.exp(-s)


class _exact_settings:
    """Context: Cholesky-based exact computations regardless of training-set size."""

    def __init__(self, gpytorch: Any) -> None:
        self._ctx = [
            gpytorch.settings.max_cholesky_size(10**6),
            gpytorch.settings.fast_computations(
                covar_root_decomposition=False, log_prob=False, solves=False
            ),
        ]

    def __enter__(self) -> None:
        for c in self._ctx:
            c.__enter__()

    def __exit__(self, *exc: object) -> None:
        for c in reversed(self._ctx):
            c.__exit__(*exc)
