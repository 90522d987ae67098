"""Alerts with stable ids and ISA-18.2 states, as a deterministic state machine.

An *alert condition* is a key such as ``damage/bore.creep`` or ``sensor_fault/TC-outer-01``
that is either active or not after each step of the twin. :class:`AlertBook` turns the
conditions into alerts (ANSI/ISA-18.2-2016, section 11, the alarm state transition
diagram, without shelving and suppression)::

    normal --condition--> active --ack--> acknowledged --clears--> closed (normal)
                            |  ^                                       ^
                         clears| returns                               |
                            v  |                                       |
                          cleared (returned to normal, unacknowledged) --ack--

Each occurrence of a condition gets a new id ``{site}/{component}/{kind}/{subject}#{n}``
(``n`` counts that key's occurrences), and each transition increments the alert's
``revision``. The book is a pure function of the sequence of condition updates and
acknowledgements it is given, and its :meth:`state_dict` goes into the service's
checkpoint, so after a restart and replay every alert has the id, revision and payload
it had before: a re-sent alert is the same message, never a new alert.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from twin.contract import SCHEMA_VERSION
from twin.errors import TwinConfigError, TwinInputError

__all__ = ["AlertBook", "AlertSettings", "Condition", "parse_alert_settings"]

_SEVERITY = {
    "damage": "high",
    "envelope_margin": "high",
    "remaining_life": "high",
    "filter_divergence": "medium",
    "sensor_fault": "medium",
    "surrogate_range": "medium",
    "stale_input": "low",
    "stale_stream": "medium",
}


@dataclasses.dataclass(frozen=True, slots=True)
class AlertSettings:
    """Thresholds of the alert conditions (config section ``[service.alerts]``).

    Attributes
    ----------
    damage : float
        Fatigue or creep damage (P95 of the posterior, Miner/Robinson fraction) at or
        above which a ``damage`` alert is raised.
    envelope_margin : float
        Creep-fatigue envelope margin (P05) at or below which an alert is raised.
    remaining_life_p05_years : float
        Forecast P05 remaining life below which a ``remaining_life`` alert is raised, years.
    surrogate_out_of_range : float
        Weighted fraction of particles outside the surrogate's trained range above which
        a ``surrogate_range`` alert is raised.
    stale_after_s : float
        A sensor silent for this long of plant time while others report is ``stale_input``;
        no reading at all for this long of wall time (live) is ``stale_stream``, s.
    """

    damage: float = 0.5
    envelope_margin: float = 0.1
    remaining_life_p05_years: float = 5.0
    surrogate_out_of_range: float = 0.05
    stale_after_s: float = 600.0


def parse_alert_settings(section: Mapping[str, Any] | None) -> AlertSettings:
    """Read ``[service.alerts]``; every key is optional.

    Raises
    ------
    TwinConfigError
        On an unknown key or a value that is not a positive number.
    """
    section = dict(section or {})
    known = {f.name for f in dataclasses.fields(AlertSettings)}
    unknown = sorted(set(section) - known)
    if unknown:
        raise TwinConfigError(
            f"service.alerts: unknown keys {unknown}; known keys are {sorted(known)}"
        )
    values: dict[str, float] = {}
    for key, raw in section.items():
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not raw >= 0:
            raise TwinConfigError(f"service.alerts.{key}: must be a number >= 0, got {raw!r}")
        values[key] = float(raw)
    return AlertSettings(**values)


@dataclasses.dataclass(frozen=True, slots=True)
class Condition:
    """One alert condition after a step.

    Attributes
    ----------
    kind, subject : str
        What is alarmed (``kind`` of :data:`twin.contract.ALERT_SCHEMA`) and where.
    active : bool
        Whether the condition holds.
    value, threshold : float or None
        The measured value and its limit.
    message : str
        Text for operators.
    """

    kind: str
    subject: str
    active: bool
    value: float | None = None
    threshold: float | None = None
    message: str = ""

    @property
    def key(self) -> str:
        """``{kind}/{subject}``."""
        return f"{self.kind}/{self.subject}"


class AlertBook:
    """Open alerts of one component and the transitions they go through.

    Parameters
    ----------
    site, component : str
        Used in the ids.
    """

    def __init__(self, site: str, component: str) -> None:
        self.site = site
        self.component = component
        self.open: dict[str, dict[str, Any]] = {}  # key -> last message of the alert
        self.occurrences: dict[str, int] = {}
        self.transitions = 0

    # ------------------------------------------------------------ transitions
    def _message(self, cond: Condition, n: int, time: float | None, offset: int) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "id": f"{self.site}/{self.component}/{cond.key}#{n}",
            "revision": 1,
            "site": self.site,
            "component": self.component,
            "kind": cond.kind,
            "subject": cond.subject,
            "state": "active",
            "severity": _SEVERITY.get(cond.kind, "medium"),
            "raised_time": time,
            "time": time,
            "archive_offset": offset,
            "value": cond.value,
            "threshold": cond.threshold,
            "acknowledged_by": None,
            "message": cond.message,
        }

    def _step(
        self, key: str, state: str, time: float | None, offset: int, **changes: Any
    ) -> dict[str, Any]:
        msg = dict(self.open[key])
        msg.update(changes, state=state, time=time, archive_offset=offset)
        msg["revision"] += 1
        self.transitions += 1
        if state == "closed":
            del self.open[key]
        else:
            self.open[key] = msg
        return msg

    def update(
        self, conditions: list[Condition], *, time: float | None, offset: int
    ) -> list[dict[str, Any]]:
        """Apply the conditions of one step; return the alert messages of its transitions.

        Conditions not listed keep their alerts as they are.

        Parameters
        ----------
        conditions : list of Condition
            The evaluated conditions (sorted by key for a stable message order).
        time : float or None
            Plant time of the step, epoch s.
        offset : int
            Archive offset of the step.

        Returns
        -------
        list of dict
            Messages following :data:`twin.contract.ALERT_SCHEMA`.
        """
        out: list[dict[str, Any]] = []
        for cond in sorted(conditions, key=lambda c: c.key):
            key = cond.key
            alert = self.open.get(key)
            if cond.active:
                if alert is None:
                    n = self.occurrences.get(key, 0) + 1
                    self.occurrences[key] = n
                    self.open[key] = msg = self._message(cond, n, time, offset)
                    self.transitions += 1
                    out.append(msg)
                elif alert["state"] == "cleared":  # returns before acknowledgement
                    out.append(self._step(key, "active", time, offset, value=cond.value))
            elif alert is not None:
                if alert["state"] == "active":
                    out.append(self._step(key, "cleared", time, offset, value=cond.value))
                elif alert["state"] == "acknowledged":
                    out.append(self._step(key, "closed", time, offset, value=cond.value))
        return out

    def find(self, alert_id: str) -> str | None:
        """Return the condition key of the open alert ``alert_id``, or None."""
        for key, msg in self.open.items():
            if msg["id"] == alert_id:
                return key
        return None

    def acknowledge(
        self, alert_id: str, *, by: str, time: float | None, offset: int
    ) -> list[dict[str, Any]]:
        """Acknowledge an open alert; return its transition (none if already acknowledged).

        Raises
        ------
        KeyError
            If no open alert has this id.
        """
        key = self.find(alert_id)
        if key is None:
            raise TwinInputError(f"alert_id: no open alert has the id {alert_id!r}")
        state = self.open[key]["state"]
        if state == "active":
            return [self._step(key, "acknowledged", time, offset, acknowledged_by=by)]
        if state == "cleared":
            return [self._step(key, "closed", time, offset, acknowledged_by=by)]
        return []

    def messages(self) -> list[dict[str, Any]]:
        """Return the latest message of every open alert (what a restart re-sends)."""
        return [self.open[k] for k in sorted(self.open)]

    # ------------------------------------------------------------ persistence
    def state_dict(self) -> dict[str, Any]:
        """JSON-able state (goes into the service checkpoint)."""
        return {
            "open": {k: dict(v) for k, v in sorted(self.open.items())},
            "occurrences": dict(sorted(self.occurrences.items())),
            "transitions": self.transitions,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        self.open = {str(k): dict(v) for k, v in state["open"].items()}
        self.occurrences = {str(k): int(v) for k, v in state["occurrences"].items()}
        self.transitions = int(state["transitions"])
