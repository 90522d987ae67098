r"""The plant's truth, segment by segment: FEM transients on a grid of (h, wall), interpolated.

The virtual plant's life is a string of *segments* (a start-up, a shut-down, a trip, a
load-following dip), each a fluid path that starts and ends steady, followed by
``settle`` seconds of constant fluid in which the metal settles. Between segments the
plant holds (or rests) at a steady state, which needs no FEM. The truth of a segment
comes from the full service model (:func:`models.service.solve`, temperature-dependent
properties, transient, uniform time step), never from the twin's own forward model.

The plant's heat-transfer coefficient drifts (fouling) and its wall thins (oxidation),
so each segment would need its own FEM run. Instead, :class:`SegmentLibrary` runs the
FEM at the nodes of a grid, logarithmic in the heat-transfer coefficient
(:math:`h_k = h_\text{ref}\,r^k`, :math:`h_\text{ref} = 1000` W m-2 K-1, ratio
:math:`r` = ``h_ratio``) and uniform in the wall thickness (:math:`w_j = j\,\Delta w`,
``wall_step_m``), and interpolates bilinearly in :math:`(\ln h, w)` between the four
nodes around the plant's :math:`(h, w)`. All runs of one segment share the FEM time
grid (a uniform step with the path's corners snapped on, which depends on the segment
only), so the interpolation is per time step. A point on a node is that node's run.

Nodes run lazily (first :meth:`SegmentLibrary.history` call, or all at once with
:meth:`SegmentLibrary.prepare`, optionally on a Dask cluster) and are cached on disk as
netCDF files named by the SHA-256 of everything that determines the run (the FEM
config after the overrides, the path, the time step, a version), and memoised in
memory.

Measured (2 shared cores, the example header's 40 x 2 quadratic mesh, 60 s step): a
node run costs 1.0-2.0 s (about 7 ms per step: 163 steps for a warm start-up with its
settling, 199 for a trip), the first one in a process about 3 s more (the form
compilation, cached on disk by FFCx after the very first run on a machine); on a
2-worker Dask cluster 6 runs took 12 s including the workers' start. Interpolation
against a direct run at an off-node point (halfway between nodes in log h and in w,
the default grid): metal temperature within 0.09 K, every stress component and the
hoop strain within 0.1 % of its range over the segment (start-up and trip; asserted
with margin in ``tests/scenarios/test_segments.py``).
"""

from __future__ import annotations

import hashlib
import json
import math
import pathlib
import time as _time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from models.units import HOUR, MPA, ZERO_CELSIUS
from scenarios.errors import ScenarioInputError

__all__ = [
    "H_REFERENCE",
    "VARIABLES",
    "Segment",
    "SegmentLibrary",
    "SegmentTruth",
    "dip_segment",
    "shutdown_segment",
    "startup_segment",
    "trip_segment",
]

F64 = NDArray[np.float64]
#: Reference heat-transfer coefficient of the log grid, W m-2 K-1.
H_REFERENCE = 1000.0
#: FEM history variables kept per location.
VARIABLES = ("temperature", "sigma_r", "sigma_theta", "sigma_z", "eps_theta")
_VERSION = 2
_ON_NODE = 1e-9


@dataclass(frozen=True)
class Segment:
    """One transient of the plant, steady at both ends, SI.

    Attributes
    ----------
    name : str
        ``"startup:warm"``, ``"shutdown:warm->cold"``, ``"trip:warm"``, ``"dip:warm"``.
    time : tuple of float
        Corners of the fluid path, s from the segment start; ``time[0] = 0``, strictly
        increasing.
    fluid_temperature : tuple of float
        Fluid temperature at each corner, K (linear in between).
    pressure : tuple of float
        Pressure at each corner, Pa.
    settle : float
        Seconds of constant fluid after the path, in which the metal settles.
    """

    name: str
    time: tuple[float, ...]
    fluid_temperature: tuple[float, ...]
    pressure: tuple[float, ...]
    settle: float = 5400.0

    def __post_init__(self) -> None:
        t = [float(x) for x in self.time]
        where = f"segment {self.name!r}"
        if len(t) < 2:
            raise ScenarioInputError(
                f"{where}.time: needs at least 2 corners; got {list(self.time)!r}."
            )
        if len(self.fluid_temperature) != len(t) or len(self.pressure) != len(t):
            raise ScenarioInputError(
                f"{where}: time, fluid_temperature and pressure need one value per corner; "
                f"got {len(t)}, {len(self.fluid_temperature)} and {len(self.pressure)}."
            )
        if t[0] != 0.0:
            raise ScenarioInputError(f"{where}.time[0]: must be 0 s; got {t[0]!r}.")
        for i in range(1, len(t)):
            if not (math.isfinite(t[i]) and t[i] > t[i - 1]):
                raise ScenarioInputError(
                    f"{where}.time[{i}]: times must be finite and strictly increasing; got "
                    f"{t[i]!r} after {t[i - 1]!r}."
                )
        for name, vals, low in (("fluid_temperature", self.fluid_temperature, 0.0),
                                ("pressure", self.pressure, -math.inf)):  # fmt: skip
            for i, v in enumerate(vals):
                if not (math.isfinite(float(v)) and float(v) > low):
                    raise ScenarioInputError(
                        f"{where}.{name}[{i}]: must be finite"
                        f"{' and > 0 K' if low == 0.0 else ''}; got {v!r}."
                    )
        if not (math.isfinite(float(self.settle)) and float(self.settle) >= 0.0):
            raise ScenarioInputError(f"{where}.settle: must be >= 0 s; got {self.settle!r}.")
        object.__setattr__(self, "time", tuple(t))
        object.__setattr__(
            self, "fluid_temperature", tuple(float(v) for v in self.fluid_temperature)
        )
        object.__setattr__(self, "pressure", tuple(float(v) for v in self.pressure))
        object.__setattr__(self, "settle", float(self.settle))

    @property
    def duration(self) -> float:
        """Length of the segment including the settling time, s."""
        return self.time[-1] + self.settle

    def loads(self) -> dict[str, list[float]]:
        """Return the ``[loads]`` arrays of the FEM run (edge units, path plus settling)."""
        t = list(self.time)
        T = list(self.fluid_temperature)
        p = list(self.pressure)
        if self.settle > 0.0:
            t.append(self.duration)
            T.append(T[-1])
            p.append(p[-1])
        return {
            "time_h": [x / HOUR for x in t],
            "fluid_temperature_degC": [x - ZERO_CELSIUS for x in T],
            "pressure_MPa": [x / MPA for x in p],
        }

    def to_dict(self) -> dict[str, Any]:
        """Return the segment as JSON-ready values (its identity in the cache key)."""
        return {
            "name": self.name,
            "time": list(self.time),
            "fluid_temperature": list(self.fluid_temperature),
            "pressure": list(self.pressure),
            "settle": self.settle,
        }


def _positive(name: str, value: float) -> float:
    v = float(value)
    if not (math.isfinite(v) and v > 0.0):
        raise ScenarioInputError(f"{name}: must be finite and > 0; got {value!r}.")
    return v


def startup_segment(kind: Any, *, settle: float = 5400.0) -> Segment:
    """Ramp from the kind's start to its hold temperature and pressure at ``ramp_rate``.

    Parameters
    ----------
    kind : twin.plan.StartupKind
    settle : float, optional
        Seconds of constant fluid after the ramp.
    """
    rate = _positive(f"startups.{kind.name}.ramp_rate", kind.ramp_rate)
    rise = kind.hold_temperature - kind.start_temperature
    if rise <= 0.0:
        raise ScenarioInputError(
            f"startups.{kind.name}.hold_temperature: must exceed the start temperature "
            f"({kind.start_temperature} K); got {kind.hold_temperature!r} K."
        )
    return Segment(
        name=f"startup:{kind.name}",
        time=(0.0, rise / rate),
        fluid_temperature=(kind.start_temperature, kind.hold_temperature),
        pressure=(kind.start_pressure, kind.hold_pressure),
        settle=settle,
    )


def shutdown_segment(
    kind: Any, *, to_temperature: float, to_pressure: float, settle: float = 5400.0
) -> Segment:
    """Cool from the kind's hold to ``to_temperature`` at its ``shutdown_rate``.

    The pressure falls linearly to ``to_pressure`` over the same time.

    Parameters
    ----------
    kind : twin.plan.StartupKind
    to_temperature, to_pressure : float
        Fluid temperature (K) and pressure (Pa) at the end (the next start-up's start).
    settle : float, optional
    """
    rate = _positive(f"startups.{kind.name}.shutdown_rate", kind.shutdown_rate)
    fall = kind.hold_temperature - float(to_temperature)
    if not fall > 0.0:
        raise ScenarioInputError(
            f"to_temperature: must be below the hold temperature of {kind.name!r} "
            f"({kind.hold_temperature} K); got {to_temperature!r} K."
        )
    return Segment(
        name=f"shutdown:{kind.name}",
        time=(0.0, fall / rate),
        fluid_temperature=(kind.hold_temperature, float(to_temperature)),
        pressure=(kind.hold_pressure, float(to_pressure)),
        settle=settle,
    )


def trip_segment(kind: Any, trips: Any, *, settle: float = 5400.0) -> Segment:
    """Return a trip out of the kind's hold: drop, stay off, re-ramp at ``ramp_rate``.

    The fluid cools by ``trips.temperature_drop`` at ``trips.cooling_rate`` while the
    pressure falls linearly to ``trips.pressure``; both stay ``trips.off``; then the
    fluid re-heats to the hold at ``kind.ramp_rate`` while the pressure rises back
    linearly.

    Parameters
    ----------
    kind : twin.plan.StartupKind
    trips : twin.plan.Trips
    settle : float, optional
    """
    drop = _positive("trips.temperature_drop", trips.temperature_drop)
    t1 = drop / _positive("trips.cooling_rate", trips.cooling_rate)
    t2 = t1 + _positive("trips.off", trips.off)
    t3 = t2 + drop / _positive(f"startups.{kind.name}.ramp_rate", kind.ramp_rate)
    hot, low = kind.hold_temperature, kind.hold_temperature - drop
    return Segment(
        name=f"trip:{kind.name}",
        time=(0.0, t1, t2, t3),
        fluid_temperature=(hot, low, low, hot),
        pressure=(kind.hold_pressure, trips.pressure, trips.pressure, kind.hold_pressure),
        settle=settle,
    )


def dip_segment(kind: Any, lf: Any, *, settle: float = 5400.0) -> Segment:
    """Return a load-following dip in the kind's hold: down, ``lf.low`` there, back.

    Parameters
    ----------
    kind : twin.plan.StartupKind
    lf : scenarios.spec.LoadFollowing
    settle : float, optional
    """
    drop = _positive("load_following.drop", lf.drop)
    t1 = drop / _positive("load_following.rate", lf.rate)
    t2 = t1 + _positive("load_following.low", lf.low)
    t3 = t2 + t1
    hot, low = kind.hold_temperature, kind.hold_temperature - drop
    return Segment(
        name=f"dip:{kind.name}",
        time=(0.0, t1, t2, t3),
        fluid_temperature=(hot, low, low, hot),
        pressure=(kind.hold_pressure, lf.pressure, lf.pressure, kind.hold_pressure),
        settle=settle,
    )


@dataclass(frozen=True)
class SegmentTruth:
    """The FEM truth of one segment at one (h, w).

    Attributes
    ----------
    time : numpy.ndarray, shape (n,)
        s from the segment start (the FEM steps; the last is ``segment.duration``).
    values : dict of str to numpy.ndarray, shape (n,)
        ``"<var>@<location>"`` for var in :data:`VARIABLES` and every FEM location, plus
        ``"fluid_temperature"`` (K) and ``"pressure"`` (Pa).
    """

    time: F64
    values: dict[str, F64]


@dataclass(frozen=True)
class _Node:
    segment: Segment
    k: int
    j: int


def _run_node(raw: dict[str, Any]) -> dict[str, Any]:
    """One FEM node run (module level, so that Dask workers can call it)."""
    import dolfinx_solver  # noqa: F401  (must precede dolfinx)

    from models.config import parse_config
    from models.service import solve

    t0 = _time.perf_counter()
    ds = solve(parse_config(raw), fields=False)
    locs = [str(x) for x in ds["location"].values]
    out: dict[str, Any] = {
        "time": np.asarray(ds["time"].values, dtype=np.float64),
        "locations": locs,
        "fluid_temperature": np.asarray(ds["fluid_temperature"].values, dtype=np.float64),
        "pressure": np.asarray(ds["pressure"].values, dtype=np.float64),
    }
    for v in VARIABLES:
        out[v] = np.asarray(ds[v].transpose("time", "location").values, dtype=np.float64)
    out["seconds"] = _time.perf_counter() - t0
    return out


class SegmentLibrary:
    """FEM truth of segments on a (log h, w) grid, cached on disk and in memory.

    Parameters
    ----------
    config : models.config.ComponentConfig
        The component (geometry, mesh, material, sensors, thermal boundary).
    cache : path
        Folder of the cached node runs (created if missing).
    time_step_s : float, optional
        Uniform FEM time step, s.
    h_ratio : float, optional
        Ratio of consecutive heat-transfer-coefficient nodes (> 1).
    wall_step_m : float, optional
        Spacing of the wall-thickness nodes, m.
    """

    def __init__(
        self,
        config: Any,
        cache: str | pathlib.Path,
        *,
        time_step_s: float = 60.0,
        h_ratio: float = 1.25,
        wall_step_m: float = 0.002,
    ) -> None:
        self.config = config
        self.cache = pathlib.Path(cache)
        self.time_step = _positive("time_step_s", time_step_s)
        self.h_ratio = _positive("h_ratio", h_ratio)
        if self.h_ratio <= 1.0:
            raise ScenarioInputError(f"h_ratio: must be > 1; got {h_ratio!r}.")
        self.wall_step = _positive("wall_step_m", wall_step_m)
        self._memo: dict[str, dict[str, Any]] = {}
        self.runs = 0
        self.hits = 0
        self.seconds = 0.0

    # ------------------------------------------------------------ grid
    def h_node(self, k: int) -> float:
        """Heat-transfer coefficient of node ``k``, W m-2 K-1."""
        return H_REFERENCE * self.h_ratio**k

    def w_node(self, j: int) -> float:
        """Wall thickness of node ``j``, m."""
        return j * self.wall_step

    def _brackets(self, h: float, w: float) -> list[tuple[int, int, float]]:
        """Nodes ``(k, j, weight)`` of the bilinear interpolation at (h, w)."""
        hv = _positive("h", h)
        wv = _positive("w", w)
        x = math.log(hv / H_REFERENCE) / math.log(self.h_ratio)
        y = wv / self.wall_step

        def split(z: float) -> list[tuple[int, float]]:
            r = round(z)
            if abs(z - r) <= _ON_NODE * max(1.0, abs(z)):
                return [(int(r), 1.0)]
            lo = math.floor(z)
            a = z - lo
            return [(lo, 1.0 - a), (lo + 1, a)]

        ys = split(y)
        if ys[0][0] < 1:
            raise ScenarioInputError(
                f"w: {w!r} m lies below the first wall node {self.wall_step} m; use a "
                "smaller wall_step_m."
            )
        return [(k, j, a * b) for k, a in split(x) for j, b in ys]

    # ------------------------------------------------------------ runs
    def _raw(self, segment: Segment, k: int, j: int) -> dict[str, Any]:
        raw: dict[str, Any] = dict(self.config.to_dict())
        loads = segment.loads()
        raw["loads"] = {key: loads[key] for key in loads}
        raw["thermal"]["bore_htc_W_m2K"] = self.h_node(k)
        raw["thermal"]["initial_temperature_degC"] = segment.fluid_temperature[0] - ZERO_CELSIUS
        geo = raw["geometry"]
        geo.pop("outer_radius_m", None)
        geo["wall_thickness_m"] = self.w_node(j)
        sol = raw.setdefault("solver", {})
        sol.pop("max_time_step_s", None)
        sol.pop("max_temperature_change_K", None)
        sol["time_step_s"] = self.time_step
        sol["analysis"] = "transient"
        raw["output"] = {"field_times_h": [loads["time_h"][-1]]}
        return raw

    def key(self, segment: Segment, k: int, j: int) -> str:
        """Cache key of one node run (SHA-256, 24 hex digits)."""
        raw = self._raw(segment, k, j)
        doc = {
            "config": {s: raw.get(s) for s in sorted(raw) if s not in ("surrogate", "twin")},
            "segment": segment.to_dict(),
            "version": _VERSION,
        }
        text = json.dumps(doc, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    def _path(self, key: str) -> pathlib.Path:
        return self.cache / f"segment-{key}.nc"

    def _load(self, key: str) -> dict[str, Any] | None:
        memo = self._memo.get(key)
        if memo is not None:
            return memo
        path = self._path(key)
        if not path.exists():
            return None
        import xarray as xr

        with xr.open_dataset(path) as ds:
            ds.load()
            node = {
                "time": np.asarray(ds["time"].values, dtype=np.float64),
                "locations": [str(x) for x in ds["location"].values],
                "fluid_temperature": np.asarray(ds["fluid_temperature"].values, np.float64),
                "pressure": np.asarray(ds["pressure"].values, np.float64),
            }
            for v in VARIABLES:
                node[v] = np.asarray(ds[v].values, dtype=np.float64)
        self._memo[key] = node
        return node

    def _store(self, key: str, node: dict[str, Any]) -> None:
        import xarray as xr

        coords = {"time": node["time"], "location": list(node["locations"])}
        data: dict[str, tuple[tuple[str, ...], Any]] = {
            v: (("time", "location"), node[v]) for v in VARIABLES
        }
        data["fluid_temperature"] = (("time",), node["fluid_temperature"])
        data["pressure"] = (("time",), node["pressure"])
        ds = xr.Dataset(data, coords=coords, attrs={"version": _VERSION})
        self.cache.mkdir(parents=True, exist_ok=True)
        path = self._path(key)
        tmp = path.with_suffix(".tmp")
        ds.to_netcdf(tmp)
        tmp.replace(path)
        self._memo[key] = {k: node[k] for k in ("time", "locations", "fluid_temperature",
                                                 "pressure", *VARIABLES)}  # fmt: skip

    def _node(self, segment: Segment, k: int, j: int) -> dict[str, Any]:
        key = self.key(segment, k, j)
        known = key in self._memo
        node = self._load(key)
        if node is not None and not known:
            self.hits += 1
        if node is None:
            res = _run_node(self._raw(segment, k, j))
            self.runs += 1
            self.seconds += float(res["seconds"])
            self._store(key, res)
            node = self._memo[key]
        return node

    def prepare(
        self,
        needs: Iterable[tuple[Segment, float, float]],
        *,
        client: Any = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> dict[str, float]:
        """Run (or find cached) every node that the ``(segment, h, w)`` triples need.

        Parameters
        ----------
        needs : iterable of (Segment, float, float)
            Segments with the heat-transfer coefficient (W m-2 K-1) and wall (m) at
            which :meth:`history` will be asked.
        client : dask.distributed.Client, optional
            Run the FEM on its workers (``client.map``); the results come back as arrays
            and are cached here. ``None``: run in this process.
        progress : callable, optional
            ``progress(done, total)`` after each node.

        Returns
        -------
        dict
            ``{"runs": nodes computed, "cached": nodes found, "seconds": wall time}``.
        """
        start = _time.perf_counter()
        todo: dict[str, tuple[Segment, int, int]] = {}
        cached = 0
        seen: set[str] = set()
        for seg, h, w in needs:
            if not isinstance(seg, Segment):
                raise ScenarioInputError(
                    f"needs: each item must be (Segment, h, w); got {type(seg).__name__}."
                )
            for k, j, _ in self._brackets(h, w):
                key = self.key(seg, k, j)
                if key in seen:
                    continue
                seen.add(key)
                if self._load(key) is not None:
                    cached += 1
                else:
                    todo[key] = (seg, k, j)
        total, done = len(todo), 0
        keys = list(todo)
        raws = [self._raw(*todo[key]) for key in keys]
        if client is not None and keys:
            from dask.distributed import as_completed

            futures = client.map(_run_node, raws, key=[f"segment-{key}" for key in keys])
            index = {f.key: key for f, key in zip(futures, keys, strict=True)}
            for fut in as_completed(futures):  # type: ignore[no-untyped-call]
                res = fut.result()
                self._store(index[fut.key], res)
                self.seconds += float(res["seconds"])
                done += 1
                if progress is not None:
                    progress(done, total)
        else:
            for key, raw in zip(keys, raws, strict=True):
                res = _run_node(raw)
                self._store(key, res)
                self.seconds += float(res["seconds"])
                done += 1
                if progress is not None:
                    progress(done, total)
        self.runs += total
        self.hits += cached
        return {"runs": total, "cached": cached, "seconds": _time.perf_counter() - start}

    def history(self, segment: Segment, *, h: float, w: float) -> SegmentTruth:
        r"""Return the truth of ``segment`` at heat-transfer coefficient ``h`` and wall ``w``.

        Bilinear in :math:`(\ln h, w)` between the (up to) four surrounding nodes, which
        run now unless cached; exactly the node's run when (h, w) is a node.

        Raises
        ------
        ScenarioInputError
            If ``h`` or ``w`` is not finite and > 0, or ``w`` lies below the first node.
        """
        if not isinstance(segment, Segment):
            raise ScenarioInputError(f"segment: must be a Segment; got {type(segment).__name__}.")
        parts = self._brackets(h, w)
        nodes = [(self._node(segment, k, j), a) for k, j, a in parts]
        first = nodes[0][0]
        t = first["time"]
        for node, _ in nodes[1:]:
            if node["time"].shape != t.shape or not np.allclose(node["time"], t, rtol=0, atol=1e-6):
                raise ScenarioInputError(
                    f"segment {segment.name!r}: the node runs have different time grids; "
                    "clear the cache folder and run again."
                )
        values: dict[str, F64] = {}
        for v in VARIABLES:
            acc = sum(a * node[v] for node, a in nodes)
            for i, loc in enumerate(first["locations"]):
                values[f"{v}@{loc}"] = np.array(acc[:, i], dtype=np.float64)
        values["fluid_temperature"] = first["fluid_temperature"].copy()
        values["pressure"] = first["pressure"].copy()
        return SegmentTruth(time=t.copy(), values=values)

    def stats(self) -> dict[str, Any]:
        """Return ``{"runs", "cached", "seconds", "cache"}`` of this library so far."""
        return {"runs": self.runs, "cached": self.hits, "seconds": self.seconds,
                "cache": str(self.cache)}  # fmt: skip
