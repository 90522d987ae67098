"""Helpers of the service tests: small component configs, a plant's readings, MQTT clients."""

from __future__ import annotations

import json
import multiprocessing
import os
import pathlib
import queue
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "grade91_header.toml"
SURROGATE = ROOT / "examples" / "grade91_header.surrogate"
SENSORS = ("TC-steam-01", "PT-01", "TC-outer-01", "SG-outer-01")
UNITS = {"TC-steam-01": "degC", "PT-01": "MPa", "TC-outer-01": "degC", "SG-outer-01": "microstrain"}


def write_config(
    folder: pathlib.Path,
    *,
    component: str = "header-a",
    particles: int = 32,
    block_s: float = 60.0,
    lateness_s: float = 5.0,
    forecast_every_h: float = 0.0,
    service: str = "",
) -> pathlib.Path:
    """The example header with a small twin, as a config file in ``folder``."""
    text = EXAMPLE.read_text()
    text = text.replace('name = "header-a"', f'name = "{component}"', 1)
    text = text.replace("particles = 500", f"particles = {particles}", 1)
    text = text.replace("block_s = 60.0", f"block_s = {block_s}", 1)
    text = text.replace("lateness_s = 5.0", f"lateness_s = {lateness_s}", 1)
    text = text.replace("[twin]\n", f'[twin]\nsurrogate = "{SURROGATE}"\n', 1)
    text += f"\n[service]\nforecast_every_h = {forecast_every_h}\n" + service
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{component}.toml"
    path.write_text(text)
    return path


def plant_readings(
    seconds: int, *, t0: float, seed: int = 0, stuck: tuple[float, float] | None = None
) -> dict[str, np.ndarray]:
    """Readings of a start-up at 1 Hz, 4 sensors, SI, in time order.

    The fluid ramps 150 -> 400 degC over ``seconds``, the outer wall lags it by a first
    order (600 s), the pressure ramps 1 -> 10 MPa and the strain gauge follows the
    outer wall's thermal expansion. ``stuck=(a, b)`` freezes the outer thermocouple
    between ``a`` and ``b`` s (a sensor fault the twin flags).
    """
    rng = np.random.default_rng(seed)
    s = np.arange(seconds, dtype=float)
    tf = 150.0 + 250.0 * s / max(seconds - 1, 1)
    tau = 600.0
    tw = tf - 250.0 / max(seconds - 1, 1) * tau * (1.0 - np.exp(-s / tau))
    out = {
        "TC-steam-01": tf + 273.15 + rng.normal(0, 0.3, s.size),
        "PT-01": (1.0 + 9.0 * s / max(seconds - 1, 1)) * 1e6 + rng.normal(0, 2e4, s.size),
        "TC-outer-01": tw + 273.15 + rng.normal(0, 0.5, s.size),
        "SG-outer-01": 12.5e-6 * (tw - 20.0) + rng.normal(0, 5e-6, s.size),
    }
    if stuck is not None:
        m = (s >= stuck[0]) & (s < stuck[1])
        out["TC-outer-01"][m] = out["TC-outer-01"][m][0]
    t = np.repeat(t0 + s, len(SENSORS))
    sensor = np.tile(np.array(SENSORS, dtype=object), s.size)
    value = np.column_stack([out[k] for k in SENSORS]).ravel()
    seq = np.repeat(np.arange(s.size), len(SENSORS))
    return {
        "time": t,
        "sensor": sensor,
        "value": value,
        "quality": np.zeros(t.size, np.int8),
        "sequence": seq,
    }


def payloads(
    readings: dict[str, np.ndarray],
    *,
    site: str = "plant-1",
    component: str = "header-a",
    prefix: str = "plant",
) -> list[tuple[str, bytes]]:
    """One single-reading payload per reading, in the sensor's unit."""
    from sensors.schema import encode_reading

    out = []
    for t, sid, v, q in zip(
        readings["time"], readings["sensor"], readings["value"], readings["sequence"], strict=True
    ):
        unit = UNITS[sid]
        val = float(v) * _SCALE[unit] + _OFFSET[unit]
        out.append(
            (
                f"{prefix}/{site}/{component}/{sid}",
                encode_reading(time=float(t), value=val, unit=unit, sequence=int(q)),
            )
        )
    return out


QUANTITY = {"degC": "temperature", "MPa": "pressure", "microstrain": "strain"}


def as_received(readings: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The readings as an ingester stores them: the published values converted to SI.

    A value published in degC, MPa or microstrain and converted back is not always the
    same float as the SI value it came from; the twin sees the converted one.
    """
    import orjson

    from sensors.units import to_si

    value = readings["value"].copy()
    for sid, unit in UNITS.items():
        m = readings["sensor"] == sid
        sent = [
            orjson.loads(orjson.dumps(float(v) * _SCALE[unit] + _OFFSET[unit]))
            for v in readings["value"][m]
        ]
        value[m] = to_si(np.array(sent), unit, QUANTITY[unit])
    return {**readings, "value": value}


# SI -> the sensors' units (K -> degC, Pa -> MPa, 1 -> microstrain)
_SCALE = {"degC": 1.0, "MPa": 1e-6, "microstrain": 1e6}
_OFFSET = {"degC": -273.15, "MPa": 0.0, "microstrain": 0.0}


class Client:
    """A paho MQTT 5 client that records what arrives on its subscriptions."""

    def __init__(self, url: str, *subscriptions: str) -> None:
        from sensors.mqtt import connect_client, make_client, parse_broker_url

        self.settings = parse_broker_url(url)
        self.client, props = make_client(self.settings, client_id=f"test-{uuid.uuid4().hex[:8]}")
        self.messages: queue.Queue[tuple[str, bytes, Any]] = queue.Queue()
        self.log: list[tuple[str, bytes, Any]] = []
        self._lock = threading.Lock()
        self.client.on_message = self._on_message
        subs = list(subscriptions)

        def on_connect(c: Any, u: Any, f: Any, r: Any, p: Any) -> None:
            for s in subs:
                c.subscribe(s, qos=1)

        self.client.on_connect = on_connect
        connect_client(self.client, self.settings, props, timeout=10)
        time.sleep(0.2)

    def _on_message(self, c: Any, u: Any, msg: Any) -> None:
        item = (msg.topic, bytes(msg.payload), msg.properties)
        with self._lock:
            self.log.append(item)
        self.messages.put(item)

    def publish(
        self,
        topic: str,
        payload: bytes,
        *,
        response_topic: str | None = None,
        correlation: bytes | None = None,
        qos: int = 1,
        retain: bool = False,
    ) -> None:
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        props = Properties(PacketTypes.PUBLISH)
        if response_topic is not None:
            props.ResponseTopic = response_topic
        if correlation is not None:
            props.CorrelationData = correlation
        info = self.client.publish(
            topic,
            payload,
            qos=qos,
            retain=retain,
            properties=props if (response_topic or correlation) else None,
        )
        if qos:
            info.wait_for_publish(timeout=30)

    def wait_for(self, predicate: Any, timeout: float = 30.0) -> tuple[str, bytes, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                item = self.messages.get(timeout=0.1)
            except queue.Empty:
                continue
            if predicate(item):
                return item
        raise TimeoutError("no matching message arrived")

    def json_on(self, topic: str) -> list[dict[str, Any]]:
        with self._lock:
            return [json.loads(p) for t, p, _ in self.log if t == topic]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def publish_all(url: str, messages: Sequence[tuple[str, bytes]], *, window: int = 500) -> None:
    """Publish at QoS 1, waiting for the broker's acknowledgements every ``window`` messages."""
    pub = Client(url)
    try:
        infos = []
        for topic, payload in messages:
            infos.append(pub.client.publish(topic, payload, qos=1))
            if len(infos) >= window:
                for info in infos:
                    info.wait_for_publish(timeout=60)
                infos = []
        for info in infos:
            info.wait_for_publish(timeout=60)
    finally:
        pub.close()


# ---------------------------------------------------------------- service processes
def _run_cli(argv: list[str], log: str) -> None:
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    from twin.cli import main

    main(argv, standalone_mode=True)


_CONTEXT: Any = None


def forkserver() -> Any:
    """A forkserver with the service's heavy imports done once, so a restart is fast.

    Each ``twin serve`` child is a real process (SIGKILL kills it), forked from a
    single-threaded server that has imported torch, gpytorch, scipy and pint already.
    """
    global _CONTEXT
    if _CONTEXT is None:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(
            [
                "tests.twin.service_support",
                "twin.server",
                "twin.state",
                "surrogates.modes",
                "surrogates.persistence",
                "gpytorch",
                "scipy.stats",
                "sensors.ingest",
                "sensors.units",
                "twin.cli.serve",
            ]
        )
        _CONTEXT = ctx
    return _CONTEXT


class ServeProcess:
    """``twin serve ARGS`` in a child process, its output in a log file."""

    def __init__(self, argv: list[str], log: pathlib.Path) -> None:
        self.argv = ["serve", *argv]
        self.log = log
        self.proc: Any = None

    def start(self) -> ServeProcess:
        self.proc = forkserver().Process(target=_run_cli, args=(self.argv, str(self.log)))
        self.proc.start()
        return self

    @property
    def pid(self) -> int:
        return int(self.proc.pid)

    def kill(self, sig: int = 9) -> None:
        os.kill(self.pid, sig)
        self.proc.join(60)

    def wait(self, timeout: float = 60.0) -> int | None:
        self.proc.join(timeout)
        return self.proc.exitcode  # type: ignore[no-any-return]

    def alive(self) -> bool:
        return self.proc is not None and self.proc.is_alive()

    def text(self) -> str:
        return self.log.read_text() if self.log.exists() else ""


def wait_online(
    client: Client,
    status_topic: str,
    *,
    after: float,
    timeout: float = 60.0,
    proc: ServeProcess | None = None,
) -> dict[str, Any]:
    """Wait for a status ``online`` published after ``after`` (epoch s)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for doc in client.json_on(status_topic):
            if doc["status"] == "online" and doc["since"] >= after:
                return doc
        if proc is not None and not proc.alive():
            raise RuntimeError(f"twin serve exited:\n{proc.text()[-3000:]}")
        time.sleep(0.05)
    raise TimeoutError(f"no online status on {status_topic}")


def iter_chunks(items: Sequence[Any], n: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]
