# mypy: disable-error-code="misc"
"""Compiled inner loop of :class:`models.modal.ModalFilter` (numba).

The recursion is serial in time and independent across particles, outputs and modes;
NumPy cannot express a per-row first-order recursion without one pass over the whole
``(rows, n)`` array per operation (measured: 20-100 ms per pass at 18,000 rows x 1,000
steps, see benchmarks/RESULTS.md), so the loop is compiled. It walks the rows in
blocks that stay in the L1 cache for the whole batch and vectorises across the rows
of a block.

Every row follows the same operations in the same order whatever the batch length,
so a batch and any split of it give bit-identical states and outputs.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["advance_modes"]

_BLOCK = 128  # rows of (outputs x particles) per cache block


@numba.njit(cache=True, nogil=True)
def advance_modes(
    idx: np.ndarray,
    E: np.ndarray,
    D: np.ndarray,
    u: np.ndarray,
    p: np.ndarray,
    k_start: int,
    k_stop: int,
    u_prev: float,
    w: np.ndarray,
    b: np.ndarray,
    gain: np.ndarray,
    pg: np.ndarray,
    y: np.ndarray,
) -> None:
    """Advance the mode deviations ``w`` over steps ``k_start..k_stop-1`` and write ``y``.

    ``w_k = E w_{k-1} - D (u_k - u_{k-1})`` and
    ``y_k = sum_m b_m w_k + gain u_k + pg p_k`` per row.

    Parameters
    ----------
    idx : int64 array, shape (n,)
        Row of the coefficient tables of each step.
    E, D : float64 arrays, shape (K, M, Q)
        ``exp(-dt/tau)`` and ``tau (1 - exp(-dt/tau)) / dt`` per table row, mode, row.
    u, p : float64 arrays, shape (n,)
        Fluid-temperature deviation (K) and pressure (Pa) at the new points.
    k_start, k_stop : int
        Steps to advance.
    u_prev : float
        Input at the point before ``k_start``.
    w : float64 array, shape (M, Q)
        Mode deviations ``x - u``, updated in place.
    b : float64 array, shape (M, Q)
        Mode amplitudes.
    gain, pg : float64 arrays, shape (Q,)
        ``direct + sum_m b_m`` and the pressure gain.
    y : float64 array, shape (Q, n)
        Output, written at columns ``k_start..k_stop-1``.
    """
    M, Q = w.shape
    acc = np.empty(_BLOCK)
    for q0 in range(0, Q, _BLOCK):
        q1 = min(q0 + _BLOCK, Q)
        nq = q1 - q0
        up = u_prev
        for k in range(k_start, k_stop):
            s = idx[k]
            uk = u[k]
            pk = p[k]
            du = uk - up
            for j in range(nq):
                acc[j] = gain[q0 + j] * uk + pg[q0 + j] * pk
            for m in range(M):
                e = E[s, m, q0:q1]
                d = D[s, m, q0:q1]
                wm = w[m, q0:q1]
                bm = b[m, q0:q1]
                for j in range(nq):
                    wr = e[j] * wm[j] - d[j] * du
                    wm[j] = wr
                    acc[j] += bm[j] * wr
            for j in range(nq):
                y[q0 + j, k] = acc[j]
            up = uk
