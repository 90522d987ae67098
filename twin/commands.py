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
from collections.abc import Mapping
from typing import Any

import orjson

from twin.contract import COMMAND_SCHEMAS, SCHEMA_VERSION, Topics

__all__ = ["Refusal", "Request", "check", "parse_request", "response"]


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
