r"""A duty plan from a recorded history: "continue as the last year ran".

The fluid temperature and pressure of the last ``span`` of a history (one year by
default) are averaged over 60 s bins and cut into cycles:

- the **hold level** is the 95th percentile of the fluid temperature; the fluid is
  *at hold* within ``band`` (15 K) of it;
- a **start-up** is an entry into the hold, a **shut-down** the exit before it; the
  lowest fluid temperature between the exit and the entry is the start temperature,
  which names the kind: below ``kind_edges_degC[0]`` cold, below ``[1]`` warm, else hot;
- a shut-down whose mean cooling rate (from the exit to the lowest temperature)
  exceeds ``trip_rate_degC_per_min`` is a **trip**: it and its restart count as one trip,
  not as a start-up;
- per kind: the rates are the mean slopes between 10 % and 90 % of the rise and the fall,
  the hold temperature and pressure the medians at hold, the start pressure the median
  at the lowest temperatures, the hold durations the times at hold;
- counts per year are the counts over the span scaled to 365.25 days, drawn as Poisson;
  hold durations as a normal with the observed mean and standard deviation (a fixed
  value when only one hold, or all alike, was seen).

A history with no complete cycle in the span raises
:class:`~twin.errors.TwinConfigError`.
"""

from __future__ import annotations

import math
import pathlib
from typing import Any

import numpy as np
from numpy.typing import NDArray

from models.units import ZERO_CELSIUS
from twin.errors import TwinConfigError
from twin.plan import Distribution, DutyPlan, StartupKind, Trips

__all__ = ["plan_from_archive", "plan_from_history"]

_YEAR = 365.25 * 86400.0
_BIN = 60.0


def _binned(
    t: NDArray[np.float64], v: NDArray[np.float64], t0: float, n: int
) -> NDArray[np.float64]:
    k = np.clip(((t - t0) // _BIN).astype(np.int64), 0, n - 1)
    s = np.bincount(k, weights=v, minlength=n)
    c = np.bincount(k, minlength=n)
    out = np.full(n, np.nan)
    ok = c > 0
    out[ok] = s[ok] / c[ok]
    # hold the last value across empty bins (report-by-exception streams)
    idx = np.where(ok, np.arange(n), 0)
    np.maximum.accumulate(idx, out=idx)
    return np.asarray(out[idx], dtype=np.float64)


def _slope(t: NDArray[np.float64], T: NDArray[np.float64], lo: float, hi: float) -> float:
    """Mean rate of ``T`` between its first passages through ``lo`` and ``hi`` (K/s)."""
    a = np.flatnonzero(T >= lo) if hi > lo else np.flatnonzero(T <= lo)
    b = np.flatnonzero(T >= hi) if hi > lo else np.flatnonzero(T <= hi)
    if a.size == 0 or b.size == 0 or t[b[0]] <= t[a[0]]:
        return math.nan
    return abs(hi - lo) / float(t[b[0]] - t[a[0]])


def plan_from_history(
    t: NDArray[np.float64],
    fluid_temperature: NDArray[np.float64],
    pressure: NDArray[np.float64],
    *,
    span_s: float = _YEAR,
    band_K: float = 15.0,
    kind_edges_degC: tuple[float, float] = (250.0, 400.0),
    trip_rate_degC_per_min: float = 10.0,
    name: str = "as the last year ran",
) -> DutyPlan:
    """Derive a duty plan from a fluid temperature (K) and pressure (Pa) history.

    Parameters
    ----------
    t : numpy.ndarray, shape (n,)
        Times, s (increasing).
    fluid_temperature, pressure : numpy.ndarray, shape (n,)
        K and Pa at ``t``.
    span_s : float, optional
        The last part of the history to read, s (one year).
    band_K : float, optional
        Width below the hold level that still counts as hold, K.
    kind_edges_degC : (float, float), optional
        Start temperatures separating cold, warm and hot start-ups.
    trip_rate_degC_per_min : float, optional
        Cooling rate above which a shut-down is a trip.
    name : str, optional
        Name of the plan.

    Returns
    -------
    DutyPlan
    """
    t = np.asarray(t, dtype=np.float64)
    T = np.asarray(fluid_temperature, dtype=np.float64)
    p = np.asarray(pressure, dtype=np.float64)
    if t.size < 3 or not (t.size == T.size == p.size):
        raise TwinConfigError(
            f"history: needs at least 3 readings of equal length (got {t.size}, {T.size}, {p.size})"
        )
    if not span_s > 0:
        raise TwinConfigError(f"history.span_s: must be > 0 (got {span_s!r})")
    keep = t >= t[-1] - span_s
    t, T, p = t[keep], T[keep], p[keep]
    t0 = float(t[0])
    n = max(2, int((t[-1] - t0) // _BIN) + 1)
    tb = np.asarray(t0 + _BIN * np.arange(n), dtype=np.float64)
    Tb = _binned(t, T, t0, n)
    pb = _binned(t, p, t0, n)
    level = float(np.percentile(Tb, 95.0))
    hold = Tb >= level - band_K
    change = np.flatnonzero(np.diff(hold.astype(np.int8))) + 1
    entries = [int(i) for i in change if hold[i]]
    exits = [int(i) for i in change if not hold[i]]
    span = float(tb[-1] - tb[0]) + _BIN
    kinds: dict[str, dict[str, list[float]]] = {}
    trips: dict[str, list[float]] = {"drop": [], "rate": [], "pressure": [], "off": []}
    edges = (kind_edges_degC[0] + ZERO_CELSIUS, kind_edges_degC[1] + ZERO_CELSIUS)
    # each exit from the hold: its lowest point, drop, cooling rate, and whether a trip
    lows: dict[int, tuple[int, float, float, bool]] = {}
    for x in exits:
        nxt = min([i for i in entries if i > x], default=None)
        if nxt is None:
            continue  # the history ends before the restart
        j = x + int(np.argmin(Tb[x:nxt]))
        prev_entry = max([i for i in entries if i < x], default=None)
        T_hold = float(np.median(Tb[prev_entry:x])) if prev_entry is not None else level
        drop = T_hold - float(Tb[j])
        cool = _slope(tb[x : j + 1], Tb[x : j + 1], T_hold - 0.1 * drop, T_hold - 0.9 * drop)
        is_trip = math.isfinite(cool) and cool * 60.0 > trip_rate_degC_per_min
        lows[x] = (j, drop, cool, is_trip)
    real_exits = [x for x in exits if not (x in lows and lows[x][3])]
    for e in entries:
        before = [x for x in exits if x < e]
        if not before or before[-1] not in lows:
            continue  # the history starts in the middle of this start-up
        x = before[-1]
        j, drop, cool, is_trip = lows[x]
        T_min = float(Tb[j])
        rise = _slope(tb[j : e + 1], Tb[j : e + 1], T_min + 0.1 * drop, T_min + 0.9 * drop)
        if is_trip:
            trips["drop"].append(drop)
            trips["rate"].append(cool)
            trips["pressure"].append(float(pb[j]))
            ramps = drop / cool + (drop / rise if math.isfinite(rise) else 0.0)
            trips["off"].append(max(0.0, float(tb[e] - tb[x]) - ramps))
            continue
        # the hold of this start-up lasts to the next shut-down that is not a trip
        later = [i for i in real_exits if i > e]
        e_end = later[0] if later else n
        name_k = "cold" if T_min < edges[0] else ("warm" if T_min < edges[1] else "hot")
        d = kinds.setdefault(
            name_k,
            {k: [] for k in ("start_T", "start_p", "hold_T", "hold_p", "hold", "rise", "cool")},
        )
        at_hold = hold[e:e_end]
        d["start_T"].append(T_min)
        d["start_p"].append(float(pb[j]))
        d["hold_T"].append(float(np.median(Tb[e:e_end][at_hold])))
        d["hold_p"].append(float(np.median(pb[e:e_end][at_hold])))
        d["hold"].append(float(at_hold.sum()) * _BIN if later else math.nan)
        d["rise"].append(rise)
        d["cool"].append(lows[later[0]][2] if later and later[0] in lows else math.nan)
    if not kinds:
        raise TwinConfigError(
            f"history: no complete start-up in the last {span / 86400.0:.1f} days (hold level "
            f"{level - ZERO_CELSIUS:.1f} degC, band {band_K} K); give a longer history or a "
            "plan file"
        )
    scale = _YEAR / span
    startups = []
    for name_k in ("cold", "warm", "hot"):
        if name_k not in kinds:
            continue
        d = kinds[name_k]
        holds = np.array([h for h in d["hold"] if math.isfinite(h)])
        rise = np.nanmedian(d["rise"]) if np.isfinite(d["rise"]).any() else math.nan
        cool = np.nanmedian(d["cool"]) if np.isfinite(d["cool"]).any() else math.nan
        if not (math.isfinite(rise) and math.isfinite(cool)):
            raise TwinConfigError(
                f"history: the {name_k} start-ups show no complete ramp; give a longer history"
            )
        startups.append(
            StartupKind(
                name=name_k,
                starts_per_year=Distribution("poisson", (len(d["start_T"]) * scale,)),
                hold=_spread(holds) if holds.size else Distribution("fixed", (0.0,)),
                start_temperature=float(np.median(d["start_T"])),
                hold_temperature=float(np.median(d["hold_T"])),
                start_pressure=float(np.median(d["start_p"])),
                hold_pressure=float(np.median(d["hold_p"])),
                ramp_rate=float(rise),
                shutdown_rate=float(cool),
            )
        )
    trip = None
    if trips["drop"]:
        trip = Trips(
            per_year=Distribution("poisson", (len(trips["drop"]) * scale,)),
            kind=max(startups, key=lambda k: k.starts_per_year.mean).name,
            temperature_drop=float(np.median(trips["drop"])),
            cooling_rate=float(np.median(trips["rate"])),
            pressure=float(np.median(trips["pressure"])),
            off=float(np.median(trips["off"])),
        )
    return DutyPlan(
        name=name,
        startups=tuple(startups),
        trips=trip,
        description=f"derived from {span / 86400.0:.1f} days of history",
    )


def _spread(x: NDArray[np.float64]) -> Distribution:
    if x.size < 2 or float(np.std(x)) <= 1e-9 * max(1.0, float(np.mean(x))):
        return Distribution("fixed", (float(np.mean(x)),))
    return Distribution("normal", (float(np.mean(x)), float(np.std(x, ddof=1))))


def plan_from_archive(
    path: str | pathlib.Path,
    *,
    fluid_temperature: str,
    pressure: str,
    **kwargs: Any,
) -> DutyPlan:
    """Derive a plan from a sensor archive's fluid temperature and pressure readings.

    Parameters
    ----------
    path : path
        The archive (``twin ingest`` writes it).
    fluid_temperature, pressure : str
        Sensor ids of the twin's inputs (``twin.inputs``).
    **kwargs
        Passed to :func:`plan_from_history`.
    """
    from sensors.archive import open_archive
    from sensors.reader import read_commit

    ds = open_archive(path)
    n = int(read_commit(path)["readings"])
    ids = list(ds.attrs["sensors"])
    for sid in (fluid_temperature, pressure):
        if sid not in ids:
            raise TwinConfigError(f"archive: no sensor {sid!r} in {str(path)!r} (it has {ids})")
    i_t, i_p = ids.index(fluid_temperature), ids.index(pressure)
    parts: dict[int, list[tuple[NDArray[np.float64], NDArray[np.float64]]]] = {i_t: [], i_p: []}
    chunk = 1 << 20
    for a in range(0, n, chunk):
        part = ds.isel(reading=slice(a, min(n, a + chunk)))
        s = np.asarray(part["sensor"].values)
        good = np.asarray(part["quality"].values) < 2
        tt = np.asarray(part["time"].values, dtype=np.float64)
        vv = np.asarray(part["value"].values, dtype=np.float64)
        for i in (i_t, i_p):
            m = good & (s == i)
            parts[i].append((tt[m], vv[m]))
    t_T = np.concatenate([a for a, _ in parts[i_t]])
    v_T = np.concatenate([b for _, b in parts[i_t]])
    t_p = np.concatenate([a for a, _ in parts[i_p]])
    v_p = np.concatenate([b for _, b in parts[i_p]])
    if t_T.size < 3 or t_p.size < 1:
        raise TwinConfigError(
            f"archive: too few good readings of {fluid_temperature!r} and {pressure!r} to "
            "derive a plan"
        )
    o = np.argsort(t_T, kind="stable")
    t_T, v_T = t_T[o], v_T[o]
    o = np.argsort(t_p, kind="stable")
    p_at = np.interp(t_T, t_p[o], v_p[o])
    return plan_from_history(t_T, v_T, p_at, **kwargs)
