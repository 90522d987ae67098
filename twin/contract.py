"""The twin service's MQTT contract: topics, message versions and a JSON Schema per message.

This module is the one source of the contract; ``docs/mqtt.md`` prints the same schemas
(a test checks they agree). Every message carries ``schema_version``. Topics of one
component, under a root (``twin`` live, ``replay/twin`` for a replay)::

    {root}/{site}/{component}/state      retained, QoS 1   the twin's state
    {root}/{site}/{component}/forecast   retained, QoS 1   the latest forecast
    {root}/{site}/{component}/alert      QoS 1             alert transitions (ISA-18.2)
    {root}/{site}/{component}/status     retained, QoS 1   online / offline (Last Will)
    {root}/{site}/{component}/cmd/{name} QoS 1, inbound    commands (MQTT 5 request/response)
    {root}/_reply/...                    QoS 1             command responses

A command's response goes to its MQTT 5 *response topic* with its *correlation data*
echoed; both may instead be given as ``response_topic`` and ``correlation_id`` in the
payload (MQTT 3.1.1 clients). Response topics must lie under ``{root}/_reply/`` so that a
broker ACL can let the service write ``twin/#`` only.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from twin.errors import TwinConfigError

__all__ = [
    "ALERT_SCHEMA",
    "ALERT_STATES",
    "COMMANDS",
    "COMMAND_SCHEMAS",
    "FORECAST_RESULT_SCHEMA",
    "FORECAST_SCHEMA",
    "LIVE_ROOT",
    "MAX_COMMAND_BYTES",
    "REFUSALS",
    "REPLAY_ROOT",
    "RESPONSE_SCHEMA",
    "SCHEMAS",
    "SCHEMA_VERSION",
    "STATE_SCHEMA",
    "STATUS_SCHEMA",
    "Topics",
]

#: Version of every message of this contract (state, forecast, alert, status, commands).
SCHEMA_VERSION = 1
LIVE_ROOT = "twin"
REPLAY_ROOT = "replay/twin"
#: Largest command payload accepted, bytes (``twin serve --max-command-bytes``).
MAX_COMMAND_BYTES = 65_536

COMMANDS = ("forecast_now", "set_duty_plan", "checkpoint_now", "republish_state", "ack_alert")
#: ISA-18.2 alarm states as published: ``active`` (unacknowledged), ``acknowledged``
#: (active, acknowledged), ``cleared`` (returned to normal, unacknowledged), ``closed``
#: (returned to normal and acknowledged: the alert is over).
ALERT_STATES = ("active", "acknowledged", "cleared", "closed")
#: Refusal reason codes of command responses (each counted per component).
REFUSALS = (
    "unknown_command",
    "oversized",
    "malformed_json",
    "invalid_field",
    "bad_response_topic",
    "wrong_component",
    "stale_version",
    "unknown_alert",
    "no_forecaster",
    "busy",
    "failed",
)

_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclasses.dataclass(frozen=True, slots=True)
class Topics:
    """The topics of one component.

    Parameters
    ----------
    site, component : str
        As in the component config (letters, digits, ``_.-``).
    root : str, optional
        ``"twin"`` live, ``"replay/twin"`` for a replay.
    """

    site: str
    component: str
    root: str = LIVE_ROOT

    def __post_init__(self) -> None:
        for field in ("site", "component"):
            value = getattr(self, field)
            if not _NAME.match(value):
                raise TwinConfigError(f"{field}: must match {_NAME.pattern}, got {value!r}")

    @property
    def base(self) -> str:
        """``{root}/{site}/{component}``."""
        return f"{self.root}/{self.site}/{self.component}"

    @property
    def state(self) -> str:
        """Retained state topic."""
        return f"{self.base}/state"

    @property
    def forecast(self) -> str:
        """Retained forecast topic."""
        return f"{self.base}/forecast"

    @property
    def alert(self) -> str:
        """Alert topic (QoS 1, not retained)."""
        return f"{self.base}/alert"

    @property
    def status(self) -> str:
        """Retained status topic (online/offline, the Last Will)."""
        return f"{self.base}/status"

    def command(self, name: str) -> str:
        """Topic of command ``name``."""
        return f"{self.base}/cmd/{name}"

    @property
    def command_filter(self) -> str:
        """Subscription filter of this component's commands."""
        return f"{self.base}/cmd/+"

    @property
    def reply_prefix(self) -> str:
        """Response topics must start with this."""
        return f"{self.root}/_reply/"

    def command_name(self, topic: str) -> str | None:
        """Return the command named by ``topic``, or None if it is not this component's."""
        head = f"{self.base}/cmd/"
        if not topic.startswith(head):
            return None
        name = topic[len(head) :]
        return name if name and "/" not in name else None


# ------------------------------------------------------------------ schema pieces
_VERSION = {"const": SCHEMA_VERSION}
_NUM = {"type": "number"}
_NUM_OR_NULL = {"type": ["number", "null"]}
_QUANT = {
    "type": "object",
    "required": ["mean", "p05", "p50", "p95"],
    "properties": {"mean": _NUM_OR_NULL, "p05": _NUM_OR_NULL, "p50": _NUM_OR_NULL,
                   "p95": _NUM_OR_NULL},
}
_PARAM = {
    "type": "object",
    "required": ["mean", "std", "p05", "p50", "p95", "unit", "identifiability", "learned"],
    "properties": {
        "mean": _NUM,
        "std": _NUM,
        "p05": _NUM,
        "p50": _NUM,
        "p95": _NUM,
        "unit": {"type": "string"},
        "prior_std": _NUM,
        "identifiability": {"type": "string"},
        "learned": {"type": "boolean"},
    },
}
_SENSOR_HEALTH = {
    "type": "object",
    "required": ["status"],
    "properties": {"status": {"enum": ["ok", "suspect", "faulty"]}, "stale": {"type": "boolean"}},
}
_IDENT = {"type": "string", "pattern": _NAME.pattern}

STATE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "twin state",
    "description": "Topic {root}/{site}/{component}/state, retained, QoS 1. SI units unless a "
    "key names its unit. Newer states have a higher archive_offset.",
    "type": "object",
    "required": [
        "schema_version", "site", "component", "time", "sequence", "archive_offset",
        "readings", "assimilated", "late_readings", "model", "parameters", "damage",
        "wall_thickness_m", "filter", "sensors", "alerts", "service",
    ],
    "properties": {
        "schema_version": _VERSION,
        "site": _IDENT,
        "component": _IDENT,
        "time": {"type": ["number", "null"], "description": "plant time of the newest "
                 "assimilated reading, epoch s (null before the first block)"},
        "sequence": {"type": "integer", "minimum": 0,
                     "description": "blocks of plant time assimilated (monotonic)"},
        "archive_offset": {"type": "integer", "minimum": 0,
                           "description": "archive readings the state covers"},
        "readings": {"type": "integer", "minimum": 0},
        "assimilated": {"type": "integer", "minimum": 0},
        "late_readings": {"type": "integer", "minimum": 0},
        "bad_readings": {"type": "integer", "minimum": 0},
        "model": {
            "type": "object",
            "required": ["package_version", "config_hash", "surrogate_hash", "state_version"],
            "properties": {
                "package_version": {"type": "string"},
                "config_hash": {"type": "string"},
                "surrogate_hash": {"type": ["string", "null"]},
                "state_version": {"type": "integer"},
            },
        },
        "parameters": {"type": "object", "additionalProperties": _PARAM},
        "damage": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["fatigue", "creep", "envelope_margin"],
                "properties": {"fatigue": _QUANT, "creep": _QUANT, "envelope_margin": _QUANT},
            },
        },
        "wall_thickness_m": _QUANT,
        "filter": {
            "type": "object",
            "required": ["particles", "ess", "ess_min", "divergence", "surrogate_out_of_range"],
            "properties": {
                "particles": {"type": "integer"},
                "ess": _NUM,
                "ess_min": _NUM,
                "resamplings": {"type": "integer"},
                "normalised_innovation_sq": {"type": "object",
                                             "additionalProperties": _NUM_OR_NULL},
                "divergence": {"type": "boolean"},
                "surrogate_out_of_range": _NUM,
            },
        },
        "sensors": {"type": "object", "additionalProperties": _SENSOR_HEALTH},
        "alerts": {"type": "array", "items": {"type": "string"},
                   "description": "ids of the open alerts"},
        "duty_plan_version": {"type": "integer", "minimum": 0},
        "service": {
            "type": "object",
            "description": "counters of this process (not part of the deterministic state)",
            "properties": {
                "commands": {"type": "object", "additionalProperties": {"type": "integer"}},
                "refusals": {"type": "object", "additionalProperties": {"type": "integer"}},
                "published_at": _NUM,
            },
        },
    },
}

#: What a forecaster returns (see :data:`twin.service.Forecaster`); extra keys are kept.
FORECAST_RESULT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["remaining_life_years", "probability_of_failure", "mechanism"],
    "properties": {
        "remaining_life_years": {
            "type": "object",
            "required": ["p05", "p50", "p95"],
            "properties": {"p05": _NUM, "p50": _NUM, "p95": _NUM},
        },
        "probability_of_failure": {
            "type": "object",
            "required": ["time_years", "probability"],
            "properties": {
                "time_years": {"type": "array", "items": _NUM},
                "probability": {"type": "array",
                                "items": {"type": "number", "minimum": 0, "maximum": 1}},
            },
        },
        "mechanism": {"type": "string",
                      "description": "the life-limiting mechanism (e.g. creep, fatigue)"},
    },
}

FORECAST_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "twin forecast",
    "description": "Topic {root}/{site}/{component}/forecast, retained, QoS 1.",
    "type": "object",
    "required": [
        "schema_version", "site", "component", "time", "archive_offset", "duty_plan_version",
        "trigger", "result",
    ],
    "properties": {
        "schema_version": _VERSION,
        "site": _IDENT,
        "component": _IDENT,
        "time": {**_NUM_OR_NULL, "description": "plant time of the twin state forecast from"},
        "archive_offset": {"type": "integer", "minimum": 0},
        "duty_plan_version": {"type": "integer", "minimum": 0,
                              "description": "0: no duty plan set (the forecaster's default)"},
        "trigger": {"enum": ["schedule", "command"]},
        "computed_at": {**_NUM, "description": "wall time, epoch s"},
        "result": FORECAST_RESULT_SCHEMA,
    },
}

ALERT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "twin alert transition",
    "description": "Topic {root}/{site}/{component}/alert, QoS 1, not retained. One message "
    "per transition; (id, revision) identifies it: a message re-sent after a restart is "
    "identical, so consumers de-duplicate on (id, revision).",
    "type": "object",
    "required": [
        "schema_version", "id", "revision", "site", "component", "kind", "subject", "state",
        "severity", "raised_time", "time", "archive_offset", "message",
    ],
    "properties": {
        "schema_version": _VERSION,
        "id": {"type": "string", "description": "{site}/{component}/{kind}/{subject}#{n}"},
        "revision": {"type": "integer", "minimum": 1},
        "site": _IDENT,
        "component": _IDENT,
        "kind": {"enum": ["damage", "envelope_margin", "remaining_life", "filter_divergence",
                          "sensor_fault", "surrogate_range", "stale_input", "stale_stream"]},
        "subject": {"type": "string"},
        "state": {"enum": list(ALERT_STATES)},
        "severity": {"enum": ["high", "medium", "low"]},
        "raised_time": {**_NUM_OR_NULL, "description": "plant time the alert was raised"},
        "time": {**_NUM_OR_NULL, "description": "plant time of this transition"},
        "archive_offset": {"type": "integer", "minimum": 0},
        "value": _NUM_OR_NULL,
        "threshold": _NUM_OR_NULL,
        "acknowledged_by": {"type": ["string", "null"]},
        "message": {"type": "string"},
    },
}

STATUS_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "twin service status",
    "description": "Topic {root}/{site}/{component}/status, retained, QoS 1; the offline "
    "message is also the connection's Last Will.",
    "type": "object",
    "required": ["schema_version", "site", "component", "status", "reason", "mode"],
    "properties": {
        "schema_version": _VERSION,
        "site": _IDENT,
        "component": _IDENT,
        "status": {"enum": ["online", "offline"]},
        "reason": {"enum": ["started", "reconnected", "shutdown", "connection_lost",
                            "replay_finished"]},
        "mode": {"enum": ["live", "replay"]},
        "since": {**_NUM, "description": "wall time, epoch s"},
        "connections": {"type": "integer", "minimum": 0},
        "pid": {"type": "integer"},
        "host": {"type": "string"},
        "package_version": {"type": "string"},
    },
}

_COMMON = {
    "correlation_id": {"type": "string", "maxLength": 256,
                       "description": "MQTT 3.1.1 only: echoed as the response's correlation"},
    "response_topic": {"type": "string", "maxLength": 512,
                       "description": "MQTT 3.1.1 only: where to respond"},
    "component": {**_IDENT, "description": "optional check: must name this component"},
}


def _command(title: str, props: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": title,
        "type": "object",
        "required": required,
        "properties": {**_COMMON, **props},
        "additionalProperties": False,
    }


COMMAND_SCHEMAS: dict[str, dict[str, Any]] = {
    "forecast_now": _command("forecast_now: run a forecast now; responds when it is published",
                             {}, []),
    "set_duty_plan": _command(
        "set_duty_plan: replace the duty plan the forecasts use",
        {
            "version": {"type": "integer", "minimum": 1,
                        "description": "must exceed the current version (else stale_version)"},
            "plan": {"type": "object", "description": "the duty plan (read by the forecaster)"},
        },
        ["version", "plan"],
    ),
    "checkpoint_now": _command("checkpoint_now: write a checkpoint now", {}, []),
    "republish_state": _command(
        "republish_state: publish state, forecast, status and every open alert again", {}, []
    ),
    "ack_alert": _command(
        "ack_alert: acknowledge an alert (ISA-18.2)",
        {"id": {"type": "string", "maxLength": 512}, "by": {"type": "string", "maxLength": 128}},
        ["id"],
    ),
}

RESPONSE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "command response",
    "description": "Published to the request's response topic with its correlation data.",
    "type": "object",
    "required": ["schema_version", "ok", "command"],
    "properties": {
        "schema_version": _VERSION,
        "ok": {"type": "boolean"},
        "command": {"type": "string"},
        "reason": {"enum": list(REFUSALS), "description": "why it was refused (ok false)"},
        "detail": {"type": "string"},
        "correlation_id": {"type": "string"},
    },
    "if": {"properties": {"ok": {"const": False}}},
    "then": {"required": ["reason", "detail"]},
}

#: Every schema by message name (the order of docs/mqtt.md).
SCHEMAS: dict[str, dict[str, Any]] = {
    "state": STATE_SCHEMA,
    "forecast": FORECAST_SCHEMA,
    "alert": ALERT_SCHEMA,
    "status": STATUS_SCHEMA,
    **{f"cmd/{name}": schema for name, schema in COMMAND_SCHEMAS.items()},
    "response": RESPONSE_SCHEMA,
}
