"""Command requests off the wire: size limit, JSON, schema, response address; never eval.

:func:`parse_request` turns one MQTT message on ``{root}/{site}/{component}/cmd/{name}``
into a :class:`Request` or a :class:`Refusal` (reason code of
:data:`twin.contract.REFUSALS` and a one-line detail). Payloads are parsed with
``orjson`` (JSON only: nothing is unpickled or evaluated) and checked against the
command's JSON Schema of :data:`twin.contract.COMMAND_SCHEMAS` by :func:`check`, which
implements the subset of JSON Schema those schemas use.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

import orjson

from twin.contract import COMMAND_SCHEMAS, SCHEMA_VERSION, Topics

_log = logging.getLogger("twin.service")

__all__ = ["CommandHandlers", "Refusal", "Request", "check", "parse_request", "response"]


@dataclasses.dataclass(frozen=True, slots=True)
class Request:
    """A command that passed the checks.

    Attributes
    ----------
    name : str
        Command name.
    body : dict
        The JSON object.
    response_topic : str or None
        Where to respond.
    correlation : bytes or None
        Correlation data to echo.
    """

    name: str
    body: dict[str, Any]
    response_topic: str | None
    correlation: bytes | None


@dataclasses.dataclass(frozen=True, slots=True)
class Refusal:
    """A refused command, with where to say so (if anywhere)."""

    name: str
    reason: str
    detail: str
    response_topic: str | None
    correlation: bytes | None


_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "object": (dict,),
    "array": (list,),
    "boolean": (bool,),
}


def check(schema: Mapping[str, Any], value: Any, where: str = "payload") -> str | None:
    """Check ``value`` against a JSON Schema (type, required, properties, enum, bounds).

    Returns
    -------
    str or None
        The first violation, naming the field, the rule and the value; None if valid.
    """
    kind = schema.get("type")
    if kind is not None:
        kinds = [kind] if isinstance(kind, str) else list(kind)
        ok = any(
            (k == "null" and value is None)
            or (k in _TYPES and isinstance(value, _TYPES[k])
                and not (k in ("integer", "number") and isinstance(value, bool)))
            for k in kinds
        )
        if not ok:
            return f"{where}: must be {' or '.join(kinds)}, got {value!r:.80}"
    if "const" in schema and value != schema["const"]:
        return f"{where}: must be {schema['const']!r}, got {value!r:.80}"
    if "enum" in schema and value not in schema["enum"]:
        return f"{where}: must be one of {schema['enum']}, got {value!r:.80}"
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            return f"{where}: must be >= {schema['minimum']}, got {value!r}"
        if "maximum" in schema and value > schema["maximum"]:
            return f"{where}: must be <= {schema['maximum']}, got {value!r}"
    if isinstance(value, str) and "maxLength" in schema and len(value) > schema["maxLength"]:
        return f"{where}: at most {schema['maxLength']} characters, got {len(value)}"
    if isinstance(value, dict):
        for key in schema.get("required", []):
            if key not in value:
                return f"{where}.{key}: required field is missing"
        props = schema.get("properties", {})
        for key, item in value.items():
            if key in props:
                err = check(props[key], item, f"{where}.{key}")
                if err:
                    return err
            elif schema.get("additionalProperties") is False:
                return f"{where}.{key}: unknown field; known fields are {sorted(props)}"
            elif isinstance(schema.get("additionalProperties"), dict):
                err = check(schema["additionalProperties"], item, f"{where}.{key}")
                if err:
                    return err
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            err = check(schema["items"], item, f"{where}[{i}]")
            if err:
                return err
    return None


def parse_request(
    topics: Topics,
    topic: str,
    payload: bytes,
    *,
    response_topic: str | None = None,
    correlation: bytes | None = None,
    max_bytes: int,
) -> Request | Refusal:
    """Check one command message.

    Parameters
    ----------
    topics : Topics
        The receiving component's topics.
    topic : str
        Topic the message arrived on.
    payload : bytes
        Its payload.
    response_topic, correlation : str or bytes or None, optional
        The MQTT 5 Response Topic and Correlation Data properties.
    max_bytes : int
        Largest payload accepted.

    Returns
    -------
    Request or Refusal
    """
    name = topics.command_name(topic) or topic.rsplit("/", 1)[-1]

    def refuse(reason: str, detail: str) -> Refusal:
        rt = response_topic if response_topic and response_topic.startswith(
            topics.reply_prefix) else None
        return Refusal(name, reason, detail, rt, correlation)

    if response_topic is not None and not response_topic.startswith(topics.reply_prefix):
        return Refusal(name, "bad_response_topic",
                       f"response topic {response_topic!r:.100} is not under "
                       f"{topics.reply_prefix!r}", None, correlation)
    if len(payload) > max_bytes:
        return refuse("oversized", f"payload of {len(payload)} bytes exceeds {max_bytes}")
    try:
        body = orjson.loads(payload) if payload.strip() else {}
    except orjson.JSONDecodeError as err:
        return refuse("malformed_json", f"payload is not JSON ({err})")
    if not isinstance(body, dict):
        return refuse("malformed_json", f"payload must be a JSON object, got {type(body).__name__}")
    if response_topic is None and isinstance(body.get("response_topic"), str):
        response_topic = body["response_topic"]
        if not response_topic.startswith(topics.reply_prefix):
            return Refusal(name, "bad_response_topic",
                           f"response topic {response_topic!r:.100} is not under "
                           f"{topics.reply_prefix!r}", None, correlation)
    if correlation is None and isinstance(body.get("correlation_id"), str):
        correlation = body["correlation_id"].encode()
    if topics.command_name(topic) is None or name not in COMMAND_SCHEMAS:
        return Refusal(name, "unknown_command",
                       f"unknown command {name!r:.60}; commands are {sorted(COMMAND_SCHEMAS)}",
                       response_topic, correlation)
    if "component" in body and body["component"] != topics.component:
        return Refusal(name, "wrong_component",
                       f"payload.component {body['component']!r:.60} is not {topics.component!r}",
                       response_topic, correlation)
    problem = check(COMMAND_SCHEMAS[name], body)
    if problem:
        return Refusal(name, "invalid_field", problem, response_topic, correlation)
    return Request(name, body, response_topic, correlation)


def response(name: str, correlation: bytes | None, *, ok: bool, **fields: Any) -> bytes:
    """Encode a response payload of :data:`twin.contract.RESPONSE_SCHEMA`."""
    doc: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "ok": ok, "command": name, **fields}
    if correlation is not None:
        doc["correlation_id"] = correlation.decode("utf-8", "replace")
    return orjson.dumps(doc, option=orjson.OPT_SERIALIZE_NUMPY)


class CommandHandlers:
    """The command handlers of :class:`twin.service.ComponentService` (a mixin).

    Each ``_cmd_{name}`` executes one checked :class:`Request` and responds; they run in
    the housekeeping thread and take the component's lock where they touch the core.
    """

    topics: Topics
    options: Any
    core: Any
    plan: Any
    lock: Any
    client: Any
    statedir: Any
    counters: Any
    refusals: Any
    dirty: bool
    journal_n: int

    # implemented by the service
    def checkpoint(self) -> Any:  # noqa: D102
        raise NotImplementedError

    def publish_state(self) -> None:  # noqa: D102
        raise NotImplementedError

    def request_forecast(self, trigger: str, request: Request | None) -> bool:  # noqa: D102
        raise NotImplementedError

    def _status(self, status: str, reason: str) -> bytes:
        raise NotImplementedError

    def _publish_alerts(self, events: list[dict[str, Any]]) -> None:
        raise NotImplementedError

    def _journal(self, entry: dict[str, Any]) -> list[dict[str, Any]]:
        raise NotImplementedError

    def handle(self, topic: str, payload: bytes, rt: str | None, corr: bytes | None) -> None:
        """Check and execute one command message (housekeeping thread)."""
        req = parse_request(self.topics, topic, payload, response_topic=rt, correlation=corr,
                            max_bytes=self.options.max_command_bytes)
        if isinstance(req, Refusal):
            self.refusals[req.reason] += 1
            _log.warning("%s: refused command %s: %s (%s)", self.topics.base, req.name,
                         req.reason, req.detail)
            if req.response_topic:
                self._send(req.response_topic, response(req.name, req.correlation, ok=False,
                                                       reason=req.reason, detail=req.detail),
                           req.correlation)
            return
        try:
            getattr(self, f"_cmd_{req.name}")(req)
        except Exception as exc:  # a command must never stop the service
            _log.exception("%s: command %s failed", self.topics.base, req.name)
            self._respond(req, ok=False, reason="failed", detail=f"{type(exc).__name__}: {exc}")

    def _send(self, topic: str, payload: bytes, corr: bytes | None) -> None:
        props = None
        if self.options.broker.protocol == "5":
            from paho.mqtt.packettypes import PacketTypes
            from paho.mqtt.properties import Properties

            props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            if corr is not None:
                props.CorrelationData = corr
        self.client.publish(topic, payload, qos=1, properties=props)

    def _respond(self, req: Request, *, ok: bool, **fields: Any) -> None:
        if ok:
            self.counters[req.name] += 1
        else:
            self.refusals[str(fields.get("reason"))] += 1
        if req.response_topic:
            self._send(req.response_topic, response(req.name, req.correlation, ok=ok, **fields),
                       req.correlation)

    def _cmd_forecast_now(self, req: Request) -> None:
        if self.options.forecaster is None:
            self._respond(req, ok=False, reason="no_forecaster",
                          detail="this service runs without a forecaster")
            return
        with self.lock:
            self.request_forecast("command", req)

    def _cmd_set_duty_plan(self, req: Request) -> None:
        version = int(req.body["version"])
        with self.lock:
            current = self.plan.version if self.plan else 0
            if version <= current:
                self._respond(req, ok=False, reason="stale_version", current_version=current,
                              detail=f"version {version} is not newer than the current "
                                     f"version {current}; send version {current + 1} or more")
                return
            doc = {"version": version, "plan": req.body["plan"]}
            if self.statedir is not None:
                self.statedir.write_plan(doc)
            from twin.service import DutyPlan

            self.plan = DutyPlan(version, dict(req.body["plan"]))
            self.dirty = True
        self._respond(req, ok=True, version=version)

    def _cmd_checkpoint_now(self, req: Request) -> None:
        if self.statedir is None:
            self._respond(req, ok=False, reason="failed", detail="a replay writes no checkpoints")
            return
        path = self.checkpoint()
        assert self.core is not None
        if path is None:
            self._respond(req, ok=False, reason="busy",
                          detail="alerts are not yet acknowledged by the broker; retry")
            return
        self._respond(req, ok=True, archive_offset=self.core.offset, checkpoint=path.name)

    def _cmd_republish_state(self, req: Request) -> None:
        assert self.core is not None
        with self.lock:
            self.client.publish(self.topics.status, self._status("online", "started"), qos=1,
                                retain=True)
            self._publish_alerts(self.core.book.messages())
            self.publish_state()
            seq = int(self.core.twin.blocks)
        self._respond(req, ok=True, sequence=seq)

    def _cmd_ack_alert(self, req: Request) -> None:
        assert self.core is not None
        alert_id = str(req.body["id"])
        with self.lock:
            if self.core.book.find(alert_id) is None:
                self._respond(req, ok=False, reason="unknown_alert",
                              detail=f"no open alert has id {alert_id!r:.200}")
                return
            entry = {"n": self.journal_n + 1, "offset": self.core.offset, "kind": "ack",
                     "id": alert_id, "by": str(req.body.get("by", ""))}
            self._journal(entry)
            key = self.core.book.find(alert_id)
            state = self.core.book.open[key]["state"] if key else "closed"
        self._respond(req, ok=True, id=alert_id, state=state)

