"""Where the virtual plant's readings go: a sensor archive, or an MQTT broker.

Both sinks take readings as arrays (epoch s of plant time, sensor ids, SI values) in
time order, chunk by chunk, and are closed at the end of the recording.

- :class:`ArchiveSink` writes a sensor archive exactly as :mod:`scenarios.record` (and
  ``twin ingest``) does: the same :class:`sensors.archive.Archive`, per-sensor sequence
  numbers from 0 continuing across chunks, appended in batches.
- :class:`MqttSink` publishes batched payloads (:func:`sensors.schema.encode_batch`,
  the publisher's format and topics ``{prefix}/{site}/{component}/{sensor}``) through
  the project's MQTT client helpers, stamped with plant time; in a real-time run the
  plant hands it each reading when the plant clock reaches it, so the broker sees the
  plant's pace.
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

__all__ = ["ArchiveSink", "MqttSink", "Sink"]

F64 = NDArray[np.float64]


class Sink(Protocol):
    """What the plant needs of a sink."""

    readings: int

    def write(self, time: F64, sensor: NDArray[Any], value: F64) -> None:
        """Take readings in time order (epoch s, sensor ids, SI)."""

    def close(self) -> None:
        """Flush and release everything."""


class _Sequencer:
    """Per-sensor sequence numbers from 0, continuing across chunks."""

    def __init__(self, sensors: list[str]) -> None:
        self.next = dict.fromkeys(sensors, 0)

    def __call__(self, sensor: NDArray[Any]) -> NDArray[np.int64]:
        seq = np.zeros(sensor.size, dtype=np.int64)
        for name in np.unique(sensor).tolist():
            m = sensor == name
            n = int(m.sum())
            start = self.next.get(name, 0)
            seq[m] = start + np.arange(n)
            self.next[name] = start + n
        return seq


class ArchiveSink:
    """Append readings to a sensor archive (the layout ``twin ingest`` writes).

    Parameters
    ----------
    folder : path
        The archive folder (created).
    config : models.config.ComponentConfig
        The component and its sensors (the archive's catalogue).
    batch : int, optional
        Readings per append (one commit each).
    """

    def __init__(self, folder: str | pathlib.Path, config: Any, *, batch: int = 50_000) -> None:
        from sensors.archive import Archive
        from sensors.catalogue import parse_catalogue
        from sensors.validation import REASONS

        self.folder = pathlib.Path(folder)
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        catalogue = parse_catalogue(config.to_dict())
        self._last = 0.0
        self.archive = Archive(self.folder, catalogue, reasons=REASONS, clock=lambda: self._last)
        self._index = {s.id: self.archive.sensor_index(s.id) for s in catalogue.sensors}
        self._seq = _Sequencer(list(self._index))
        self.batch = int(batch)
        self._buf: list[tuple[F64, NDArray[Any], F64]] = []
        self._buffered = 0
        self.readings = 0
        self.appends = 0

    def write(self, time: F64, sensor: NDArray[Any], value: F64) -> None:
        """Buffer readings; append when a batch is full."""
        if not len(time):
            return
        self._buf.append((np.asarray(time, np.float64), np.asarray(sensor), np.asarray(value)))
        self._buffered += len(time)
        if self._buffered >= self.batch:
            self.flush()

    def flush(self) -> None:
        """Append the buffered readings (one commit)."""
        from sensors.archive import ArchiveBatch

        if not self._buf:
            return
        t = np.concatenate([b[0] for b in self._buf])
        s = np.concatenate([b[1] for b in self._buf])
        v = np.concatenate([b[2] for b in self._buf]).astype(np.float64)
        self._buf, self._buffered = [], 0
        order = np.argsort(t, kind="stable")
        t, s, v = t[order], s[order], v[order]
        self._last = float(t[-1])
        idx = np.array([self._index[x] for x in s.tolist()], dtype=np.int32)
        self.archive.append(
            ArchiveBatch(
                time=t,
                sensor=idx,
                value=v,
                quality=np.zeros(t.size, dtype=np.int8),
                sequence=self._seq(s),
            )
        )
        self.readings += t.size
        self.appends += 1

    def close(self) -> None:
        """Append what is left and release the archive's writer lock."""
        self.flush()
        self.archive.close()


class MqttSink:
    """Publish readings to an MQTT broker as the project's publisher does.

    Parameters
    ----------
    broker : sensors.mqtt.BrokerSettings
        Where to publish.
    config : models.config.ComponentConfig
        The component (site, name, sensors and their units).
    prefix : str, optional
        Topic prefix.
    speed : float or None, optional
        The plant's speed (multiple of real time; None as fast as possible), recorded
        in :attr:`stats`; pacing is the plant's, which writes each reading when its
        clock reaches it.
    qos : int, optional
        MQTT QoS (1: acknowledged, waited for at :meth:`close`).
    batch_size : int, optional
        Readings per payload.
    clock : callable, optional
        The plant clock (epoch s of plant time); the plant sets it.
    ack_timeout : float, optional
        Longest wait for the acknowledgements at :meth:`close`, s.
    """

    def __init__(
        self,
        broker: Any,
        config: Any,
        *,
        prefix: str = "plant",
        speed: float | None = None,
        qos: int = 1,
        batch_size: int = 500,
        clock: Callable[[], float] | None = None,
        ack_timeout: float = 30.0,
    ) -> None:
        from sensors.catalogue import parse_catalogue
        from sensors.mqtt import connect_client, make_client

        self.catalogue = parse_catalogue(config.to_dict())
        self._sensors = {s.id: s for s in self.catalogue.sensors}
        self._topics = {sid: self.catalogue.topic(prefix, sid) for sid in self._sensors}
        self._seq = _Sequencer(list(self._sensors))
        self.speed, self.qos, self.batch_size = speed, int(qos), max(1, int(batch_size))
        self.clock = clock
        self.ack_timeout = float(ack_timeout)
        self.client, props = make_client(broker)
        self.client.max_inflight_messages_set(10_000)
        connect_client(self.client, broker, props)
        self._pending: list[Any] = []
        self.readings = 0
        self.messages = 0

    def write(self, time: F64, sensor: NDArray[Any], value: F64) -> None:
        """Publish readings (one or more batched payloads per sensor)."""
        from sensors.schema import encode_batch
        from sensors.units import from_si

        t = np.asarray(time, np.float64)
        if not t.size:
            return
        s = np.asarray(sensor)
        v = np.asarray(value, np.float64)
        order = np.argsort(t, kind="stable")
        t, s, v = t[order], s[order], v[order]
        seq = self._seq(s)
        for sid in np.unique(s).tolist():
            m = s == sid
            spec = self._sensors[sid]
            tv, vv, qv = t[m], from_si(v[m], spec.unit, spec.quantity), seq[m]
            for a in range(0, tv.size, self.batch_size):
                b = a + self.batch_size
                payload = encode_batch(time=tv[a:b], value=vv[a:b], unit=spec.unit,
                                       sequence=qv[a:b])  # fmt: skip
                self._pending.append(self.client.publish(self._topics[sid], payload, qos=self.qos))
                self.messages += 1
        self.readings += t.size

    def close(self) -> None:
        """Wait for the acknowledgements, then disconnect."""
        from sensors.errors import PublishError

        try:
            for info in self._pending:
                info.wait_for_publish(timeout=self.ack_timeout)
                if not info.is_published():
                    raise PublishError(
                        f"broker: a message was not acknowledged within {self.ack_timeout} s; "
                        "check the broker and raise ack_timeout",
                        self.stats,
                    )
        finally:
            self._pending = []
            self.client.disconnect()
            self.client.loop_stop()

    @property
    def stats(self) -> dict[str, Any]:
        """Readings and messages sent, and the plant speed."""
        return {"readings": self.readings, "messages": self.messages, "speed": self.speed}
