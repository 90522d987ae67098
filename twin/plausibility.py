"""Plausibility checks on raw sensor readings before they are assimilated.

A reading reaches the particle filter with a quality code (the sensor archive's codes:
0 good, 1 uncertain, 2 bad). :class:`PlausibilityChecker` lowers that quality when a
reading is implausible on its own or against its sensor's recent history; a bad reading
is not assimilated, an uncertain one is assimilated with inflated variance. Faults a
raw-signal test cannot see (a bias step or a drift that the forward model exposes) are
left to :class:`twin.cusum.InnovationMonitor`, which runs on the filter's normalised
innovations; :meth:`PlausibilityChecker.flags` merges both into one record per sensor.

Tests, per sensor, on readings in time order (``sigma`` is the sensor's noise standard
deviation, ``c`` the setting ``spike_sigma``):

range
    Non-finite or outside ``[valid_min, valid_max]``: bad. Such readings, and readings
    that arrive bad, take no part in the tests below.
spike
    Hampel test (Hampel 1974; Pearson 2002): robust z-score of the reading against the
    median ``m`` and the median absolute deviation ``MAD`` of the ``W`` readings before
    it, ``z = (x - m) / max(1.4826 MAD, sigma)``; ``|z| > c`` is bad. The nominal noise
    floors the scale, so a quiet window does not make the test hair-triggered, and the
    MAD widens it when the signal moves faster than the noise. Per reading, the false
    alarm probability on a steady signal is at most ``P(|e - median_W(e)| > c sigma)``
    for independent Gaussian noise ``e`` (about 2e-8 at c = 6, W = 11; the tests
    compute it).
level shift
    The median of the last ``r = level_shift_window`` readings departs from the median
    ``m`` of the ``W`` readings before them by more than ``level_shift_sigma`` times
    the spike test's scale: a step, not a spike (the recent median ignores up to
    ``(r - 1) / 2`` spikes). Such readings are uncertain (each is plausible; the sensor
    just moved) and the sensor is reported with ``bias_step``. A 10-sigma step is found
    ``(r - 1) / 2`` readings after it. On noise the difference of the two medians has a
    standard deviation of 0.65 sigma (medians of 5 and 11 readings), so false alarms at
    4.5 are ~5e-12 per reading (``2 Phi(-4.5 / 0.65)``).
rate of change
    ``|x_i - x_ref| > max_rate dt + c sqrt(2) sigma`` against the last reading that was
    not a spike (so the reading after a spike is not blamed); bad. The noise allowance
    keeps the false alarm probability at ``2 Phi(-c)`` per reading (2e-9 at c = 6).
stuck-at
    Successive readings equal within ``stuck_resolution`` for at least
    ``stuck_window_s``: the value is frozen. Bad from the reading that completes the
    window until the value moves again (the QARTOD flat-line test: IOOS 2020). With
    noise, a repeat has probability ``erf(r / (2 sigma))`` per step, so a window of
    ``n`` readings false-alarms with ``erf(r / (2 sigma)) ** n``: nil at the defaults.
flat-line
    The standard deviation of the last ``N = ceil(flatline_window_s rate_Hz)``
    successive differences is below ``flatline_ratio sqrt(2) sigma``: the readings
    carry no noise where noise is expected (a constant, a substituted value with a tiny
    dither, a noiseless interpolated ramp). Bad while it lasts. A trend leaves the
    differences' spread unchanged, so ramps do not hide the fault; by Anderson's
    inequality a signal only lowers the false alarm probability below that of pure
    noise, a chi-square-like lower tail (bounded by Chernoff's inequality in the tests).

A gap longer than ``gap_intervals / rate_Hz`` between eligible readings restarts the
windows (the spike window must refill, a stuck run starts again). Every decision depends
only on the readings and the state, never on how the readings were split into calls:
order statistics, elementwise operations and integer window sums are exact, so a run
in one call and a run in many give the same qualities, flags and state.

References
----------
Hampel, F. R. (1974). The influence curve and its role in robust estimation. J. Am.
Stat. Assoc. 69, 383-393. Pearson, R. K. (2002). Outliers in process modeling and
identification. IEEE Trans. Control Syst. Technol. 10, 55-63. IOOS (2020). Manual for
the Use of Real-Time Oceanographic Data Quality Control Flags (QARTOD), v1.2: gross
range, spike, rate of change, flat line tests.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from twin.errors import TwinConfigError, TwinInputError
from twin.health import (
    HEALTH_SCHEMA_VERSION,
    QUALITY_BAD,
    QUALITY_GOOD,
    QUALITY_UNCERTAIN,
    HealthSettings,
    SensorSpec,
    _check_header,
)

if TYPE_CHECKING:
    from twin.cusum import InnovationMonitor

__all__ = ["MAD_TO_SIGMA", "PlausibilityChecker"]

#: ``1 / Phi^-1(3/4)``: the MAD of Gaussian noise times this is its standard deviation.
MAD_TO_SIGMA = 1.482602218505602
_SQRT2 = math.sqrt(2.0)
_DIFF_BITS = 10  # flat-line differences are summed as integers in units of sigma / 2**10


_COUNTS = ("readings", "bad", "spike", "rate", "out_of_range", "level_shifts")
_FLOATS = (
    "last_t",
    "last_time",
    "run_start_t",
    "ref_x",
    "ref_t",
    "level_shift_t",
    "last_fault_t",
)


@dataclasses.dataclass
class _State:
    """Carried state of one sensor (the part of its history the tests still need)."""

    tail: npt.NDArray[np.float64]  # last eligible values of the current segment
    last_t: float = math.nan  # time of the last eligible reading
    last_time: float = math.nan  # time of the last reading of any kind
    run_start_t: float = math.nan  # first reading of the current run of repeats
    ref_x: float = math.nan  # last reading that was not a spike (rate reference)
    ref_t: float = math.nan
    level_shift_t: float = math.nan
    last_fault_t: float = math.nan
    stuck: bool = False
    flat: bool = False
    counts: dict[str, int] = dataclasses.field(default_factory=lambda: dict.fromkeys(_COUNTS, 0))


def _opt(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


class PlausibilityChecker:
    """Stateful plausibility checks before assimilation: range, spike, stuck-at, rate, flat-line.

    Parameters
    ----------
    sensors : Sequence[SensorSpec]
        The sensors; index ``i`` in :meth:`check` is ``sensors[i]``.
    settings : HealthSettings
        Thresholds.

    Raises
    ------
    TwinConfigError
        On duplicate sensor ids or a spec that is not a :class:`SensorSpec`.

    Notes
    -----
    See the module docstring for the tests and their false alarm rates. State is
    carried across calls; :meth:`state_dict` and :meth:`from_state_dict` persist it.
    """

    def __init__(self, sensors: Sequence[SensorSpec], settings: HealthSettings) -> None:
        if not isinstance(settings, HealthSettings):
            raise TwinConfigError(
                f"settings: must be a HealthSettings, got {type(settings).__name__}"
            )
        self._sensors = tuple(sensors)
        seen: set[str] = set()
        for i, spec in enumerate(self._sensors):
            if not isinstance(spec, SensorSpec):
                raise TwinConfigError(
                    f"sensors[{i}]: must be a SensorSpec, got {type(spec).__name__}"
                )
            if spec.id in seen:
                raise TwinConfigError(f"sensors[{i}].id: duplicate sensor id {spec.id!r}")
            seen.add(spec.id)
        self._settings = settings
        s = settings
        self._nf = [max(2, math.ceil(s.flatline_window_s * p.rate_Hz - 1e-9)) for p in sensors]
        recent = s.spike_window + s.level_shift_window - 1  # the level-shift test's span
        self._tail_len = [max(recent, nf + 1) for nf in self._nf]
        self._state = [_State(tail=np.empty(0)) for _ in self._sensors]

    @property
    def sensors(self) -> tuple[SensorSpec, ...]:
        """The sensors, in index order."""
        return self._sensors

    @property
    def settings(self) -> HealthSettings:
        """The thresholds."""
        return self._settings

    def check(
        self,
        sensor: npt.ArrayLike,
        time: npt.ArrayLike,
        value: npt.ArrayLike,
        quality: npt.ArrayLike | None = None,
    ) -> npt.NDArray[np.int8]:
        """Quality each reading is assimilated with, after the plausibility checks.

        Parameters
        ----------
        sensor : array_like of int, shape (n,)
            Index into :attr:`sensors`.
        time : array_like of float, shape (n,)
            Reading time, s; non-decreasing per sensor, also across calls.
        value : array_like of float, shape (n,)
            SI value.
        quality : array_like of int8, shape (n,), optional
            Incoming quality (default all good); the result is never better.

        Returns
        -------
        numpy.ndarray of int8, shape (n,)
            ``QUALITY_GOOD``, ``QUALITY_UNCERTAIN`` or ``QUALITY_BAD`` per reading.

        Raises
        ------
        TwinInputError
            On mismatched shapes, an unknown sensor index, a non-finite time, an
            unknown quality code, or a reading older than its sensor's previous one.
            Nothing is changed when it is raised.
        """
        idx, t, x, q = self._validate(sensor, time, value, quality)
        out = np.empty(idx.size, dtype=np.int8)
        if idx.size == 0:
            return out
        order = np.argsort(idx, kind="stable")
        counts = np.bincount(idx, minlength=len(self._sensors))
        bounds = np.concatenate([[0], np.cumsum(counts)])
        for k in np.flatnonzero(counts):
            sel = order[bounds[k] : bounds[k + 1]]
            out[sel] = self._check_sensor(int(k), t[sel], x[sel], q[sel])
        return out

    def _validate(
        self,
        sensor: npt.ArrayLike,
        time: npt.ArrayLike,
        value: npt.ArrayLike,
        quality: npt.ArrayLike | None,
    ) -> tuple[
        npt.NDArray[np.intp], npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.int8]
    ]:
        raw_idx = np.asarray(sensor)
        t = np.asarray(time, dtype=np.float64)
        x = np.asarray(value, dtype=np.float64)
        if raw_idx.ndim != 1 or t.shape != raw_idx.shape or x.shape != raw_idx.shape:
            raise TwinInputError(
                f"sensor, time, value: must be 1-D arrays of one length, got shapes "
                f"{raw_idx.shape}, {t.shape}, {x.shape}"
            )
        if raw_idx.size and not np.issubdtype(raw_idx.dtype, np.integer):
            raise TwinInputError(f"sensor: must be integer indices, got dtype {raw_idx.dtype}")
        idx = raw_idx.astype(np.intp, copy=False)
        n_sensors = len(self._sensors)
        if idx.size and (idx.min() < 0 or idx.max() >= n_sensors):
            bad = idx[(idx < 0) | (idx >= n_sensors)][0]
            raise TwinInputError(
                f"sensor: index {int(bad)} is outside 0..{n_sensors - 1} "
                f"({n_sensors} sensors configured)"
            )
        if not np.all(np.isfinite(t)):
            raise TwinInputError(f"time: must be finite, got {t[~np.isfinite(t)][0]!r}")
        if quality is None:
            q = np.zeros(idx.size, dtype=np.int8)
        else:
            q_raw = np.asarray(quality)
            if q_raw.shape != idx.shape or (
                q_raw.size and not np.issubdtype(q_raw.dtype, np.integer)
            ):
                raise TwinInputError(
                    f"quality: must be integer codes of shape {idx.shape}, got shape "
                    f"{q_raw.shape} and dtype {q_raw.dtype}"
                )
            if q_raw.size and (q_raw.min() < QUALITY_GOOD or q_raw.max() > QUALITY_BAD):
                bad_q = q_raw[(q_raw < QUALITY_GOOD) | (q_raw > QUALITY_BAD)][0]
                raise TwinInputError(
                    f"quality: code {int(bad_q)} is not one of 0 (good), 1 (uncertain), 2 (bad)"
                )
            q = q_raw.astype(np.int8)
        if idx.size:
            order = np.argsort(idx, kind="stable")
            ts, ks = t[order], idx[order]
            prev = np.array([self._state[k].last_time for k in range(n_sensors)])[ks]
            first = np.concatenate([[True], ks[1:] != ks[:-1]])
            prev_t = np.where(first, prev, np.concatenate([[0.0], ts[:-1]]))
            back = ts < prev_t  # NaN (no previous reading) compares False
            if back.any():
                j = int(np.flatnonzero(back)[0])
                raise TwinInputError(
                    f"time: readings of sensor {self._sensors[ks[j]].id!r} must come in time "
                    f"order, got {ts[j]!r} after {prev_t[j]!r}; reorder before calling check()"
                )
        return idx, t, x, q

    def _check_sensor(
        self,
        k: int,
        t: npt.NDArray[np.float64],
        x: npt.NDArray[np.float64],
        q_in: npt.NDArray[np.int8],
    ) -> npt.NDArray[np.int8]:
        st, spec = self._state[k], self._sensors[k]
        with np.errstate(invalid="ignore"):
            in_range = np.isfinite(x) & (x >= spec.valid_min) & (x <= spec.valid_max)
        eligible = in_range & (q_in != QUALITY_BAD)
        fault = ~in_range
        doubt = np.zeros(x.size, dtype=bool)
        where = np.flatnonzero(eligible)
        if where.size:
            fault[where], doubt[where] = self._check_eligible(k, t[where], x[where])
        out = np.maximum(q_in, np.where(doubt, np.int8(QUALITY_UNCERTAIN), np.int8(QUALITY_GOOD)))
        out = np.where(fault, np.int8(QUALITY_BAD), out).astype(np.int8)
        st.last_time = float(t[-1])
        if fault.any():
            st.last_fault_t = float(t[np.flatnonzero(fault)[-1]])
        c = st.counts
        c["readings"] += int(x.size)
        c["bad"] += int(np.count_nonzero(out == QUALITY_BAD))
        c["out_of_range"] += int(np.count_nonzero(~in_range))
        return out

    def _check_eligible(
        self, k: int, t: npt.NDArray[np.float64], x: npt.NDArray[np.float64]
    ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
        """Spike, level shift, rate, stuck-at and flat-line tests on eligible readings."""
        st, spec, s = self._state[k], self._sensors[k], self._settings
        m, l0 = x.size, st.tail.size
        xx = np.concatenate([st.tail, x])  # reading j sits at xx[l0 + j]
        j = np.arange(m)
        # Position in the current segment: eligible readings before j since the last gap
        # (capped by the carried tail, which is long enough for every test).
        prev_t = np.concatenate([[st.last_t], t[:-1]])
        gap = ~(t - prev_t <= s.gap_intervals / spec.rate_Hz)  # NaN: no previous reading
        last_gap = np.maximum.accumulate(np.where(gap, j, -1))
        pos = np.where(last_gap >= 0, j - last_gap, l0 + j)

        # Median and MAD of the W readings before each reading g of xx that a test needs
        # (the level-shift test looks r - 1 readings further back than the spike test).
        w, h = s.spike_window, s.spike_window // 2
        r = s.level_shift_window
        g_lo = max(w, l0 - (r - 1))
        med = np.empty(0)
        scale = np.empty(0)
        if l0 + m > g_lo:
            win = sliding_window_view(xx, w)[g_lo - w : l0 + m - w].copy()  # worked in place
            win.partition(h, axis=1)
            med = win[:, h].copy()
            win -= med[:, None]
            np.abs(win, out=win)
            win.partition(h, axis=1)
            scale = np.maximum(MAD_TO_SIGMA * win[:, h], spec.noise_std)

        # Spike: Hampel test against the W readings before each reading.
        z = np.zeros(m)
        full = np.flatnonzero(pos >= w)
        at = l0 + full - g_lo
        z[full] = (x[full] - med[at]) / scale[at]
        spike = np.abs(z) > s.spike_sigma

        # Level shift: median of the last r readings against the window before them.
        shift = np.zeros(m, dtype=bool)
        ready = np.flatnonzero(pos >= w + r - 1)
        if ready.size:
            g = l0 + ready
            recent = sliding_window_view(xx, r)[g - r + 1]
            recent.partition(r // 2, axis=1)
            ref = g - r + 1 - g_lo
            shift[ready] = np.abs(recent[:, r // 2] - med[ref]) > (s.level_shift_sigma * scale[ref])
        if shift.any():
            # one episode per step: a new one starts after W + r quiet readings' time
            ts = t[shift]
            before = np.concatenate([[st.level_shift_t], ts[:-1]])
            new = ~(ts - before <= (w + r) / spec.rate_Hz)  # NaN: the first episode
            st.counts["level_shifts"] += int(np.count_nonzero(new))
            st.level_shift_t = float(ts[-1])

        # Rate of change against the last reading that was not a spike.
        clean = np.flatnonzero(~spike)
        rate = np.zeros(m, dtype=bool)
        if clean.size:
            xc, tc = x[clean], t[clean]
            ref_x = np.concatenate([[st.ref_x], xc[:-1]])
            ref_t = np.concatenate([[st.ref_t], tc[:-1]])
            allow = s.max_rate[spec.quantity] * (tc - ref_t) + (
                s.spike_sigma * _SQRT2 * spec.noise_std
            )
            with np.errstate(invalid="ignore"):
                rate[clean] = np.abs(xc - ref_x) > allow  # NaN reference: no test
            st.ref_x, st.ref_t = float(xc[-1]), float(tc[-1])

        # Stuck-at: a run of repeats (within the resolution) lasting stuck_window_s.
        before = xx[np.maximum(l0 + j - 1, 0)]
        repeat = (pos >= 1) & (np.abs(x - before) <= s.stuck_resolution[spec.quantity])
        start = np.maximum.accumulate(np.where(repeat, -1, j))
        run_t0 = np.where(start >= 0, t[np.maximum(start, 0)], st.run_start_t)
        stuck = repeat & (t - run_t0 >= s.stuck_window_s)
        st.run_start_t = float(run_t0[-1])

        # Flat-line: spread of the last N successive differences, exact integer sums.
        nf = self._nf[k]
        flat = np.zeros(m, dtype=bool)
        ready = np.flatnonzero(pos >= nf)
        if ready.size:
            unit = spec.noise_std / 2.0**_DIFF_BITS
            clip = min(2**26, math.isqrt(2**62 // nf))
            d = np.clip(np.rint(np.diff(xx) / unit), -clip, clip).astype(np.int64)
            c1 = np.concatenate([[0], np.cumsum(d)])  # int64 wrap-around cancels in differences
            c2 = np.concatenate([[0], np.cumsum(d * d)])
            g = l0 + ready
            s1 = (c1[g] - c1[g - nf]).astype(np.float64) / nf
            s2 = (c2[g] - c2[g - nf]).astype(np.float64) / nf
            var = (s2 - s1 * s1) * unit * unit
            flat[ready] = var < 2.0 * (s.flatline_ratio * spec.noise_std) ** 2

        st.stuck, st.flat = bool(stuck[-1]), bool(flat[-1])
        st.counts["spike"] += int(np.count_nonzero(spike))
        st.counts["rate"] += int(np.count_nonzero(rate))
        st.last_t = float(t[-1])
        seg = int(pos[-1]) + 1  # eligible readings in the current segment, capped below
        st.tail = xx[-min(seg, self._tail_len[k], xx.size) :].copy()
        return spike | rate | stuck | flat, shift

    def flags(self, monitor: InnovationMonitor | None = None) -> dict[str, dict[str, Any]]:
        """Health record per sensor.

        Parameters
        ----------
        monitor : InnovationMonitor, optional
            The filter's innovation monitor; an active alarm of a sensor sets its
            ``bias_step``.

        Returns
        -------
        dict
            Sensor id to ``{"spike": int, "stuck": bool, "rate": int, "flatline": bool,
            "out_of_range": int, "bias_step": bool, "last_fault_time": float | None,
            "status": "ok" | "suspect" | "faulty"}`` plus ``"readings"``, ``"bad"`` and
            ``"level_shifts"`` (counts). ``stuck`` and ``flatline`` describe the latest
            reading; ``bias_step`` is a level shift within ``suspect_hold_s`` or an
            active innovation alarm. ``"faulty"``: stuck, flat-line or bias step;
            ``"suspect"``: a flagged reading within ``suspect_hold_s``.
        """
        alarms = monitor.alarms() if monitor is not None else {}
        hold = self._settings.suspect_hold_s
        out: dict[str, dict[str, Any]] = {}
        for spec, st in zip(self._sensors, self._state, strict=True):
            recent_shift = st.last_time - st.level_shift_t <= hold  # NaN: False
            bias = bool(recent_shift or alarms.get(spec.id, {}).get("active", False))
            if st.stuck or st.flat or bias:
                status = "faulty"
            elif st.last_time - st.last_fault_t <= hold:
                status = "suspect"
            else:
                status = "ok"
            c = st.counts
            out[spec.id] = {
                "spike": c["spike"],
                "stuck": st.stuck,
                "rate": c["rate"],
                "flatline": st.flat,
                "out_of_range": c["out_of_range"],
                "bias_step": bias,
                "last_fault_time": _opt(st.last_fault_t),
                "status": status,
                "readings": c["readings"],
                "bad": c["bad"],
                "level_shifts": c["level_shifts"],
            }
        return out

    def state_dict(self) -> dict[str, Any]:
        """Carried state as NumPy arrays and JSON values (no pickle).

        Returns
        -------
        dict
            ``schema_version``, ``kind``, ``sensor_ids`` and one array per state field
            (shape ``(sensors,)``; ``tail`` is ``(sensors, L)``, NaN-padded, with
            ``tail_len``).
        """
        n = len(self._sensors)
        width = max((st.tail.size for st in self._state), default=0)
        tail = np.full((n, width), np.nan)
        for i, st in enumerate(self._state):
            tail[i, : st.tail.size] = st.tail
        d: dict[str, Any] = {
            "schema_version": HEALTH_SCHEMA_VERSION,
            "kind": "PlausibilityChecker",
            "sensor_ids": [p.id for p in self._sensors],
            "tail": tail,
            "tail_len": np.array([st.tail.size for st in self._state], dtype=np.int64),
            "stuck": np.array([st.stuck for st in self._state], dtype=bool),
            "flat": np.array([st.flat for st in self._state], dtype=bool),
        }
        for name in _FLOATS:
            d[name] = np.array([getattr(st, name) for st in self._state], dtype=np.float64)
        for name in _COUNTS:
            d[f"count_{name}"] = np.array([st.counts[name] for st in self._state], dtype=np.int64)
        return d

    @classmethod
    def from_state_dict(
        cls, d: Mapping[str, Any], sensors: Sequence[SensorSpec], settings: HealthSettings
    ) -> PlausibilityChecker:
        """Rebuild a checker from :meth:`state_dict` output.

        Parameters
        ----------
        d : Mapping
            The saved state.
        sensors : Sequence[SensorSpec]
            The sensors; their ids must match the saved ones, in order.
        settings : HealthSettings
            Thresholds (they may differ from the saved run's; the carried tails are
            cut to the new lengths).

        Returns
        -------
        PlausibilityChecker
            A checker that continues where the saved one stopped.

        Raises
        ------
        TwinInputError
            On another schema version, kind or sensor list, or missing fields.
        """
        checker = cls(sensors, settings)
        _check_header(d, "PlausibilityChecker", [p.id for p in checker._sensors])
        try:
            tail = np.asarray(d["tail"], dtype=np.float64)
            tail_len = np.asarray(d["tail_len"], dtype=np.int64)
            arrays = {name: np.asarray(d[name], dtype=np.float64) for name in _FLOATS}
            counts = {name: np.asarray(d[f"count_{name}"]) for name in _COUNTS}
            stuck, flat = np.asarray(d["stuck"]), np.asarray(d["flat"])
            for i, st in enumerate(checker._state):
                keep = min(int(tail_len[i]), checker._tail_len[i])
                st.tail = tail[i, int(tail_len[i]) - keep : int(tail_len[i])].copy()
                for name in _FLOATS:
                    setattr(st, name, float(arrays[name][i]))
                st.stuck, st.flat = bool(stuck[i]), bool(flat[i])
                st.counts = {name: int(counts[name][i]) for name in _COUNTS}
        except (KeyError, IndexError, TypeError, ValueError) as err:
            raise TwinInputError(
                f"state: not a complete PlausibilityChecker state ({err}); save it with "
                "state_dict()"
            ) from err
        return checker
