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
        # The factors are computed in NumPy (its own LAPACK) and wrapped as tensors:
        # torch's batched BLAS must not run in a process that has loaded DOLFINx, whose
        # OpenBLAS exports a cblas_dgemm_batch that torch then calls with the wrong ABI
        # (a segmentation fault). See mean_and_variance(backend=...).
        ls_np = lengthscale[:, 0, :].numpy().astype(np.float64)  # (b, d)
        s_np, noise_np, c_np = (
            v.numpy().astype(np.float64) for v in (outputscale, noise, constant)
        )
        x = train_x.numpy().astype(np.float64)  # (n, d)
        y = train_y.numpy().astype(np.float64)  # (b, n)
        n = x.shape[0]
        xs = x[None, :, :] / ls_np[:, None, :]  # (b, n, d)
        diff = xs[:, :, None, :] - xs[:, None, :, :]
        r = np.sqrt(np.einsum("bijd,bijd->bij", diff, diff))
        K = s_np[:, None, None] * _correlation_np(r, kernel) + noise_np[:, None, None] * np.eye(n)
        try:
            L = np.linalg.cholesky(K)
        except np.linalg.LinAlgError as err:
            raise ConvergenceError(
                "GPSurrogate.fit: the trained covariance matrix is not positive definite; "
                "raise noise_floor or remove duplicate training points"
            ) from err
        linv = np.linalg.solve(L, np.broadcast_to(np.eye(n), L.shape))  # L^-1
        alpha = np.einsum("bkn,bk->bn", linv, np.einsum("bkn,bn->bk", linv, y - c_np[:, None]))
        self._train_x_scaled = torch.from_numpy(xs.copy())  # (b, n, d)
        self.chol = torch.from_numpy(L)
        self.alpha = torch.from_numpy(alpha[..., None].copy())  # (b, n, 1)
        self._np = (ls_np.copy(), s_np.copy(), noise_np.copy(), c_np.copy(), xs.copy(),
                    alpha.copy(), linv.copy())  # fmt: skip

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
        self, U: NDArray[np.float64], *, block_size: int = 16384, backend: str = "auto"
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Posterior mean and variance ``(b, m)`` at unit-cube inputs ``U`` ``(m, d)``.

        ``backend="numpy"`` never calls torch (rows in blocks that bound memory);
        ``"auto"`` uses NumPy up to :data:`SMALL` points and torch beyond.
        """
        if backend == "numpy":
            n_out, n_train = self._np[4].shape[0], self._np[4].shape[1]
            rows = max(1, 4_000_000 // max(1, n_out * n_train))
            parts = [self._small(U[i : i + rows]) for i in range(0, U.shape[0], rows)]
            return (np.concatenate([m for m, _ in parts], axis=-1),
                    np.concatenate([v for _, v in parts], axis=-1))  # fmt: skip
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

    def mean(self, U: NDArray[np.float64], *, backend: str = "auto") -> NDArray[np.float64]:
        """Posterior mean ``(b, m)`` only (one kernel block and the cached weights).

        ``backend`` as in :meth:`mean_and_variance`.
        """
        if backend == "numpy":
            n_out, n_train = self._np[4].shape[0], self._np[4].shape[1]
            rows = max(1, 4_000_000 // max(1, n_out * n_train))
            parts = [
                self._small(U[i : i + rows], variance=False)[0] for i in range(0, U.shape[0], rows)
            ]
            return np.concatenate(parts, axis=-1)
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
        """NumPy path (no torch dispatch, no torch BLAS): ``(b, m)`` arrays.

        Squared distances as ``|z|^2 + |x|^2 - 2 z.x`` and the products as batched
        matrix products, so NumPy's BLAS does the work.
        """
        ls, s, noise, c, xs, alpha, linv = self._np
        z = U[None, :, :] / ls[:, None, :]  # (b, m, d)
        d2 = (
            np.einsum("bmd,bmd->bm", z, z)[:, :, None]
            + np.einsum("bnd,bnd->bn", xs, xs)[:, None, :]
            - 2.0 * np.matmul(z, xs.transpose(0, 2, 1))
        )
        r = np.sqrt(np.maximum(d2, 0.0))
        Ks = s[:, None, None] * _correlation_np(r, self.kernel)  # (b, m, n)
        mean = np.matmul(Ks, alpha[:, :, None])[..., 0] + c[:, None]
        if not variance:
            return mean, mean
        v = np.matmul(Ks, linv.transpose(0, 2, 1))  # v[b, m, k] = sum_n L^-1[b, k, n] Ks[b, m, n]
        var = s[:, None] - np.einsum("bmk,bmk->bm", v, v)
        if self.include_noise:
            var = var + noise[:, None]
        return mean, np.maximum(var, 1e-300)
