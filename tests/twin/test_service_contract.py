"""The MQTT contract: schemas valid and printed in docs/mqtt.md, messages that follow them,
command checks that agree with a reference JSON Schema validator, ISA-18.2 alert states."""

from __future__ import annotations

import json
import pathlib

import jsonschema
import pytest

from twin.alerts import AlertBook, Condition, parse_alert_settings
from twin.commands import Refusal, Request, check, parse_request
from twin.contract import ALERT_SCHEMA, COMMAND_SCHEMAS, COMMANDS, SCHEMAS, Topics
from twin.errors import TwinConfigError, TwinInputError

DOCS = pathlib.Path(__file__).resolve().parents[2] / "docs" / "mqtt.md"


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_every_schema_is_a_valid_json_schema_and_printed_in_the_docs(name):
    schema = SCHEMAS[name]
    jsonschema.Draft202012Validator.check_schema(schema)
    assert json.dumps(schema, indent=2) in DOCS.read_text(), f"docs/mqtt.md lacks {name}"


def test_the_docs_name_every_topic_and_command():
    text = DOCS.read_text()
    for suffix in ("state", "forecast", "alert", "status", "cmd/{name}"):
        assert f"twin/{{site}}/{{component}}/{suffix}" in text
    for name in COMMANDS:
        assert f"`{name}`" in text
    assert "topic write twin/_reply/#" in text  # the ACL example


# payloads with the verdict of the reference validator (the jsonschema package)
CASES = [
    ("set_duty_plan", {"version": 2, "plan": {"cycles_per_year": 300}}),
    ("set_duty_plan", {"version": 0, "plan": {}}),
    ("set_duty_plan", {"version": "2", "plan": {}}),
    ("set_duty_plan", {"version": True, "plan": {}}),
    ("set_duty_plan", {"plan": {}}),
    ("set_duty_plan", {"version": 3, "plan": [1, 2]}),
    ("ack_alert", {"id": "a#1", "by": "op"}),
    ("ack_alert", {"id": 7}),
    ("ack_alert", {"id": "x" * 513}),
    ("ack_alert", {"id": "a#1", "extra": 1}),
    ("checkpoint_now", {}),
    ("checkpoint_now", {"correlation_id": "c"}),
    ("forecast_now", {"component": "header-a"}),
    ("republish_state", {"response_topic": 5}),
]


@pytest.mark.parametrize(("name", "body"), CASES)
def test_the_command_check_agrees_with_the_reference_validator(name, body):
    reference = jsonschema.Draft202012Validator(COMMAND_SCHEMAS[name]).is_valid(body)
    assert (check(COMMAND_SCHEMAS[name], body) is None) == reference


def test_requests_are_refused_with_a_reason_and_never_evaluated():
    topics = Topics("plant-1", "header-a")
    cmd = topics.command

    def parse(topic, payload, **kw):
        return parse_request(topics, topic, payload, max_bytes=100, **kw)

    ok = parse(
        cmd("ack_alert"), b'{"id": "x#1"}', response_topic="twin/_reply/me", correlation=b"7"
    )
    assert isinstance(ok, Request) and ok.correlation == b"7"
    cases = {
        "unknown_command": parse(cmd("format_disk"), b"{}", response_topic="twin/_reply/me"),
        "oversized": parse(cmd("checkpoint_now"), b"{" + b" " * 200 + b"}"),
        "malformed_json": parse(cmd("checkpoint_now"), b"__import__('os')"),
        "invalid_field": parse(cmd("ack_alert"), b'{"id": 1}'),
        "wrong_component": parse(cmd("checkpoint_now"), b'{"component": "header-b"}'),
        "bad_response_topic": parse(
            cmd("checkpoint_now"), b"{}", response_topic="twin/plant-1/header-a/state"
        ),
    }
    for reason, got in cases.items():
        assert isinstance(got, Refusal) and got.reason == reason, (reason, got)
    assert cases["unknown_command"].response_topic == "twin/_reply/me"
    assert cases["bad_response_topic"].response_topic is None  # nowhere to say so
    # MQTT 3.1.1: response topic and correlation in the payload
    v3 = parse(cmd("checkpoint_now"), b'{"response_topic": "twin/_reply/x", "correlation_id": "9"}')
    assert isinstance(v3, Request) and v3.response_topic == "twin/_reply/x"
    assert v3.correlation == b"9"
    assert topics.command_name("twin/plant-1/header-b/cmd/ack_alert") is None


def cond(active, kind="sensor_fault", subject="TC-1"):
    return Condition(kind, subject, active, None, None, "m")


def test_alert_states_follow_the_isa_18_2_transition_diagram():
    # ANSI/ISA-18.2-2016 section 11: normal -> unack active -> ack active -> normal; unack
    # active -> returned unacknowledged -> (ack) normal or (return) unack active.
    book = AlertBook("s", "c")
    seq = []
    for step in (True, True, False, True, False):
        seq += [(m["state"], m["revision"]) for m in book.update([cond(step)], time=1.0, offset=1)]
    assert seq == [("active", 1), ("cleared", 2), ("active", 3), ("cleared", 4)]
    (closed,) = book.acknowledge("s/c/sensor_fault/TC-1#1", by="op", time=2.0, offset=2)
    assert closed["state"] == "closed" and closed["acknowledged_by"] == "op" and not book.open
    # the next occurrence is a new alert
    (new,) = book.update([cond(True)], time=3.0, offset=3)
    assert new["id"] == "s/c/sensor_fault/TC-1#2" and new["revision"] == 1
    (ack,) = book.acknowledge(new["id"], by="op", time=4.0, offset=4)
    assert ack["state"] == "acknowledged"
    assert book.acknowledge(new["id"], by="op", time=4.0, offset=4) == []  # idempotent
    (end,) = book.update([cond(False)], time=5.0, offset=5)
    assert end["state"] == "closed" and end["revision"] == 3
    with pytest.raises(TwinInputError, match="no open alert"):
        book.acknowledge(new["id"], by="op", time=6.0, offset=6)
    for m in (closed, new, ack, end):
        jsonschema.validate(m, ALERT_SCHEMA)


def test_an_alert_book_restored_from_its_state_continues_identically():
    a, b = AlertBook("s", "c"), AlertBook("s", "c")
    for book in (a, b):
        book.update([cond(True), cond(True, subject="TC-2")], time=1.0, offset=1)
    b2 = AlertBook("s", "c")
    b2.load_state_dict(json.loads(json.dumps(b.state_dict())))
    steps = [[cond(False)], [cond(True)], [cond(False, subject="TC-2")]]
    assert [a.update(s, time=2.0, offset=2) for s in steps] == [
        b2.update(s, time=2.0, offset=2) for s in steps
    ]


def test_alert_settings_name_a_bad_key_or_value():
    assert parse_alert_settings({"damage": 0.3}).damage == 0.3
    with pytest.raises(TwinConfigError, match=r"service.alerts: unknown keys \['damge'\]"):
        parse_alert_settings({"damge": 0.3})
    with pytest.raises(
        TwinConfigError, match="service.alerts.damage: must be a number >= 0, got 'x'"
    ):
        parse_alert_settings({"damage": "x"})
