r"""Exact Gaussian-process surrogates (GPyTorch inside, scikit-learn estimator contract outside).

Model
-----
Each output :math:`y_k` is an independent GP over the inputs scaled to the unit cube,

.. math::

    y_k(x) = c_k + f_k(x) + \varepsilon, \quad f_k \sim \mathcal{GP}(0, s_k\,\kappa(r_k)),
    \quad r_k^2 = \sum_j (x_j - x'_j)^2 / \ell_{kj}^2,
    \quad \varepsilon \sim N(0, \sigma_k^2),

with an ARD Matern (nu = 1/2, 3/2, 5/2) or squared-exponential correlation
:math:`\kappa`, outputs standardised to zero mean and unit variance. The outputs form
one batch of GPs (``batch_shape = (n_outputs,)``) trained together by maximising the
sum of exact marginal log likelihoods with L-BFGS (Rasmussen & Williams 2006, ch. 2, 5).

Prediction uses a cached Cholesky path (R&W algorithm 2.1,
:class:`surrogates.posterior.CachedPosterior`): after training,
:math:`L = \mathrm{chol}(K + \sigma^2 I)` and :math:`\alpha = K^{-1}(y - c)` are kept,
so a prediction costs one kernel evaluation, one product :math:`K_* \alpha` and one
triangular solve for the variances. These are exact variances; GPyTorch's
``fast_pred_var`` (LOVE) is available for comparison through :meth:`GPSurrogate.predict_gpytorch`
only, because it was measured off by up to 100 % on this problem class (DESIGN.md).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray

from surrogates._gpmodel import _exact_settings, _make_exact_gp
from surrogates.errors import (
    ConvergenceError,
    ConvergenceWarning,
    ExtrapolationError,
    InvalidInputError,
    InvalidParameterError,
    NotFittedError,
    TrainingDataError,
)
from surrogates.posterior import CachedPosterior

__all__ = ["KERNELS", "GPSurrogate"]

KERNELS = ("matern12", "matern32", "matern52", "rbf")
_DTYPE = torch.float64


class GPSurrogate:
    """Exact GP regression of one or several outputs, with input and output normalisation.

    Parameters
    ----------
    kernel : {"matern52", "matern32", "matern12", "rbf"}
        Correlation function (ARD: one lengthscale per input and output).
    ard : bool
        One lengthscale per input (True) or one shared lengthscale.
    bounds : array_like, shape (n_features, 2), optional
        Input box ``[low, high]`` per feature (edge units). Inputs are scaled to the unit
        cube with it and predictions outside it are extrapolation. Default: the
        training data's range.
    max_iter : int
        Maximum L-BFGS iterations of the hyperparameter training.
    tol : float
        Gradient tolerance of L-BFGS; stopping on it (or on a stalled loss) counts as converged.
    noise_floor : float
        Lower bound of the noise variance in standardised output units (a nugget that
        keeps the Cholesky factorisation stable on deterministic FEM data).
    n_restarts : int
        Extra trainings from random initial lengthscales; the best likelihood wins.
    include_noise : bool
        Whether predictive standard deviations include the noise variance.
    lengthscale_max : float
        Upper bound of every lengthscale in unit-cube units. Smooth FEM responses
        otherwise drive lengthscales towards infinity and the variances towards
        overconfidence: on 48 held-out FEM runs of the example header (64 training
        runs) the 95 % coverage of the bore hoop stress was 87.5 % with a cap of 20 and
        98 % with 10, at the same RMSE (benchmarks/RESULTS.md).
    lengthscale_prior : (float, float) or None
        Gamma(concentration, rate) prior on the lengthscales (MAP instead of ML
        training); ``(3, 6)`` has its mode at 1/3 of the box. None (default) for
        plain ML, which measured better RMSE and 93-96 % coverage on smooth responses.
    progress : bool
        Show a tqdm bar of the likelihood evaluations during training.
    rng : numpy.random.Generator, optional
        Source of restart initialisations (required when ``n_restarts > 0``).

    Attributes
    ----------
    n_features_in_, n_outputs_ : int
    x_low_, x_high_ : ndarray (n_features_in_,)
        Normalisation box of the inputs.
    y_mean_, y_scale_ : ndarray (n_outputs_,)
        Output standardisation.
    lengthscale_ : ndarray (n_outputs_, n_features_in_)
        In unit-cube input units.
    outputscale_, noise_, constant_ : ndarray (n_outputs_,)
        Signal variance, noise variance and constant mean (standardised output units).
    n_iter_ : int
    converged_ : bool
    loss_ : float
        Final negative marginal log likelihood per training point (summed over outputs).
    """

    def __init__(
        self,
        *,
        kernel: str = "matern52",
        ard: bool = True,
        bounds: ArrayLike | None = None,
        max_iter: int = 200,
        tol: float = 1e-6,
        noise_floor: float = 1e-8,
        n_restarts: int = 0,
        include_noise: bool = True,
        lengthscale_max: float = 10.0,
        lengthscale_prior: tuple[float, float] | None = None,
        progress: bool = False,
        rng: np.random.Generator | None = None,
    ) -> None:
        self.kernel = kernel
        self.ard = ard
        self.bounds = bounds
        self.max_iter = max_iter
        self.tol = tol
        self.noise_floor = noise_floor
        self.n_restarts = n_restarts
        self.include_noise = include_noise
        self.lengthscale_max = lengthscale_max
        self.lengthscale_prior = lengthscale_prior
        self.progress = progress
        self.rng = rng

    # ------------------------------------------------------------------ estimator API
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Return the constructor parameters (scikit-learn contract)."""
        return {
            k: getattr(self, k)
            for k in (
                "kernel",
                "ard",
                "bounds",
                "max_iter",
                "tol",
                "noise_floor",
                "n_restarts",
                "include_noise",
                "lengthscale_max",
                "lengthscale_prior",
                "progress",
                "rng",
            )
        }

    def set_params(self, **params: Any) -> GPSurrogate:
        """Set constructor parameters (scikit-learn contract)."""
        valid = self.get_params()
        for key, value in params.items():
            if key not in valid:
                raise InvalidParameterError(
                    f"set_params: unknown parameter {key!r}; valid are {sorted(valid)}"
                )
            setattr(self, key, value)
        return self

    def _validate_params(self) -> None:
        if self.kernel not in KERNELS:
            raise InvalidParameterError(
                f"kernel: must be one of {', '.join(KERNELS)} (got {self.kernel!r})"
            )
        if not isinstance(self.max_iter, int) or self.max_iter < 1:
            raise InvalidParameterError(
                f"max_iter: must be a positive integer (got {self.max_iter!r})"
            )
        if not self.tol > 0:
            raise InvalidParameterError(f"tol: must be > 0 (got {self.tol!r})")
        if not self.noise_floor > 0:
            raise InvalidParameterError(f"noise_floor: must be > 0 (got {self.noise_floor!r})")
        if not self.lengthscale_max > 1e-3:
            raise InvalidParameterError(
                f"lengthscale_max: must be > 1e-3 (got {self.lengthscale_max!r})"
            )
        if not isinstance(self.n_restarts, int) or self.n_restarts < 0:
            raise InvalidParameterError(
                f"n_restarts: must be an integer >= 0 (got {self.n_restarts!r})"
            )
        if self.n_restarts > 0 and self.rng is None:
            raise InvalidParameterError(
                "rng: a numpy.random.Generator is required when n_restarts > 0 (got None); "
                "pass rng=numpy.random.default_rng(seed)"
            )

    def fit(self, X: ArrayLike, y: ArrayLike) -> GPSurrogate:
        """Train the hyperparameters and cache the prediction factors.

        Parameters
        ----------
        X : array_like, shape (n_samples, n_features)
            Training inputs (edge units of the parameter space).
        y : array_like, shape (n_samples,) or (n_samples, n_outputs)
            Training outputs; every value must be finite.

        Returns
        -------
        GPSurrogate
            ``self``.
        """
        import gpytorch

        self._validate_params()
        Xa, Ya, one_d = _check_training(X, y)
        n, d = Xa.shape
        if self.bounds is None:
            low, high = Xa.min(axis=0), Xa.max(axis=0)
            span = np.where(high > low, high - low, 1.0)
            high = low + span
        else:
            b = np.asarray(self.bounds, dtype=np.float64)
            if b.shape != (d, 2) or not np.all(b[:, 1] > b[:, 0]):
                raise InvalidParameterError(
                    f"bounds: must have shape ({d}, 2) with low < high per row (got {b.tolist()})"
                )
            low, high = b[:, 0], b[:, 1]
        y_mean = Ya.mean(axis=0)
        y_scale = Ya.std(axis=0)
        y_scale = np.where(y_scale > 0, y_scale, 1.0)
        self.n_features_in_ = d
        self.n_outputs_ = Ya.shape[1]
        self.x_low_, self.x_high_ = low, high
        self.y_mean_, self.y_scale_ = y_mean, y_scale
        self._one_d = one_d
        x = torch.as_tensor((Xa - low) / (high - low), dtype=_DTYPE)
        yt = torch.as_tensor(((Ya - y_mean) / y_scale).T.copy(), dtype=_DTYPE)  # (b, n)
        self._train_x = x
        self._train_y = yt

        best: tuple[float, dict[str, torch.Tensor], int, bool] | None = None
        inits = [np.full((self.n_outputs_, d if self.ard else 1), 0.5)]
        for _ in range(self.n_restarts):
            assert self.rng is not None  # checked in _validate_params
            inits.append(np.exp(self.rng.uniform(np.log(0.05), np.log(2.0), size=inits[0].shape)))
        for init in inits:
            model = self._build(x, yt)
            model.covar_module.base_kernel.lengthscale = torch.as_tensor(
                init[:, None, :], dtype=_DTYPE
            )
            model.covar_module.outputscale = torch.ones(self.n_outputs_, dtype=_DTYPE)
            model.likelihood.noise = torch.full(
                (self.n_outputs_, 1), max(1e-4, 10 * self.noise_floor), dtype=_DTYPE
            )
            loss, n_iter, converged = self._train(model, x, yt, gpytorch)
            if best is None or loss < best[0]:
                best = (
                    loss,
                    {k: v.detach().clone() for k, v in model.state_dict().items()},
                    n_iter,
                    converged,
                )
        assert best is not None
        self.loss_, state, self.n_iter_, self.converged_ = best
        self.model_ = self._build(x, yt)
        self.model_.load_state_dict(state)
        if not self.converged_:
            warnings.warn(
                f"GPSurrogate.fit: hyperparameter training stopped at max_iter={self.max_iter} "
                f"before converging (loss {self.loss_:.4g}); raise max_iter or check the "
                "data scaling",
                ConvergenceWarning,
                stacklevel=2,
            )
        self._cache()
        return self

    def _build(self, x: torch.Tensor, yt: torch.Tensor) -> Any:
        import gpytorch

        batch = torch.Size([yt.shape[0]])
        likelihood = gpytorch.likelihoods.GaussianLikelihood(
            batch_shape=batch, noise_constraint=gpytorch.constraints.Interval(self.noise_floor, 1.0)
        )
        xb = x.expand(yt.shape[0], *x.shape)
        model = _make_exact_gp(
            xb,
            yt,
            likelihood,
            kernel=self.kernel,
            ard=self.ard,
            lengthscale_max=self.lengthscale_max,
            lengthscale_prior=None
            if self.lengthscale_prior is None
            else (float(self.lengthscale_prior[0]), float(self.lengthscale_prior[1])),
        )
        return model.to(_DTYPE)

    def _train(
        self, model: Any, x: torch.Tensor, yt: torch.Tensor, gpytorch: Any
    ) -> tuple[float, int, bool]:
        model.train()
        model.likelihood.train()
        mll = gpytorch.mlls.ExactMarginalLogLikelihood(model.likelihood, model)
        opt = torch.optim.LBFGS(
            model.parameters(),
            lr=1.0,
            max_iter=self.max_iter,
            max_eval=3 * self.max_iter,
            tolerance_grad=self.tol,
            tolerance_change=1e-12,
            history_size=50,
            line_search_fn="strong_wolfe",
        )
        xb = model.train_inputs[0]
        from tqdm.auto import tqdm

        bar = tqdm(
            total=3 * self.max_iter,
            desc="GP training",
            unit="eval",
            disable=not self.progress,
            leave=False,
        )

        def closure() -> torch.Tensor:
            bar.update(1)
            opt.zero_grad()
            with _exact_settings(gpytorch):
                loss = -mll(model(xb), yt).sum()
            if not torch.isfinite(loss):
                raise ConvergenceError(
                    f"GPSurrogate.fit: the marginal likelihood became non-finite ({loss.item()}); "
                    "check the training data for duplicates or constant outputs, "
                    "or raise noise_floor"
                )
            loss.backward()
            return loss  # type: ignore[no-any-return]

        try:
            opt.step(closure)  # type: ignore[no-untyped-call]
        except Exception as err:  # linear_operator.NotPSDError and friends
            if isinstance(err, ConvergenceError):
                raise
            if type(err).__name__ in {
                "NotPSDError",
                "NanError",
                "RuntimeError",
                "LinAlgError",
                "_LinAlgError",
            }:
                raise ConvergenceError(
                    f"GPSurrogate.fit: hyperparameter training failed ({err}); raise noise_floor "
                    "or remove duplicate training points"
                ) from err
            raise
        finally:
            bar.close()
        state = opt.state[opt._params[0]]
        n_iter = int(state.get("n_iter", 0))
        n_eval = int(state.get("func_evals", 0))
        with torch.no_grad(), _exact_settings(gpytorch):
            loss = float(-mll(model(xb), yt).sum())
        # L-BFGS stopped on its gradient or loss-change tolerance, not on a budget.
        return loss, n_iter, n_iter < self.max_iter and n_eval < 3 * self.max_iter

    # ------------------------------------------------------------------ cached prediction
    def _cache(self) -> None:
        """Cache the posterior factors (:class:`~surrogates.posterior.CachedPosterior`)."""
        post = CachedPosterior.from_model(
            self.model_,
            kernel=self.kernel,
            train_x=self._train_x,
            train_y=self._train_y,
            include_noise=self.include_noise,
        )
        self._posterior = post
        self.lengthscale_ = post.lengthscale[:, 0, :].numpy().copy()
        self.outputscale_ = post.outputscale.numpy().copy()
        self.noise_ = post.noise.numpy().copy()
        self.constant_ = post.constant.numpy().copy()

    def _check_fitted(self) -> None:
        if not hasattr(self, "_posterior"):
            raise NotFittedError(
                "GPSurrogate: call fit(X, y) (or load_surrogate) before predicting"
            )

    def _normalise(
        self, X: ArrayLike, *, extrapolation: str
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        self._check_fitted()
        Xa = np.asarray(X, dtype=np.float64)
        if Xa.ndim == 1:
            Xa = Xa[None, :] if Xa.size == self.n_features_in_ else Xa
        if Xa.ndim != 2 or Xa.shape[1] != self.n_features_in_:
            raise InvalidInputError(
                f"X: expected shape (n, {self.n_features_in_}) (got {Xa.shape}); one column "
                "per trained parameter"
            )
        if not np.isfinite(Xa).all():
            i = int(np.argwhere(~np.isfinite(Xa))[0, 0])
            raise InvalidInputError(f"X[{i}]: inputs must be finite (got {Xa[i].tolist()})")
        U = (Xa - self.x_low_) / (self.x_high_ - self.x_low_)
        tol = 1e-9
        outside = np.clip(-U, 0.0, None) + np.clip(U - 1.0, 0.0, None)
        outside[outside <= tol] = 0.0
        if extrapolation == "raise" and outside.any():
            i, j = (int(v) for v in np.argwhere(outside > 0)[0])
            raise ExtrapolationError(
                f"X[{i}, {j}] = {Xa[i, j]:g} lies outside the trained range "
                f"[{self.x_low_[j]:g}, {self.x_high_[j]:g}]; retrain on a wider range or pass "
                "extrapolation='flag' to get a flag and inflated variance"
            )
        if extrapolation not in ("raise", "flag"):
            raise InvalidParameterError(
                f"extrapolation: must be 'raise' or 'flag' (got {extrapolation!r})"
            )
        return U, outside

    def outside(self, X: ArrayLike) -> NDArray[np.bool_]:
        """Return whether each row of ``X`` lies outside the trained box (``(n,)``)."""
        _, outside = self._normalise(X, extrapolation="flag")
        return np.asarray(outside.any(axis=1), dtype=bool)

    def predict(
        self,
        X: ArrayLike,
        *,
        extrapolation: str = "raise",
        return_flags: bool = False,
        block_size: int = 16384,
        backend: str = "auto",
    ) -> Any:
        """Predictive mean and standard deviation.

        Parameters
        ----------
        X : array_like, shape (n, n_features)
            Inputs in the training units.
        extrapolation : {"raise", "flag"}
            Outside the trained box: raise :class:`~surrogates.errors.ExtrapolationError`,
            or return a flag and a variance inflated to at least the prior variance,
            growing with the squared distance outside the box in lengthscales.
        return_flags : bool
            Also return the boolean extrapolation flags ``(n,)``.
        block_size : int
            Rows per kernel block (bounds memory at ``n_outputs * block_size * n_train``).
        backend : {"auto", "numpy", "torch"}
            ``"auto"``: NumPy up to a few points, torch beyond. ``"numpy"`` never calls
            torch's BLAS: use it in processes that also run DOLFINx, whose OpenBLAS
            exports a ``cblas_dgemm_batch`` that torch's batched GEMM then calls with
            the wrong ABI (a segmentation fault).

        Returns
        -------
        mean, std : ndarray, shape (n,) or (n, n_outputs)
            In output units; 1-D when the model was trained on 1-D ``y``.
        flags : ndarray of bool, shape (n,)
            Only with ``return_flags=True``.
        """
        U, outside = self._normalise(X, extrapolation=extrapolation)
        if backend not in ("auto", "numpy", "torch"):
            raise InvalidParameterError(
                f"backend: must be 'auto', 'numpy' or 'torch' (got {backend!r})"
            )
        mean_n, var_n = self._posterior.mean_and_variance(U, block_size=block_size, backend=backend)
        flags = outside.any(axis=1)
        if flags.any():
            ls = self.lengthscale_  # (b, d)
            excess = ((outside[None, :, :] / ls[:, None, :]) ** 2).sum(axis=-1)  # (b, n)
            prior = self.outputscale_[:, None] + (
                self.noise_[:, None] if self.include_noise else 0.0
            )
            inflated = prior * (1.0 + excess)
            var_n = np.where(flags[None, :], np.maximum(var_n, inflated), var_n)
        mean = mean_n.T * self.y_scale_ + self.y_mean_
        std = np.sqrt(var_n.T) * self.y_scale_
        if self._one_d:
            mean, std = mean[:, 0], std[:, 0]
        return (mean, std, flags) if return_flags else (mean, std)

    def predict_mean(
        self, X: ArrayLike, *, extrapolation: str = "raise", backend: str = "auto"
    ) -> NDArray[np.float64]:
        """Predictive mean only (one kernel block and the product with the cached weights).

        Same shapes, extrapolation rule and ``backend`` as :meth:`predict`; an
        ``"flag"``-ed row still gets a mean, and the caller is expected to look at
        :meth:`predict`'s flags (or :meth:`outside`).
        """
        U, _ = self._normalise(X, extrapolation=extrapolation)
        if backend not in ("auto", "numpy", "torch"):
            raise InvalidParameterError(
                f"backend: must be 'auto', 'numpy' or 'torch' (got {backend!r})"
            )
        mean_n = self._posterior.mean(U, backend=backend)
        mean = mean_n.T * self.y_scale_ + self.y_mean_
        return mean[:, 0] if self._one_d else mean

    def posterior_covariance(self, X: ArrayLike) -> NDArray[np.float64]:
        """Latent posterior covariance ``(n_outputs, n, n)`` in standardised output units."""
        return self._posterior.covariance(self._normalise(X, extrapolation="flag")[0])

    def predict_gpytorch(
        self, X: ArrayLike, *, fast_pred_var: bool = False, block_size: int = 1000
    ) -> tuple[Any, Any]:
        """Mean and std through GPyTorch's own predictive path (for comparison only).

        Parameters
        ----------
        X : array_like, shape (n, n_features)
        fast_pred_var : bool
            Use LOVE variances (``gpytorch.settings.fast_pred_var``).
        block_size : int
            Rows per call (GPyTorch's batched path can build dense test covariances).

        Returns
        -------
        mean, std : ndarray, like :meth:`predict`
        """
        import gpytorch

        U = torch.as_tensor(self._normalise(X, extrapolation="raise")[0], dtype=_DTYPE)
        model = self.model_
        model.eval()
        model.likelihood.eval()
        noise = self._posterior.noise.numpy()[:, None]
        means, variances = [], []
        with (
            torch.no_grad(),
            gpytorch.settings.fast_pred_var(fast_pred_var),
            gpytorch.settings.max_cholesky_size(10**6),
        ):
            for start in range(0, U.shape[0], block_size):
                u = U[start : start + block_size]
                post = model(u.expand(self.n_outputs_, *u.shape))
                means.append(post.mean.numpy())
                variances.append(post.variance.numpy() + (noise if self.include_noise else 0.0))
        mean_n, var_n = np.concatenate(means, axis=-1), np.concatenate(variances, axis=-1)
        mean = mean_n.T * self.y_scale_ + self.y_mean_
        std = np.sqrt(var_n.T) * self.y_scale_
        if self._one_d:
            mean, std = mean[:, 0], std[:, 0]
        return mean, std


def _check_training(
    X: ArrayLike, y: ArrayLike, *, run_names: Sequence[str] | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64], bool]:
    """Validate training arrays; name the first offending row (run) of non-finite data."""
    Xa = np.asarray(X, dtype=np.float64)
    Ya = np.asarray(y, dtype=np.float64)
    one_d = Ya.ndim == 1
    if one_d:
        Ya = Ya[:, None]
    if Xa.ndim != 2 or Ya.ndim != 2 or Xa.shape[0] != Ya.shape[0]:
        raise TrainingDataError(
            f"fit: X must be (n, n_features) and y (n,) or (n, n_outputs) with the same n "
            f"(got X {Xa.shape}, y {np.shape(y)})"
        )
    if Xa.shape[0] < 2:
        raise TrainingDataError(f"fit: needs at least 2 training points (got {Xa.shape[0]})")
    for name, arr in (("X", Xa), ("y", Ya)):
        bad = ~np.isfinite(arr)
        if bad.any():
            i, j = (int(v) for v in np.argwhere(bad)[0])
            run = run_names[i] if run_names is not None else f"row {i}"
            raise TrainingDataError(
                f"fit: {name} of training {run} (column {j}) is {arr[i, j]}; every training "
                "value must "
                "be finite: drop or rerun that FEM run"
            )
    return Xa, Ya, one_d
