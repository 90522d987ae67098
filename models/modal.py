r"""A stateful modal filter: the linearised service model advanced reading by reading.

Each output :math:`y_o` (a temperature, stress or strain at a location) of the
thermo-elastic model with frozen properties is a sum of first-order lags driven by the
fluid-temperature deviation :math:`u(t) = T_f(t) - T_f(t_0)` plus an instantaneous
pressure term (:mod:`models.responses`):

.. math::

    y_o(t) = d_o\,u(t) + \sum_{i=1}^{m} b_{oi}\,x_{oi}(t) + k_o\,p(t), \qquad
    \tau_{oi}\,\dot x_{oi} = u - x_{oi}, \quad x_{oi}(t_0) = 0 .

For an input that is linear between two points a step :math:`\Delta t` apart the lag is
advanced exactly (ramp-invariant discretisation, as in
:meth:`models.responses.ModalResponse.simulate`). Written for the deviation
:math:`w = x - u` of each mode from its input it reads

.. math::

    w_k = e\,w_{k-1} - D\,(u_k - u_{k-1}), \qquad e = e^{-\Delta t/\tau}, \qquad
    D = \frac{\tau}{\Delta t}\big(1 - e^{-\Delta t/\tau}\big) ,

and :math:`y = \sum_i b_i w_i + (d + \sum_i b_i)\,u + k\,p`. :class:`ModalBank` holds the
mode parameters of many particles at once, shape ``(particles, outputs, modes)``;
:class:`ModalFilter` carries the mode states between calls, so a twin can advance
one reading or a whole batch at a time (with identical results, to the bit) and
store its state as plain arrays.

References
----------
J. A. Boley and J. H. Weiner, *Theory of Thermal Stresses*, Wiley, 1960, ch. 1
(Duhamel's theorem). A. V. Oppenheim and R. W. Schafer, *Discrete-Time Signal
Processing*, 3rd ed., Pearson, 2010, sec. 7.1 (invariant discretisations of a
continuous-time filter).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from models.errors import ModelInputError

if TYPE_CHECKING:
    from models.modefit import SharedModes
    from models.responses import ModalSet

__all__ = ["SCHEMA_VERSION", "ModalBank", "ModalFilter", "ModalState"]

#: Version of :meth:`ModalFilter.state_dict`.
SCHEMA_VERSION = 1
_PAD_TAU = 1.0  # s, time constant of padded modes (amplitude 0)
_TABLE_LIMIT = 16  # distinct step lengths per compiled call
_CHUNK = 64  # steps per compiled call when the steps are irregular
_CACHE_SIZE = 8  # step lengths whose coefficients are kept between calls
_ARRAYS = ("amplitudes", "time_constants", "direct", "pressure_gain")


def _float_array(value: ArrayLike, name: str, ndim: int) -> NDArray[np.float64]:
    arr = np.array(value, dtype=np.float64, copy=True, order="C")
    if arr.ndim != ndim:
        raise ModelInputError(
            f"{name}: expected a {ndim}-D array, got shape {arr.shape}; "
            "shape (particles, outputs[, modes])"
        )
    bad = ~np.isfinite(arr)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ModelInputError(f"{name}{list(where)}: must be finite, got {arr[where]}")
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class ModalBank:
    r"""Mode parameters of many particles: one modal model per particle and output.

    Attributes
    ----------
    outputs : tuple of (str, str)
        ``(output, location)`` of each output, e.g. ``("temperature", "outer")``.
    amplitudes : numpy.ndarray, shape (P, O, M)
        Thermal mode amplitudes :math:`b_i` (output unit per K); 0 for padded modes.
    time_constants : numpy.ndarray, shape (P, O, M)
        Time constants :math:`\tau_i` in s, > 0 (padded modes: any positive value).
    direct : numpy.ndarray, shape (P, O)
        Instantaneous thermal part (output unit per K; usually 0).
    pressure_gain : numpy.ndarray, shape (P, O)
        Output per Pa (0 for temperatures).

    The arrays are stored as read-only float64 copies.
    """

    outputs: tuple[tuple[str, str], ...]
    amplitudes: NDArray[np.float64]
    time_constants: NDArray[np.float64]
    direct: NDArray[np.float64]
    pressure_gain: NDArray[np.float64]

    def __post_init__(self) -> None:
        outs = []
        for i, pair in enumerate(self.outputs):
            if isinstance(pair, str) or len(pair) != 2:
                raise ModelInputError(
                    f"outputs[{i}]: expected an (output, location) pair, got {pair!r}"
                )
            outs.append((str(pair[0]), str(pair[1])))
        if len(set(outs)) != len(outs):
            raise ModelInputError(f"outputs: pairs must be unique, got {outs}")
        amps = _float_array(self.amplitudes, "amplitudes", 3)
        taus = _float_array(self.time_constants, "time_constants", 3)
        direct = _float_array(self.direct, "direct", 2)
        pg = _float_array(self.pressure_gain, "pressure_gain", 2)
        P, n_out, _ = amps.shape
        if P < 1 or n_out != len(outs):
            raise ModelInputError(
                f"amplitudes: shape {amps.shape} must be (P >= 1, {len(outs)} outputs, modes)"
            )
        for name, arr, shape in (
            ("time_constants", taus, amps.shape),
            ("direct", direct, (P, n_out)),
            ("pressure_gain", pg, (P, n_out)),
        ):
            if arr.shape != shape:
                raise ModelInputError(
                    f"{name}: shape {arr.shape} must be {shape} to match amplitudes {amps.shape}"
                )
        if (taus <= 0.0).any():
            where = tuple(int(i) for i in np.argwhere(taus <= 0.0)[0])
            raise ModelInputError(
                f"time_constants{list(where)}: must be > 0 s, got {taus[where]}; "
                "give padded modes amplitude 0 and any positive time constant"
            )
        object.__setattr__(self, "outputs", tuple(outs))
        for name, arr in zip(_ARRAYS, (amps, taus, direct, pg), strict=True):
            object.__setattr__(self, name, arr)

    @classmethod
    def from_modal_set(
        cls,
        modal_set: ModalSet,
        outputs: Sequence[tuple[str, str]],
        *,
        n_modes: int | None = None,
    ) -> ModalBank:
        """Build a one-particle bank from fitted unit responses.

        Parameters
        ----------
        modal_set : ModalSet
            Fits of :func:`models.responses.fit_modes`.
        outputs : sequence of (output, location)
            Outputs in column order.
        n_modes : int, optional
            Modes per output (padded with amplitude 0); defaults to the largest count.

        Returns
        -------
        ModalBank
            ``P = 1``.
        """
        thermal = [modal_set[(o, loc, "fluid_temperature")] for o, loc in outputs]
        pressure = [modal_set[(o, loc, "pressure")] for o, loc in outputs]
        for (o, loc), r in zip(outputs, pressure, strict=True):
            if np.any(r.amplitudes != 0.0):
                raise ModelInputError(
                    f"modal_set[({o!r}, {loc!r}, 'pressure')]: has {r.amplitudes.size} modes; "
                    "the filter takes an instantaneous pressure response (fit it with 0 modes)"
                )
        most = max((r.amplitudes.size for r in thermal), default=0)
        m = most if n_modes is None else int(n_modes)
        if m < most:
            raise ModelInputError(
                f"n_modes: {m} is fewer than the {most} modes of the fits; give n_modes >= {most}"
            )
        amps = np.zeros((1, len(thermal), m))
        taus = np.full((1, len(thermal), m), _PAD_TAU)
        for j, r in enumerate(thermal):
            amps[0, j, : r.amplitudes.size] = r.amplitudes
            taus[0, j, : r.time_constants.size] = r.time_constants
        return cls(
            outputs=tuple((str(o), str(loc)) for o, loc in outputs),
            amplitudes=amps,
            time_constants=taus,
            direct=np.array([[r.direct for r in thermal]]),
            pressure_gain=np.array([[r.gain for r in pressure]]),
        )

    @classmethod
    def from_shared_modes(cls, modes: SharedModes, outputs: Sequence[tuple[str, str]]) -> ModalBank:
        """Build a one-particle bank from a shared-time-constant fit.

        Parameters
        ----------
        modes : SharedModes
            Result of :func:`models.modefit.fit_shared_modes`.
        outputs : sequence of (output, location)
            Outputs in column order (each must be in ``modes``).

        Returns
        -------
        ModalBank
            ``P = 1``; every output has the shared time constants.
        """
        keys = [(str(o), str(loc)) for o, loc in outputs]
        missing = [k for k in keys if k not in modes.amplitudes]
        if missing:
            raise ModelInputError(
                f"outputs: {missing} are not in the fit (it has {list(modes.amplitudes)})"
            )
        m = modes.time_constants.size
        return cls(
            outputs=tuple(keys),
            amplitudes=np.array([[modes.amplitudes[k] for k in keys]]),
            time_constants=np.broadcast_to(modes.time_constants, (1, len(keys), m)),
            direct=np.zeros((1, len(keys))),
            pressure_gain=np.array([[modes.pressure_gain[k] for k in keys]]),
        )

    @property
    def n_particles(self) -> int:
        """Number of particles ``P``."""
        return int(self.amplitudes.shape[0])

    @property
    def n_outputs(self) -> int:
        """Number of outputs ``O``."""
        return int(self.amplitudes.shape[1])

    @property
    def n_modes(self) -> int:
        """Modes per output ``M``."""
        return int(self.amplitudes.shape[2])

    @property
    def static_gain(self) -> NDArray[np.float64]:
        """Steady-state thermal gain ``direct + sum_i b_i``, shape (P, O), per K."""
        gain = np.array(self.direct)
        for i in range(self.n_modes):  # in mode order (a reduction over a short axis is slow)
            gain += self.amplitudes[:, :, i]
        return gain

    def take(self, idx: ArrayLike) -> ModalBank:
        """Return the bank of particles ``idx`` (select, repeat or reorder; resampling)."""
        rows = _particle_index(idx, self.n_particles)
        return ModalBank(
            outputs=self.outputs,
            amplitudes=self.amplitudes[rows],
            time_constants=self.time_constants[rows],
            direct=self.direct[rows],
            pressure_gain=self.pressure_gain[rows],
        )


def _particle_index(idx: ArrayLike, n: int) -> NDArray[np.intp]:
    rows = np.asarray(idx)
    if rows.ndim != 1 or rows.size == 0 or not np.issubdtype(rows.dtype, np.integer):
        raise ModelInputError(
            f"idx: expected a non-empty 1-D integer array of particle indices, got "
            f"dtype {rows.dtype} shape {rows.shape}"
        )
    bad = (rows < 0) | (rows >= n)
    if bad.any():
        raise ModelInputError(
            f"idx[{int(np.flatnonzero(bad)[0])}]: {int(rows[bad][0])} is not a particle index "
            f"in [0, {n})"
        )
    return rows.astype(np.intp)


@dataclass(frozen=True)
class ModalState:
    """A copy of a :class:`ModalFilter`'s state.

    Attributes
    ----------
    x : numpy.ndarray, shape (P, O, M)
        Mode states :math:`x_i` (K, deviation from ``T_f0``).
    t_last : float
        Time of the last point, s.
    u_last : float
        Fluid-temperature deviation at the last point, K.
    p_last : float
        Pressure at the last point, Pa.
    t0 : float
        Start time, s.
    T_f0 : float
        Fluid temperature at the start (the reference of ``u``), K.
    """

    x: NDArray[np.float64]
    t_last: float
    u_last: float
    p_last: float
    t0: float
    T_f0: float


class ModalFilter:
    r"""Advance the modal models of every particle and output through a load history.

    ``y_o(t) = direct u + sum_i b_i x_i + pressure_gain p``,
    ``u = T_f - T_f(t0)``, ``tau_i dx_i/dt = u - x_i``, the inputs linear between points.

    Parameters
    ----------
    bank : ModalBank
        Mode parameters, shape ``(P, O, M)``.

    Notes
    -----
    Advancing costs one pass over the ``P O M`` mode states per point; the coefficients
    :math:`e^{-\Delta t/\tau}` are computed once per distinct step length (and kept for
    the last few between calls), so uniform steps are cheapest. The results are a
    function of the inputs alone: a batch and any split of it are bit-identical.
    """

    def __init__(self, bank: ModalBank) -> None:
        self._bank = bank
        self._w = np.zeros((bank.n_modes, bank.n_particles * bank.n_outputs))
        self._started = False
        self._t_last = self._u_last = self._p_last = self._t0 = self._T_f0 = 0.0
        self._load_bank(bank)

    # ----------------------------------------------------------------- parameters
    def _load_bank(self, bank: ModalBank) -> None:
        P, n_out, M = bank.amplitudes.shape
        Q = P * n_out
        self._b = np.ascontiguousarray(bank.amplitudes.reshape(Q, M).T)
        self._tau = np.ascontiguousarray(bank.time_constants.reshape(Q, M).T)
        self._rate = -1.0 / self._tau  # -1/tau: e = exp(rate dt)
        self._gain = np.ascontiguousarray(bank.static_gain.reshape(Q))
        self._pg = np.ascontiguousarray(bank.pressure_gain.reshape(Q))
        self._cache: OrderedDict[float, tuple[NDArray[np.float64], NDArray[np.float64]]] = (
            OrderedDict()
        )

    @property
    def bank(self) -> ModalBank:
        """The mode parameters in use."""
        return self._bank

    @property
    def outputs(self) -> tuple[tuple[str, str], ...]:
        """``(output, location)`` of each output."""
        return self._bank.outputs

    @property
    def n_particles(self) -> int:
        """Number of particles ``P``."""
        return self._bank.n_particles

    def set_bank(self, bank: ModalBank) -> None:
        """Use new mode parameters (drift, jitter) from now on; the mode states are kept.

        Raises
        ------
        ModelInputError
            When the outputs, particle count or mode count differ.
        """
        old = self._bank
        if bank.outputs != old.outputs:
            raise ModelInputError(
                f"bank.outputs: {list(bank.outputs)} differ from the filter's {list(old.outputs)}"
            )
        if bank.amplitudes.shape != old.amplitudes.shape:
            raise ModelInputError(
                f"bank: shape (P, O, M) = {bank.amplitudes.shape} differs from the filter's "
                f"{old.amplitudes.shape}; resample with take() first, keep the mode count"
            )
        self._bank = bank
        self._load_bank(bank)

    def take(self, idx: ArrayLike) -> None:
        """Resample particles: keep (and repeat) particles ``idx``, states and parameters."""
        bank = self._bank
        rows = _particle_index(idx, bank.n_particles)
        P, n_out, M = bank.amplitudes.shape

        def pick(a: NDArray[np.float64]) -> NDArray[np.float64]:
            return np.ascontiguousarray(a.reshape(-1, P, n_out)[:, rows].reshape(a.shape[0], -1))

        self._bank = bank.take(rows)
        self._w, self._b, self._tau = pick(self._w), pick(self._b), pick(self._tau)
        self._rate = pick(self._rate)
        self._gain = pick(self._gain[None])[0]
        self._pg = pick(self._pg[None])[0]
        # coefficients are elementwise in tau: permuting them equals recomputing them
        for dt, (E, D) in self._cache.items():
            self._cache[dt] = (pick(E), pick(D))

    # ----------------------------------------------------------------- time stepping
    def start(self, t0: float, fluid_temperature: float, pressure: float) -> None:
        """Start at rest in equilibrium with the fluid at ``t0`` (s): ``x = 0``.

        Parameters
        ----------
        t0 : float
            Start time, s.
        fluid_temperature : float
            Fluid temperature at ``t0``, K; temperature outputs are deviations from it.
        pressure : float
            Pressure at ``t0``, Pa.
        """
        for name, v in (
            ("t0", t0),
            ("fluid_temperature", fluid_temperature),
            ("pressure", pressure),
        ):
            if not math.isfinite(float(v)):
                raise ModelInputError(f"{name}: must be finite, got {v}")
        self._w[...] = 0.0
        self._t0 = self._t_last = float(t0)
        self._T_f0 = float(fluid_temperature)
        self._u_last = 0.0
        self._p_last = float(pressure)
        self._started = True

    def _fill(self, dt: float, E: NDArray[np.float64], D: NDArray[np.float64]) -> None:
        """Write ``exp(-dt/tau)`` into ``E`` and ``tau (1 - exp(-dt/tau)) / dt`` into ``D``.

        The one place the coefficients are computed (same operations, same array
        shapes), so every path gives the same bits for the same step.
        """
        np.multiply(self._rate, dt, out=D)  # -dt/tau, kept in D for the division
        np.exp(D, out=E)
        h = D.copy()
        np.expm1(h, out=D)
        np.divide(D, h, out=D)

    def _coefficients(self, dt: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        hit = self._cache.get(dt)
        if hit is not None:
            self._cache.move_to_end(dt)
            return hit
        E, D = np.empty_like(self._tau), np.empty_like(self._tau)
        self._fill(dt, E, D)
        self._cache[dt] = (E, D)
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return E, D

    def advance(
        self, t: ArrayLike, fluid_temperature: ArrayLike, pressure: ArrayLike
    ) -> NDArray[np.float64]:
        """Advance to the points ``t`` and return the outputs there.

        The inputs are linear from the last point to the first new one and between the
        new points.

        Parameters
        ----------
        t : array_like, shape (n,)
            Times in s, strictly increasing and after the last point.
        fluid_temperature : array_like, shape (n,)
            Fluid temperature at ``t``, K.
        pressure : array_like, shape (n,)
            Pressure at ``t``, Pa.

        Returns
        -------
        numpy.ndarray, shape (P, O, n)
            Output deviations: temperatures relative to ``T_f0`` (add it for the
            temperature), stresses and strains relative to the stress-free state at
            ``T_f0`` and zero pressure.

        Raises
        ------
        ModelInputError
            Before :meth:`start`, for mismatched shapes, non-finite values or times
            that do not increase.
        """
        from models._modal_kernel import advance_modes

        if not self._started:
            raise ModelInputError(
                "advance: the filter has not been started; call start(t0, fluid_temperature, "
                "pressure) first"
            )
        tt = _vector(t, "t", None)
        n = tt.size
        u = _vector(fluid_temperature, "fluid_temperature", n) - self._T_f0
        p = _vector(pressure, "pressure", n)
        P, n_out = self._bank.n_particles, self._bank.n_outputs
        y = np.empty((P * n_out, n))
        if n == 0:
            return y.reshape(P, n_out, 0)
        dt = np.empty(n)
        dt[0] = tt[0] - self._t_last
        np.subtract(tt[1:], tt[:-1], out=dt[1:])
        if not (dt > 0.0).all():
            k = int(np.flatnonzero(~(dt > 0.0))[0])
            before = self._t_last if k == 0 else float(tt[k - 1])
            raise ModelInputError(
                f"t[{k}]: {float(tt[k])!r} s does not follow {before!r} s; times must increase "
                "strictly and start after the last point (reorder or drop late readings)"
            )
        if n == 1:
            E, D = self._coefficients(float(dt[0]))
            advance_modes(
                np.zeros(1, dtype=np.int64), E[None], D[None], u, p, 0, 1, self._u_last,
                self._w, self._b, self._gain, self._pg, y,
            )  # fmt: skip
        else:
            uniq, inv = np.unique(dt, return_inverse=True)
            if uniq.size <= _TABLE_LIMIT:  # few step lengths: cached coefficients
                pairs = [self._coefficients(float(s)) for s in uniq]
                E = np.stack([e for e, _ in pairs])
                D = np.stack([d for _, d in pairs])
                advance_modes(
                    inv.astype(np.int64), E, D, u, p, 0, n, self._u_last,
                    self._w, self._b, self._gain, self._pg, y,
                )  # fmt: skip
            else:  # irregular steps: coefficients per step, a chunk of steps at a time
                E = np.empty((_CHUNK, *self._tau.shape))
                D = np.empty_like(E)
                idx = np.empty(n, dtype=np.int64)
                for k0 in range(0, n, _CHUNK):
                    k1 = min(k0 + _CHUNK, n)
                    for k in range(k0, k1):
                        self._fill(float(dt[k]), E[k - k0], D[k - k0])
                    idx[k0:k1] = np.arange(k1 - k0)
                    u_prev = self._u_last if k0 == 0 else float(u[k0 - 1])
                    advance_modes(
                        idx, E, D, u, p, k0, k1, u_prev,
                        self._w, self._b, self._gain, self._pg, y,
                    )  # fmt: skip
        self._t_last = float(tt[-1])
        self._u_last = float(u[-1])
        self._p_last = float(p[-1])
        return y.reshape(P, n_out, n)

    # ----------------------------------------------------------------- state
    @property
    def state(self) -> ModalState:
        """A copy of the state (mode states ``x`` of shape (P, O, M) and the last point)."""
        P, n_out, M = self._bank.amplitudes.shape
        return ModalState(
            x=np.ascontiguousarray((self._w + self._u_last).T.reshape(P, n_out, M)),
            t_last=self._t_last,
            u_last=self._u_last,
            p_last=self._p_last,
            t0=self._t0,
            T_f0=self._T_f0,
        )

    def state_dict(self) -> dict[str, Any]:
        """Return the full state as NumPy arrays, floats, ints, lists and strings.

        Arrays go into an ``.npz`` file, the rest into JSON; no pickle is needed.
        ``w`` holds the mode deviations ``x - u_last``, shape (P, O, M), the form the
        filter advances (so a restored filter continues bit-identically).
        """
        P, n_out, M = self._bank.amplitudes.shape
        bank = self._bank
        return {
            "schema_version": SCHEMA_VERSION,
            "kind": "modal_filter",
            "outputs": [list(pair) for pair in bank.outputs],
            "amplitudes": np.array(bank.amplitudes),
            "time_constants": np.array(bank.time_constants),
            "direct": np.array(bank.direct),
            "pressure_gain": np.array(bank.pressure_gain),
            "w": np.ascontiguousarray(self._w.T.reshape(P, n_out, M)),
            "started": int(self._started),
            "t_last": self._t_last,
            "u_last": self._u_last,
            "p_last": self._p_last,
            "t0": self._t0,
            "T_f0": self._T_f0,
        }

    @classmethod
    def from_state_dict(cls, d: Mapping[str, Any]) -> ModalFilter:
        """Rebuild a filter from :meth:`state_dict` (e.g. read back from JSON and .npz)."""
        keys = ("outputs", *_ARRAYS, "w", "started", "t_last", "u_last", "p_last", "t0", "T_f0")
        missing = [k for k in (*keys, "schema_version") if k not in d]
        if missing:
            raise ModelInputError(
                f"state: missing keys {missing}; give the dictionary of ModalFilter.state_dict()"
            )
        if d["schema_version"] != SCHEMA_VERSION:
            raise ModelInputError(
                f"state.schema_version: {d['schema_version']!r} is not {SCHEMA_VERSION}, the "
                "version this code reads"
            )
        bank = ModalBank(
            outputs=tuple((str(o), str(loc)) for o, loc in d["outputs"]),
            **{k: np.asarray(d[k], dtype=np.float64) for k in _ARRAYS},
        )
        w = np.asarray(d["w"], dtype=np.float64)
        if w.shape != bank.amplitudes.shape or not np.isfinite(w).all():
            raise ModelInputError(
                f"state.w: shape {w.shape} must be {bank.amplitudes.shape} and finite"
            )
        out = cls(bank)
        P, n_out, M = w.shape
        out._w = np.ascontiguousarray(w.reshape(P * n_out, M).T)
        out._started = bool(int(d["started"]))
        out._t_last, out._u_last, out._p_last = (
            float(d[k]) for k in ("t_last", "u_last", "p_last")
        )
        out._t0, out._T_f0 = float(d["t0"]), float(d["T_f0"])
        return out


def _vector(value: ArrayLike, name: str, n: int | None) -> NDArray[np.float64]:
    arr = np.ascontiguousarray(value, dtype=np.float64)
    if arr.ndim == 0:
        arr = arr[None]
    if arr.ndim != 1 or (n is not None and arr.size != n):
        want = "1-D" if n is None else f"shape ({n},) like t"
        raise ModelInputError(f"{name}: expected {want}, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        k = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise ModelInputError(f"{name}[{k}]: must be finite, got {arr[k]}")
    return arr
