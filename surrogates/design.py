"""Designs of experiments over a :class:`~surrogates.space.ParameterSpace` (scipy.stats.qmc)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import qmc

from surrogates.errors import ParameterSpaceError
from surrogates.space import ParameterSpace

__all__ = ["DESIGNS", "design_points"]

DESIGNS = ("lhs", "random", "sobol")


def design_points(
    space: ParameterSpace | ArrayLike, n: int, *, method: str = "sobol", rng: np.random.Generator
) -> NDArray[np.float64]:
    """Return ``n`` design points inside ``space``.

    Parameters
    ----------
    space : ParameterSpace or array_like, shape (dim, 2)
        The box to fill (a space or its ``[low, high]`` rows).
    n : int
        Number of points (> 0). Sobol draws the next power of two and keeps the first
        ``n`` (balanced when ``n`` is a power of two).
    method : {"sobol", "lhs", "random"}
        Scrambled Sobol, Latin hypercube (optimised by random CD) or plain uniform.
    rng : numpy.random.Generator
        Source of the scrambling and permutations.

    Returns
    -------
    ndarray, shape (n, dim)
        Points in the parameter's edge units.
    """
    if not isinstance(n, int | np.integer) or n < 1:
        raise ParameterSpaceError(
            f"n: number of design points must be a positive integer (got {n!r})"
        )
    if isinstance(space, ParameterSpace):
        bounds = space.bounds
    else:
        bounds = np.asarray(space, dtype=np.float64)
        if bounds.ndim != 2 or bounds.shape[1] != 2 or not np.all(bounds[:, 1] > bounds[:, 0]):
            raise ParameterSpaceError(
                f"space: bounds must be (dim, 2) with low < high (got {bounds.tolist()})"
            )
    dim = bounds.shape[0]
    if method == "sobol":
        sampler: qmc.QMCEngine = qmc.Sobol(dim, scramble=True, rng=rng)
        m = int(np.ceil(np.log2(n)))
        unit = sampler.random_base2(m)[:n]
    elif method == "lhs":
        sampler = qmc.LatinHypercube(dim, rng=rng)
        unit = sampler.random(n)
    elif method == "random":
        unit = rng.random((n, dim))
    else:
        raise ParameterSpaceError(
            f"method: unknown design {method!r}; use one of {', '.join(DESIGNS)}"
        )
    return np.asarray(bounds[:, 0] + unit * (bounds[:, 1] - bounds[:, 0]), dtype=np.float64)
