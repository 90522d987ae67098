r"""The cached exact posterior of a batch of GPs: what prediction reuses after training.

After training, :math:`L = \mathrm{chol}(K + \sigma^2 I)` and
:math:`\alpha = K^{-1}(y - c)` are kept (Rasmussen & Williams 2006, algorithm 2.1), so a
prediction costs one kernel evaluation, one product :math:`K_* \alpha` and one triangular
solve for the variances (exact variances, no LOVE). All arrays are in standardised
output units on unit-cube inputs, batch first: ``(n_outputs, ...)``. Up to
:data:`SMALL` points are predicted in NumPy with the factors copied once (lower fixed
cost than a torch dispatch), more in torch blocks.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from surrogates._gpmodel import _correlation, _correlation_np
from surrogates.errors import ConvergenceError

__all__ = ["SMALL", "CachedPosterior"]

#: Up to this many points, predict in NumPy.
SMALL = 32
_DTYPE = torch.float64


class CachedPosterior:
    r"""Exact GP posterior with its Cholesky factor and weights cached.

    Parameters
    ----------
    kernel : str
        Correlation name (``"matern12"``, ``"matern32"``, ``"matern52"``, ``"rbf"``).
    train_x : torch.Tensor, shape (n, d)
        Training inputs on the unit cube.
    train_y : torch.Tensor, shape (b, n)
        Standardised training outputs.
    lengthscale : torch.Tensor, shape (b, 1, d or 1)
    outputscale, noise, constant : torch.Tensor, shape (b,)
        Trained hyperparameters (constrained values).
    include_noise : bool
        Whether predictive variances include the noise variance.

    Raises
    ------
    ConvergenceError
        If :math:`K + \sigma^2 I` is not positive definite.
    """

    def __init__(
        self,
        *,
        kernel: str,
        train_x: torch.Tensor,
        train_y: torch.Tensor,
        lengthscale: torch.Tensor,
        outputscale: torch.Tensor,
        noise: torch.Tensor,
        constant: torch.Tensor,
        include_noise: bool,
    ) -> None:
        self.kernel = kernel
        self.include_noise = include_noise
        self.train_x = train_x
        self.lengthscale, self.outputscale = lengthscale, outputscale
        self.noise, self.constant = noise, constant
        self._train_x_scaled = train_x.unsqueeze(0) / lengthscale  # (b, n, d)
        n = train_x.shape[0]
        K = self.cross(train_x, train_x) + noise[:, None, None] * torch.eye(n, dtype=_DTYPE)
        L, info = torch.linalg.cholesky_ex(K)
        if int(info.max()) > 0:
            raise ConvergenceError(
                "GPSurrogate.fit: the trained covariance matrix is not positive definite; "
                "raise noise_floor or remove duplicate training points"
            )
        self.chol = L
        self.alpha = torch.cholesky_solve((train_y - constant[:, None]).unsqueeze(-1), L)
        eye = torch.eye(n, dtype=_DTYPE).expand(L.shape[0], n, n)
        self._np = (
            lengthscale[:, 0, :].numpy().copy(),
            outputscale.numpy().copy(),
            noise.numpy().copy(),
            constant.numpy().copy(),
            self._train_x_scaled.numpy().copy(),
            self.alpha[..., 0].numpy().copy(),
            torch.linalg.solve_triangular(L, eye, upper=False).numpy().copy(),  # L^-1
        )

    @classmethod
    def from_model(
        cls, model: Any, *, kernel: str, train_x: torch.Tensor, train_y: torch.Tensor,
        include_noise: bool,
    ) -> CachedPosterior:  # fmt: skip
        """Read the trained hyperparameters of a batched GPyTorch ExactGP and cache.

        Parameters
        ----------
        model : gpytorch.models.ExactGP
            The trained model (``covar_module`` a ScaleKernel, constant mean).
        kernel : str
            Its correlation name.
        train_x, train_y : torch.Tensor
            As in the class parameters.
        include_noise : bool
            As in the class parameters.

        Returns
        -------
        CachedPosterior
        """
        return cls(
            kernel=kernel,
            train_x=train_x,
            train_y=train_y,
            lengthscale=model.covar_module.base_kernel.lengthscale.detach(),
            outputscale=model.covar_module.outputscale.detach(),
            noise=model.likelihood.noise.detach().reshape(-1),
            constant=model.mean_module.constant.detach().reshape(-1),
            include_noise=include_noise,
        )

    def cross(self, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        """Kernel matrix ``(b, m, n)`` between unit-cube inputs (no noise)."""
        ls = self.lengthscale
        scaled2 = (
            self._train_x_scaled
            if x2 is self.train_x and hasattr(self, "_train_x_scaled")
            else x2.unsqueeze(0) / ls
        )
        r = torch.cdist(x1.unsqueeze(0) / ls, scaled2)
        return self.outputscale[:, None, None] * _correlation(r, self.kernel)

    def mean_and_variance(
        self, U: NDArray[np.float64], *, block_size: int = 16384
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Posterior mean and variance ``(b, m)`` at unit-cube inputs ``U`` ``(m, d)``."""
        if U.shape[0] <= SMALL:
            return self._small(U)
        u_all = torch.as_tensor(U, dtype=_DTYPE)
        s, noise, c = self.outputscale, self.noise, self.constant
        means, variances = [], []
        with torch.no_grad():
            for start in range(0, u_all.shape[0], block_size):
                u = u_all[start : start + block_size]
                Ks = self.cross(u, self.train_x)  # (b, m, n)
                means.append((Ks @ self.alpha)[..., 0] + c[:, None])
                v = torch.linalg.solve_triangular(self.chol, Ks.transpose(-1, -2), upper=False)
                var = s[:, None] - (v * v).sum(dim=-2)
                if self.include_noise:
                    var = var + noise[:, None]
                variances.append(var.clamp_min(1e-300))
        return torch.cat(means, dim=-1).numpy(), torch.cat(variances, dim=-1).numpy()

    def mean(self, U: NDArray[np.float64]) -> NDArray[np.float64]:
        """Posterior mean ``(b, m)`` only (one kernel block and the cached weights)."""
        if U.shape[0] <= SMALL:
            return self._small(U, variance=False)[0]
        u = torch.as_tensor(U, dtype=_DTYPE)
        with torch.no_grad():
            out = (self.cross(u, self.train_x) @ self.alpha)[..., 0] + self.constant[:, None]
        return np.asarray(out.numpy(), dtype=np.float64)

    def covariance(self, U: NDArray[np.float64]) -> NDArray[np.float64]:
        """Latent posterior covariance ``(b, m, m)`` at unit-cube inputs."""
        u = torch.as_tensor(U, dtype=_DTYPE)
        with torch.no_grad():
            Ks = self.cross(u, self.train_x)
            v = torch.linalg.solve_triangular(self.chol, Ks.transpose(-1, -2), upper=False)
            cov = self.cross(u, u) - v.transpose(-1, -2) @ v
        return np.asarray(cov.numpy(), dtype=np.float64)

    def _small(
        self, U: NDArray[np.float64], *, variance: bool = True
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """NumPy path for a few points (no torch dispatch overhead): ``(b, m)`` arrays."""
        ls, s, noise, c, xs, alpha, linv = self._np
        diff = U[None, :, None, :] / ls[:, None, None, :] - xs[:, None, :, :]  # (b, m, n, d)
        r = np.sqrt(np.einsum("bmnd,bmnd->bmn", diff, diff))
        Ks = s[:, None, None] * _correlation_np(r, self.kernel)  # (b, m, n)
        mean = np.einsum("bmn,bn->bm", Ks, alpha) + c[:, None]
        if not variance:
            return mean, mean
        v = np.einsum("bkn,bmn->bmk", linv, Ks)
        var = s[:, None] - np.einsum("bmk,bmk->bm", v, v)
        if self.include_noise:
            var = var + noise[:, None]
        return mean, np.maximum(var, 1e-300)
