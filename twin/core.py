"""The service's deterministic core of one component: archive rows in, state and alerts out.

:class:`ComponentCore` wraps a :class:`~twin.state.Twin` and an
:class:`~twin.alerts.AlertBook`. It takes the component's archive rows in commit order
(any batching, from the ingester's durable hook or read back from the archive) and
*journal entries* (operator acknowledgements and conditions seen outside the archive,
each stamped with the archive offset at which it was applied). It has no clock, no
I/O and no randomness of its own, so its state after offset N and journal entry J is a
function of the config, the seed, the archive rows ``[0, N)`` and entries ``[1, J]``.

Alerts are evaluated at every point where the twin closes a block of plant time. Those
points depend only on the order of the rows, never on how they were batched: the core
cuts each batch at the rows where the twin's watermark (newest time minus the lateness)
passes a block boundary, feeds the pieces one by one and evaluates after each piece
that closed a block. A replay after a crash therefore re-creates every alert
transition with the same id, revision and payload.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from twin.alerts import AlertBook, AlertSettings, Condition
from twin.contract import SCHEMA_VERSION
from twin.errors import TwinInputError

__all__ = ["CORE_SCHEMA_VERSION", "ComponentCore", "GapError"]

CORE_SCHEMA_VERSION = 1


class GapError(TwinInputError):
    """Rows handed to the core start beyond its offset: the rows in between are missing."""

    def __init__(self, expected: int, got: int) -> None:
        super().__init__(
            f"rows: the core is at archive offset {expected}, the batch starts at {got}; "
            f"read rows [{expected}, {got}) from the archive first"
        )
        self.expected, self.got = expected, got


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("materials-twin")
    except PackageNotFoundError:
        return "unknown"


class ComponentCore:
    """Deterministic twin + alerts of one component (see the module docstring).

    Parameters
    ----------
    twin : twin.state.Twin
        The component twin (fresh or restored).
    alerts : AlertSettings
        Alert thresholds.
    """

    def __init__(self, twin: Any, *, alerts: AlertSettings) -> None:
        self.twin = twin
        self.alerts = alerts
        comp = twin.config.component
        self.site, self.component = str(comp.site), str(comp.name)
        self.book = AlertBook(self.site, self.component)
        self.journal_applied = 0
        self.pending: list[dict[str, Any]] = []  # journal entries beyond journal_applied
        self.last_time = {sid: -math.inf for sid in twin.sensor_ids}
        self._known = set(twin.sensor_ids)
        sur = twin.model.surrogate
        self._model = {
            "package_version": _package_version(),
            "config_hash": str(twin.config.config_hash),
            "surrogate_hash": getattr(getattr(sur, "surrogate", sur), "relevant_hash", None),
            "state_version": int(twin.state["schema_version"]),
        }

    @property
    def offset(self) -> int:
        """Archive rows the core has taken."""
        return int(self.twin.archive_offset)

    # ------------------------------------------------------------ rows
    def feed(self, rows: Any) -> list[dict[str, Any]]:
        """Take archive rows ``[rows.start, rows.stop)``; return the alert messages raised.

        Rows below :attr:`offset` are skipped (already taken); rows beyond it raise.

        Parameters
        ----------
        rows : sensors.reader.CommittedReadings or similar
            ``start``, ``stop``, ``sensor_ids``, ``sensor`` (indices), ``time``,
            ``value``, ``quality``, in commit order.

        Raises
        ------
        GapError
            If ``rows.start`` is beyond :attr:`offset`.
        """
        start, stop = int(rows.start), int(rows.stop)
        if start > self.offset:
            raise GapError(self.offset, start)
        if stop <= self.offset:
            return []
        skip = self.offset - start
        names = np.asarray(list(rows.sensor_ids), dtype=object)
        sensor = names[np.asarray(rows.sensor)[skip:]] if len(names) else np.zeros(0, object)
        t = np.asarray(rows.time, dtype=np.float64)[skip:]
        v = np.asarray(rows.value, dtype=np.float64)[skip:]
        q = np.asarray(rows.quality, dtype=np.int8)[skip:]
        known = np.fromiter((s in self._known for s in sensor), bool, sensor.size)
        base = self.offset
        cuts = set(self._closing_cuts(t[known], np.flatnonzero(known)))
        cuts.update(e["offset"] - base for e in self.pending if base < e["offset"] <= stop)
        cuts.add(stop - base)
        out: list[dict[str, Any]] = []
        a = 0
        for b in sorted(c for c in cuts if c > 0):
            out += self._piece(sensor[a:b], t[a:b], v[a:b], q[a:b], known[a:b], base + b)
            a = b
        return out

    def _closing_cuts(self, t: NDArray[np.float64], index: NDArray[np.intp]) -> list[int]:
        """Row positions (exclusive ends) after which the twin closes a block."""
        if t.size == 0:
            return []
        tw = self.twin
        B, L = tw.settings.block, tw.settings.lateness
        closed0 = tw.closed_until
        if not tw.started and closed0 == -math.inf:
            closed0 = math.floor((t[0] - L) / B) * B
        seen = np.maximum.accumulate(np.concatenate([[tw.max_seen], t]))[1:]
        closed = np.maximum(closed0, np.floor((seen - L) / B) * B)
        prev = np.concatenate([[closed0], closed[:-1]])
        return [int(index[i]) + 1 for i in np.flatnonzero(closed > prev)]

    def _piece(
        self,
        sensor: NDArray[Any],
        t: NDArray[np.float64],
        v: NDArray[np.float64],
        q: NDArray[np.int8],
        known: NDArray[np.bool_],
        end: int,
    ) -> list[dict[str, Any]]:
        summary = self.twin.update(
            {"time": t[known], "sensor": sensor[known], "value": v[known], "quality": q[known]},
            archive_offset=end,
        )
        for sid in np.unique(sensor[known]).tolist() if known.any() else []:
            m = sensor == sid
            self.last_time[sid] = max(self.last_time[sid], float(t[m].max()))
        out: list[dict[str, Any]] = []
        if summary.blocks and self.twin.started:
            out += self.book.update(self.conditions(), time=self._time(), offset=end)
        while self.pending and self.pending[0]["offset"] <= end:
            out += self.apply(self.pending.pop(0))
        return out

    def flush(self) -> list[dict[str, Any]]:
        """Close every open block (end of a replay); return the alert messages raised."""
        summary = self.twin.flush()
        if summary.blocks and self.twin.started:
            return self.book.update(self.conditions(), time=self._time(), offset=self.offset)
        return []

    def _time(self) -> float | None:
        t = float(self.twin.time)
        return None if math.isnan(t) else t

    # ------------------------------------------------------------ alerts
    def conditions(self) -> list[Condition]:
        """Evaluate the alert conditions of the twin's current state."""
        st = self.twin.state_view(parameters=False)
        a = self.alerts
        out: list[Condition] = []
        for loc, d in st["damage"].items():
            for mech in ("fatigue", "creep"):
                val = float(d[mech]["p95"])
                out.append(
                    Condition(
                        "damage",
                        f"{loc}.{mech}",
                        val >= a.damage,
                        val,
                        a.damage,
                        f"{mech} damage P95 at {loc} is {val:.3g} (limit {a.damage:g})",
                    )
                )
            m = float(d["envelope_margin"]["p05"])
            out.append(
                Condition(
                    "envelope_margin",
                    loc,
                    m <= a.envelope_margin,
                    m,
                    a.envelope_margin,
                    f"creep-fatigue envelope margin P05 at {loc} is {m:.3g} "
                    f"(limit {a.envelope_margin:g})",
                )
            )
        f = st["filter"]
        nis = [x for x in f["normalised_innovation_sq"].values() if x is not None]
        worst = max(nis) if nis else None
        out.append(
            Condition(
                "filter_divergence",
                "filter",
                bool(f["divergence"]),
                worst,
                9.0,
                "mean squared normalised innovation above 9: the model and the readings disagree",
            )
        )
        oor = float(f["surrogate_out_of_range"])
        out.append(
            Condition(
                "surrogate_range",
                "modes",
                oor > a.surrogate_out_of_range,
                oor,
                a.surrogate_out_of_range,
                f"{oor:.0%} of the posterior lies outside the surrogate's trained range",
            )
        )
        for sid, h in st["sensors"].items():
            out.append(
                Condition(
                    "sensor_fault",
                    sid,
                    h["status"] == "faulty",
                    None,
                    None,
                    f"sensor {sid} is faulty (stuck {h['stuck']}, flat-line "
                    f"{h['flatline']}, bias step {h['bias_step']})",
                )
            )
        newest = max(self.last_time.values())
        for sid, last in self.last_time.items():
            age = newest - last if math.isfinite(last) else None
            stale = age is not None and age > a.stale_after_s
            out.append(
                Condition(
                    "stale_input",
                    sid,
                    stale,
                    age,
                    a.stale_after_s,
                    f"no reading of {sid} for {age or 0:.0f} s of plant time",
                )
            )
        return out

    def apply(self, entry: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Apply one journal entry (acknowledgement or outside condition) at this offset.

        Parameters
        ----------
        entry : mapping
            ``{"n": int, "offset": int, "kind": "ack", "id": str, "by": str}`` or
            ``{"n": ..., "kind": "condition", "condition": {kind, subject, active, value,
            threshold, message}}``.
        """
        n = int(entry["n"])
        if n <= self.journal_applied:
            return []
        self.journal_applied = n
        if entry["kind"] == "ack":
            try:
                return self.book.acknowledge(
                    str(entry["id"]),
                    by=str(entry.get("by", "")),
                    time=self._time(),
                    offset=self.offset,
                )
            except TwinInputError:
                return []  # closed meanwhile: nothing to acknowledge
        if entry["kind"] == "condition":
            c = entry["condition"]
            cond = Condition(
                str(c["kind"]),
                str(c["subject"]),
                bool(c["active"]),
                c.get("value"),
                c.get("threshold"),
                str(c.get("message", "")),
            )
            return self.book.update([cond], time=self._time(), offset=self.offset)
        raise TwinInputError(f"journal: unknown entry kind {entry['kind']!r} (entry {n})")

    def set_pending(self, entries: Sequence[Mapping[str, Any]]) -> None:
        """Journal entries after :attr:`journal_applied`, to apply when their offset is reached."""
        self.pending = sorted(
            (dict(e) for e in entries if int(e["n"]) > self.journal_applied),
            key=lambda e: int(e["n"]),
        )
        while self.pending and self.pending[0]["offset"] <= self.offset:
            self.apply(self.pending.pop(0))

    # ------------------------------------------------------------ state
    def state_message(self) -> dict[str, Any]:
        """Build the state message of :data:`twin.contract.STATE_SCHEMA` (no ``service``)."""
        st = dict(self.twin.state)
        st.pop("schema_version", None)
        newest = max(self.last_time.values())
        sensors = {}
        for sid, h in st.pop("sensors").items():
            last = self.last_time.get(sid, -math.inf)
            stale = math.isfinite(newest) and newest - last > self.alerts.stale_after_s
            sensors[sid] = {**h, "stale": bool(stale)}
        return {
            "schema_version": SCHEMA_VERSION,
            "site": self.site,
            "component": self.component,
            "sequence": int(self.twin.blocks),
            "model": dict(self._model),
            **st,
            "sensors": sensors,
            "alerts": [m["id"] for m in self.book.messages()],
        }

    def state_dict(self) -> dict[str, Any]:
        """JSON-able state of the core beside the twin's checkpoint."""
        return {
            "schema_version": CORE_SCHEMA_VERSION,
            "archive_offset": self.offset,
            "journal_applied": self.journal_applied,
            "book": self.book.state_dict(),
            "last_time": {k: (v if math.isfinite(v) else None) for k, v in self.last_time.items()},
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict` (after the twin was restored from the same checkpoint)."""
        if int(state["schema_version"]) != CORE_SCHEMA_VERSION:
            raise TwinInputError(
                f"schema_version: the core state has version {state['schema_version']}, this "
                f"service reads {CORE_SCHEMA_VERSION}"
            )
        if int(state["archive_offset"]) != self.offset:
            raise TwinInputError(
                f"archive_offset: the core state covers {state['archive_offset']} rows, the "
                f"twin {self.offset}; the checkpoint is inconsistent"
            )
        self.journal_applied = int(state["journal_applied"])
        self.book.load_state_dict(state["book"])
        for k, v in state["last_time"].items():
            if k in self.last_time:
                self.last_time[k] = -math.inf if v is None else float(v)
