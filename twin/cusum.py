"""Innovation CUSUM: a bias step or a drift of a sensor, seen through the filter's eyes.

The particle filter gives, for each assimilated reading, the normalised innovation
``nu = (z - E[y]) / sqrt(Var[y])``: N(0, 1) while the sensor and the model agree. A bias
step of ``delta`` (in innovation standard deviations) shifts its mean. Page's (1954)
two-sided CUSUM accumulates the evidence::

    S+_t = max(0, S+_{t-1} + nu_t - k)        S-_t = max(0, S-_{t-1} - nu_t - k)

and alarms when either exceeds the decision interval ``h``. The alarm latches
(ISA-18.2: it stays until acknowledged with :meth:`InnovationMonitor.reset`); the sums
keep running, so the statistic shows whether the condition persists.

Design numbers come from the average run length (ARL), by Siegmund's (1985, eq. 2.57)
approximation for a one-sided CUSUM on N(mu, 1) data, ``Delta = mu - k``,
``b = h + 1.166``::

    ARL = (exp(-2 Delta b) + 2 Delta b - 1) / (2 Delta**2)      (b**2 when Delta = 0)

and ``1/ARL = 1/ARL+ + 1/ARL-`` for the two-sided scheme (Montgomery 2009, sec. 9.1.4;
:func:`cusum_arl`). With k = 0.5, h = 5 it gives an in-control ARL of 469 against the
exact 465 (Montgomery, Table 9.3, after Hawkins 1993). The default h = 16 gives
about 3e7 readings (a year at 1 Hz) between false alarms on white innovations, and
detects a 1.5-sigma step in about 17 readings and a 10-sigma step in 2. Correlated
innovations (model error that the filter's variance covers only on average) shorten the
in-control ARL; calibrate ``h`` on replayed in-control data before trusting it.

The recursion is evaluated in closed form (Lindley: ``S_t = C_t - min(-S_0, min_{j<=t}
C_j)`` with ``C`` the cumulative sum of increments) on integers (innovations in units of
2**-24, clipped to +-100), so it is vectorised and exact: any split of the readings into
calls gives the same sums, bit for bit.

References
----------
Page, E. S. (1954). Continuous inspection schemes. Biometrika 41, 100-115.
Siegmund, D. (1985). Sequential Analysis: Tests and Confidence Intervals. Springer.
Montgomery, D. C. (2009). Introduction to Statistical Quality Control, 6th ed., ch. 9.
Hawkins, D. M. (1993). Cumulative sum control charting: an underutilized SPC tool.
Quality Engineering 5, 463-477.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from twin.errors import TwinConfigError, TwinInputError
from twin.health import HEALTH_SCHEMA_VERSION, HealthSettings, _check_header

__all__ = ["InnovationMonitor", "cusum_arl"]

_BITS = 24  # innovations are summed as integers in units of 2**-24
_SCALE = float(2**_BITS)
_NU_CLIP = 100.0  # |nu| beyond this is clipped (any alarm has fired long before)
_SIEGMUND_OFFSET = 1.166  # Siegmund's boundary correction, 2 * 0.583


def cusum_arl(shift: float, *, drift: float, threshold: float, two_sided: bool = True) -> float:
    """Average run length of a CUSUM on N(shift, 1) data, by Siegmund's approximation.

    Parameters
    ----------
    shift : float
        Mean of the (normalised) data, in standard deviations; 0 for in control.
    drift : float
        Reference value ``k``.
    threshold : float
        Decision interval ``h``.
    two_sided : bool
        Combine the upper and lower schemes, ``1/ARL = 1/ARL+ + 1/ARL-``.

    Returns
    -------
    float
        Expected number of readings to the first alarm, from a zero start.
    """

    def one_sided(delta: float) -> float:
        b = threshold + _SIEGMUND_OFFSET
        if abs(delta) < 1e-12:
            return b * b
        return (math.exp(-2.0 * delta * b) + 2.0 * delta * b - 1.0) / (2.0 * delta * delta)

    upper = one_sided(shift - drift)
    if not two_sided:
        return upper
    return 1.0 / (1.0 / upper + 1.0 / one_sided(-shift - drift))


def _lindley(s0: int, increments: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """``S_t = max(0, S_{t-1} + x_t)`` for all t at once, exactly (integers)."""
    c = np.cumsum(increments)
    low = np.minimum.accumulate(c)
    out: npt.NDArray[np.int64] = c - np.minimum(low, -s0)
    return out


class InnovationMonitor:
    """Two-sided CUSUM per sensor on the normalised innovations of the particle filter.

    Parameters
    ----------
    sensor_ids : Sequence[str]
        The sensors; index ``i`` in :meth:`update` is ``sensor_ids[i]``.
    settings : HealthSettings
        ``cusum_threshold`` (h) and ``cusum_drift`` (k), in innovation standard
        deviations.

    Raises
    ------
    TwinConfigError
        On empty or duplicate sensor ids.
    """

    def __init__(self, sensor_ids: Sequence[str], settings: HealthSettings) -> None:
        if not isinstance(settings, HealthSettings):
            raise TwinConfigError(
                f"settings: must be a HealthSettings, got {type(settings).__name__}"
            )
        ids = list(sensor_ids)
        for i, sid in enumerate(ids):
            if not isinstance(sid, str) or not sid:
                raise TwinConfigError(f"sensor_ids[{i}]: must be a non-empty string, got {sid!r}")
            if sid in ids[:i]:
                raise TwinConfigError(f"sensor_ids[{i}]: duplicate sensor id {sid!r}")
        self._ids = tuple(ids)
        self._settings = settings
        self._k = int(round(settings.cusum_drift * _SCALE))
        self._h = int(round(settings.cusum_threshold * _SCALE))
        n = len(ids)
        self._upper = np.zeros(n, dtype=np.int64)
        self._lower = np.zeros(n, dtype=np.int64)
        self._active = np.zeros(n, dtype=bool)
        self._since = np.full(n, np.nan)
        self._direction = np.zeros(n, dtype=np.int8)
        self._readings = np.zeros(n, dtype=np.int64)

    @property
    def sensor_ids(self) -> tuple[str, ...]:
        """The sensors, in index order."""
        return self._ids

    def update(
        self, sensor: npt.ArrayLike, time: npt.ArrayLike, nu: npt.ArrayLike
    ) -> npt.NDArray[np.bool_]:
        """Feed normalised innovations; return whether each reading's sensor is in alarm.

        Parameters
        ----------
        sensor : array_like of int, shape (n,)
            Index into :attr:`sensor_ids`.
        time : array_like of float, shape (n,)
            Reading time, s (recorded as ``since`` when an alarm fires).
        nu : array_like of float, shape (n,)
            Normalised innovations, in time order per sensor; non-finite values (a
            reading that was not assimilated) are skipped.

        Returns
        -------
        numpy.ndarray of bool, shape (n,)
            True where the reading's sensor has an active (latched) alarm after it.

        Raises
        ------
        TwinInputError
            On mismatched shapes or an unknown sensor index.
        """
        idx = np.asarray(sensor)
        t = np.asarray(time, dtype=np.float64)
        v = np.asarray(nu, dtype=np.float64)
        if idx.ndim != 1 or t.shape != idx.shape or v.shape != idx.shape:
            raise TwinInputError(
                f"sensor, time, nu: must be 1-D arrays of one length, got shapes "
                f"{idx.shape}, {t.shape}, {v.shape}"
            )
        if idx.size and not np.issubdtype(idx.dtype, np.integer):
            raise TwinInputError(f"sensor: must be integer indices, got dtype {idx.dtype}")
        n_ids = len(self._ids)
        if idx.size and (idx.min() < 0 or idx.max() >= n_ids):
            raise TwinInputError(
                f"sensor: indices must lie in 0..{n_ids - 1}, got {int(idx.min())}.."
                f"{int(idx.max())}"
            )
        alarm = np.empty(idx.size, dtype=bool)
        if idx.size == 0:
            return alarm
        idx = idx.astype(np.intp, copy=False)
        order = np.argsort(idx, kind="stable")
        counts = np.bincount(idx, minlength=n_ids)
        bounds = np.concatenate([[0], np.cumsum(counts)])
        for k in np.flatnonzero(counts):
            sel = order[bounds[k] : bounds[k + 1]]
            alarm[sel] = self._update_one(int(k), t[sel], v[sel])
        return alarm

    def _update_one(
        self, k: int, t: npt.NDArray[np.float64], v: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.bool_]:
        finite = np.flatnonzero(np.isfinite(v))
        was_active = bool(self._active[k])
        if finite.size == 0:
            return np.full(v.size, was_active)
        x = np.rint(np.clip(v[finite], -_NU_CLIP, _NU_CLIP) * _SCALE).astype(np.int64)
        up = _lindley(int(self._upper[k]), x - self._k)
        dn = _lindley(int(self._lower[k]), -x - self._k)
        over = (up > self._h) | (dn > self._h)
        active = np.full(finite.size, was_active)
        if not was_active and over.any():
            first = int(np.argmax(over))
            active[first:] = True
            self._active[k] = True
            self._since[k] = float(t[finite[first]])
            self._direction[k] = 1 if up[first] >= dn[first] else -1
        self._upper[k], self._lower[k] = up[-1], dn[-1]
        self._readings[k] += finite.size
        # Readings with a non-finite innovation take the state after the one before.
        done = np.cumsum(np.isfinite(v)) - 1
        return np.where(done >= 0, active[np.maximum(done, 0)], was_active)

    def reset(self, sensor_id: str) -> None:
        """Acknowledge a sensor's alarm: clear the latch and restart its sums.

        Parameters
        ----------
        sensor_id : str
            The sensor.

        Raises
        ------
        TwinInputError
            On an unknown sensor id.
        """
        if sensor_id not in self._ids:
            raise TwinInputError(f"sensor_id: unknown sensor {sensor_id!r}; known: {self._ids}")
        k = self._ids.index(sensor_id)
        self._upper[k] = self._lower[k] = 0
        self._active[k] = False
        self._since[k] = np.nan
        self._direction[k] = 0

    def alarms(self) -> dict[str, dict[str, Any]]:
        """Alarm state per sensor.

        Returns
        -------
        dict
            Sensor id to ``{"active": bool, "since": float | None, "direction": +1 | -1 |
            0, "statistic": float}`` plus ``"upper"`` and ``"lower"`` (the two sums) and
            ``"readings"`` (innovations seen). ``statistic`` is the larger sum, in
            innovation standard deviations; ``direction`` is 0 without an alarm.
        """
        out: dict[str, dict[str, Any]] = {}
        for k, sid in enumerate(self._ids):
            up, dn = int(self._upper[k]) / _SCALE, int(self._lower[k]) / _SCALE
            active = bool(self._active[k])
            since = float(self._since[k])
            out[sid] = {
                "active": active,
                "since": since if active else None,
                "direction": int(self._direction[k]) if active else 0,
                "statistic": max(up, dn),
                "upper": up,
                "lower": dn,
                "readings": int(self._readings[k]),
            }
        return out

    def state_dict(self) -> dict[str, Any]:
        """Carried state as NumPy arrays and JSON values (no pickle).

        Returns
        -------
        dict
            ``schema_version``, ``kind``, ``sensor_ids``, ``scale_bits`` and the arrays
            ``upper``, ``lower`` (int64, units of 2**-scale_bits), ``active``, ``since``,
            ``direction``, ``readings``.
        """
        return {
            "schema_version": HEALTH_SCHEMA_VERSION,
            "kind": "InnovationMonitor",
            "sensor_ids": list(self._ids),
            "scale_bits": _BITS,
            "upper": self._upper.copy(),
            "lower": self._lower.copy(),
            "active": self._active.copy(),
            "since": self._since.copy(),
            "direction": self._direction.copy(),
            "readings": self._readings.copy(),
        }

    @classmethod
    def from_state_dict(
        cls, d: Mapping[str, Any], sensor_ids: Sequence[str], settings: HealthSettings
    ) -> InnovationMonitor:
        """Rebuild a monitor from :meth:`state_dict` output.

        Parameters
        ----------
        d : Mapping
            The saved state.
        sensor_ids : Sequence[str]
            The sensors; they must match the saved ones, in order.
        settings : HealthSettings
            Thresholds.

        Returns
        -------
        InnovationMonitor
            A monitor that continues where the saved one stopped.

        Raises
        ------
        TwinInputError
            On another schema version, kind, scale or sensor list, or missing fields.
        """
        monitor = cls(sensor_ids, settings)
        _check_header(d, "InnovationMonitor", list(monitor._ids))
        if d.get("scale_bits") != _BITS:
            raise TwinInputError(f"state.scale_bits: expected {_BITS}, got {d.get('scale_bits')!r}")
        n = len(monitor._ids)
        try:
            fields = {
                "_upper": np.asarray(d["upper"], dtype=np.int64),
                "_lower": np.asarray(d["lower"], dtype=np.int64),
                "_active": np.asarray(d["active"], dtype=bool),
                "_since": np.asarray(d["since"], dtype=np.float64),
                "_direction": np.asarray(d["direction"], dtype=np.int8),
                "_readings": np.asarray(d["readings"], dtype=np.int64),
            }
        except (KeyError, TypeError, ValueError) as err:
            raise TwinInputError(
                f"state: not a complete InnovationMonitor state ({err}); save it with state_dict()"
            ) from err
        for name, arr in fields.items():
            if arr.shape != (n,):
                raise TwinInputError(f"state.{name[1:]}: expected shape ({n},), got {arr.shape}")
            setattr(monitor, name, arr.copy())
        return monitor
