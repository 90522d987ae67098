"""Publish readings to MQTT: synthetic signals, recordings, faults, pacing.

A *recording* is an :class:`xarray.Dataset` along dim ``reading`` with variables
``time`` (epoch s), ``value`` and ``sequence``, coordinate ``sensor_id`` and
``attrs["sensor_units"]`` (unit per sensor); :func:`synthetic_readings` makes one,
and :func:`sensors.archive.open_archive` returns one (SI units) for replay.
:func:`apply_faults` corrupts a recording with noise, dropouts, spikes, drift and
stuck-at faults drawn from an explicit ``rng``. :func:`publish_readings` sends it at
real time (``speed=1``), at a multiple of real time, or as fast as possible
(``speed=None``), as single-reading or batched payloads.
"""

from __future__ import annotations

import collections
import dataclasses
import threading
import time as _time
from collections.abc import Callable
from typing import Any

import numpy as np
import orjson

from sensors.catalogue import Catalogue
from sensors.errors import PublishError
from sensors.mqtt import BrokerSettings, connect_client, make_client
from sensors.schema import encode_batch, encode_reading
from sensors.units import from_si

__all__ = [
    "Faults",
    "PublishStats",
    "apply_faults",
    "publish_readings",
    "synthetic_readings",
    "timeline_start",
]


@dataclasses.dataclass(frozen=True, slots=True)
class Faults:
    """Sensor faults to inject; magnitudes are fractions of each sensor's valid range.

    Attributes
    ----------
    noise : float
        Standard deviation of additive Gaussian noise.
    dropout : float
        Probability that a reading is lost.
    spike : float
        Probability that a reading carries a spike.
    spike_size : float
        Spike amplitude (random sign).
    drift_per_hour : float
        Linear drift rate, per hour.
    stuck : float
        Probability, per sensor, of one stuck-at episode.
    stuck_duration : float
        Length of a stuck-at episode, s (the value freezes at its first reading).
    """

    noise: float = 0.0
    dropout: float = 0.0
    spike: float = 0.0
    spike_size: float = 0.2
    drift_per_hour: float = 0.0
    stuck: float = 0.0
    stuck_duration: float = 60.0

    def __post_init__(self) -> None:
        for name in ("dropout", "spike", "stuck"):
            p = getattr(self, name)
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"faults.{name}: a probability must lie in [0, 1], got {p!r}")
        for name in ("noise", "spike_size", "stuck_duration"):
            if getattr(self, name) < 0.0:
                raise ValueError(f"faults.{name}: must be >= 0, got {getattr(self, name)!r}")


@dataclasses.dataclass(slots=True)
class PublishStats:
    """What :func:`publish_readings` delivered.

    Attributes
    ----------
    messages : int
        Messages the broker acknowledged with success (QoS 1); at QoS 0, sent.
    readings : int
        Readings in those messages.
    sent_messages, sent_readings : int
        Messages and readings handed to the client, acknowledged or not.
    refused_messages : int
        Messages the broker acknowledged with an error (MQTT 5, e.g. not authorised).
    elapsed : float
        Wall time from the first publish to the last acknowledgement, s.
    dead_letters : collections.Counter
        Readings of this publisher that an ingester dead-lettered while it was
        connected, per reason (seen on the component's dead-letter topic, when the
        broker lets the publisher read it).
    """

    messages: int = 0
    readings: int = 0
    sent_messages: int = 0
    sent_readings: int = 0
    refused_messages: int = 0
    elapsed: float = 0.0
    dead_letters: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)


def _settle(stats: PublishStats, readings: int, ok: bool) -> None:
    if ok:
        stats.messages += 1
        stats.readings += readings
    else:
        stats.refused_messages += 1


def timeline_start(
    *, duration: float, speed: float | None, clock: Callable[[], float] = _time.time
) -> float:
    """Return the start time of a synthetic timeline that is never ahead of ``clock``.

    Published at ``speed`` times real time from now, a reading at recording time
    ``t`` leaves at ``now + (t - start) / speed``. Starting at
    ``now - duration * (1 - 1 / speed)`` keeps every reading at or before the clock
    when it is sent, the last one exactly at it; as fast as possible (``speed`` None)
    the whole timeline lies in the past.

    Parameters
    ----------
    duration : float
        Length of the recording, s.
    speed : float or None
        Publishing speed (multiple of real time), None for as fast as possible.
    clock : callable, optional
        Returns "now", epoch s (the plant clock when time is accelerated or replayed).

    Returns
    -------
    float
        Time of the first reading, epoch s.
    """
    now = float(clock())
    if speed is None:
        return now - duration
    if speed <= 0.0:
        raise ValueError(f"speed: must be > 0 (or None for as fast as possible), got {speed!r}")
    return now - duration * max(0.0, 1.0 - 1.0 / speed)


def synthetic_readings(
    catalogue: Catalogue,
    *,
    duration: float,
    start_time: float,
    rng: np.random.Generator,
    rate_scale: float = 1.0,
) -> Any:
    """Make a recording of smooth signals for every sensor of a catalogue.

    Each sensor follows ``mid + 0.25 * span * sin(2 pi t / 3600 + phase)`` in its
    configured unit, sampled at ``rate * rate_scale``; sequences start at 0.

    Parameters
    ----------
    catalogue : Catalogue
        Sensors to simulate.
    duration : float
        Length of the recording, s.
    start_time : float
        Time of the first reading, epoch s.
    rng : numpy.random.Generator
        Source of the random phases.
    rate_scale : float, optional
        Multiplier on every sensor's nominal rate.

    Returns
    -------
    xarray.Dataset
        The recording, sorted by time.
    """
    import xarray as xr

    parts: dict[str, list[np.ndarray]] = {"time": [], "value": [], "sequence": [], "sensor_id": []}
    for s in catalogue.sensors:
        n = max(1, int(np.floor(duration * s.rate * rate_scale)))
        t = start_time + np.arange(n) / (s.rate * rate_scale)
        lo, hi = from_si([s.valid_min, s.valid_max], s.unit, s.quantity)
        phase = rng.uniform(0.0, 2.0 * np.pi)
        value = 0.5 * (lo + hi) + 0.25 * (hi - lo) * np.sin(
            2.0 * np.pi * (t - start_time) / 3600.0 + phase
        )
        parts["time"].append(t)
        parts["value"].append(value)
        parts["sequence"].append(np.arange(n, dtype=np.int64))
        parts["sensor_id"].append(np.full(n, s.id, dtype=object))
    cols = {k: np.concatenate(v) for k, v in parts.items()}
    order = np.argsort(cols["time"], kind="stable")
    return xr.Dataset(
        {
            "value": ("reading", cols["value"][order]),
            "sequence": ("reading", cols["sequence"][order]),
        },
        coords={
            "time": ("reading", cols["time"][order]),
            "sensor_id": ("reading", cols["sensor_id"][order]),
        },
        attrs={"sensor_units": {s.id: s.unit for s in catalogue.sensors}},
    )


def apply_faults(
    recording: Any, catalogue: Catalogue, *, faults: Faults, rng: np.random.Generator
) -> Any:
    """Return a copy of a recording with faults injected.

    Parameters
    ----------
    recording : xarray.Dataset
        Readings (see the module docstring).
    catalogue : Catalogue
        Gives each sensor's valid range, the scale of the fault magnitudes.
    faults : Faults
        What to inject.
    rng : numpy.random.Generator
        Source of randomness (the only one).

    Returns
    -------
    xarray.Dataset
        The faulty recording; dropped readings are removed (their sequence numbers
        stay missing, as from a real lossy link).
    """
    units = dict(recording.attrs["sensor_units"])
    value = np.array(recording["value"].values, dtype=np.float64)
    time = np.asarray(recording["time"].values, dtype=np.float64)
    ids = np.asarray(recording["sensor_id"].values)
    keep = np.ones(value.size, dtype=bool)
    for s in catalogue.sensors:
        idx = np.flatnonzero(ids == s.id)
        if not idx.size:
            continue
        lo, hi = from_si([s.valid_min, s.valid_max], units[s.id], s.quantity)
        span = abs(hi - lo)
        v = value[idx]
        t = time[idx]
        v = v + faults.drift_per_hour * span * (t - t[0]) / 3600.0
        if faults.noise:
            v = v + rng.normal(0.0, faults.noise * span, size=v.size)
        spikes = rng.random(v.size) < faults.spike
        v[spikes] += faults.spike_size * span * rng.choice([-1.0, 1.0], size=int(spikes.sum()))
        if rng.random() < faults.stuck:
            start = rng.uniform(t[0], max(t[0], t[-1] - faults.stuck_duration))
            window = (t >= start) & (t < start + faults.stuck_duration)
            if window.any():
                v[window] = v[np.argmax(window)]
        value[idx] = v
        keep[idx] = rng.random(v.size) >= faults.dropout
    out = recording.copy()
    out["value"] = ("reading", value)
    return out.isel(reading=np.flatnonzero(keep))


def publish_readings(
    recording: Any,
    catalogue: Catalogue,
    *,
    broker: BrokerSettings,
    prefix: str = "plant",
    speed: float | None = None,
    batch_size: int = 1,
    qos: int = 1,
    stamp_now: bool = False,
    client_id: str = "",
    max_inflight: int = 1000,
    tick: float = 0.02,
    linger: float = 0.0,
    progress: Any = None,
    clock: Callable[[], float] = _time.time,
    connect_timeout: float = 10.0,
    ack_timeout: float = 30.0,
) -> PublishStats:
    """Publish a recording to ``{prefix}/{site}/{component}/{sensor}``.

    Parameters
    ----------
    recording : xarray.Dataset
        Readings to send (see the module docstring).
    catalogue : Catalogue
        Component (site, name) the readings belong to.
    broker : BrokerSettings
        Where to publish.
    prefix : str, optional
        Topic prefix.
    speed : float or None, optional
        1 for real time, k for k times real time, None for as fast as possible.
    batch_size : int, optional
        Readings per payload; 1 sends single-reading payloads.
    qos : int, optional
        MQTT QoS (0 or 1).
    stamp_now : bool, optional
        Replace each reading's time by ``clock()`` when it is sent (for
        latency measurements and live demos).
    client_id : str, optional
        MQTT client id (random when empty).
    max_inflight : int, optional
        Unacknowledged QoS 1 publishes allowed in flight.
    tick : float, optional
        Pacing granularity when ``speed`` is set, s.
    linger : float, optional
        Stay connected this long after the last acknowledgement, s. The embedded
        amqtt broker (0.12) discards messages it has acknowledged but not yet
        forwarded when their publisher disconnects; give it ~1 s. Dead letters of
        these readings that arrive meanwhile are counted in ``dead_letters``.
    progress : callable or None, optional
        Called with the number of readings sent after each tick.
    connect_timeout : float, optional
        Longest wait for the broker's CONNACK, s.
    ack_timeout : float, optional
        Longest wait for the outstanding acknowledgements after the last send, s.
    clock : callable, optional
        Returns "now", epoch s, for ``stamp_now`` (the plant clock when time is
        accelerated or replayed). Pacing always runs on this machine's monotonic
        clock.

    Returns
    -------
    PublishStats
        Counts and elapsed time (to the last broker acknowledgement).

    Raises
    ------
    BrokerError
        If the broker cannot be reached or refuses the connection (with its reason).
    PublishError
        If acknowledgements are missing after ``ack_timeout`` or the broker refused
        messages; its ``stats`` count only what was acknowledged.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size: must be >= 1, got {batch_size!r}")
    if speed is not None and speed <= 0.0:
        raise ValueError(f"speed: must be > 0 (or None for as fast as possible), got {speed!r}")
    units = dict(recording.attrs["sensor_units"])
    time = np.asarray(recording["time"].values, dtype=np.float64)
    value = np.asarray(recording["value"].values, dtype=np.float64)
    seq = np.asarray(recording["sequence"].values, dtype=np.int64)
    ids = np.asarray(recording["sensor_id"].values)
    sensor_names = sorted(set(ids.tolist()))
    topics = {sid: catalogue.topic(prefix, sid) for sid in sensor_names}
    client, properties = make_client(broker, client_id=client_id)
    client.max_inflight_messages_set(max_inflight)
    done = threading.Condition()
    stats = PublishStats()
    carried: dict[int, int] = {}  # mid -> readings, until acknowledged
    early: dict[int, bool] = {}  # acknowledgements that beat their publish() return

    def on_publish(c: Any, u: Any, mid: int, rc: Any, p: Any) -> None:
        with done:
            ok = not getattr(rc, "is_failure", False)
            if mid in carried:
                _settle(stats, carried.pop(mid), ok)
            else:
                early[mid] = ok
            done.notify_all()

    def send(topic: str, payload: bytes, n: int) -> None:
        info = client.publish(topic, payload, qos=qos)
        with done:
            stats.sent_messages += 1
            stats.sent_readings += n
            if qos == 0:
                stats.messages += 1
                stats.readings += n
            elif info.mid in early:
                _settle(stats, n, early.pop(info.mid))
            else:
                carried[info.mid] = n

    letters_topic = f"{prefix}/_deadletter/{catalogue.site}/{catalogue.component}"
    own_topics = set(topics.values())

    def on_message(c: Any, u: Any, message: Any) -> None:
        # Dead letters of our own readings (e.g. time_in_future: our clock is off).
        try:
            letter = orjson.loads(message.payload)
            if letter.get("topic") in own_topics:
                with done:
                    stats.dead_letters[str(letter["reason"])] += int(letter["readings"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            pass

    client.on_publish = on_publish
    client.on_message = on_message
    connect_client(client, broker, properties, timeout=connect_timeout)
    client.subscribe(letters_topic, qos=1)
    order = np.argsort(time, kind="stable")
    time, value, seq, ids = time[order], value[order], seq[order], ids[order]
    t0 = time[0] if time.size else 0.0
    start = _time.monotonic()
    # Window boundaries: by recording time when paced, whole recording otherwise.
    if speed is None:
        bounds = [0, time.size]
    else:
        edges = (
            np.arange(t0, time[-1] + tick * speed, tick * speed) if time.size else np.array([0.0])
        )
        bounds = list(np.searchsorted(time, edges, side="left")) + [time.size]
    ids_list, time_list = ids.tolist(), time.tolist()
    value_list, seq_list = value.tolist(), seq.tolist()
    sent = 0
    try:
        for k in range(len(bounds) - 1):
            lo, hi = int(bounds[k]), int(bounds[k + 1])
            if speed is not None:
                delay = (
                    start + (time[lo] - t0) / speed - _time.monotonic() if lo < time.size else 0.0
                )
                if delay > 0:
                    _time.sleep(delay)
            if hi <= lo:
                continue
            if batch_size == 1:
                # Single-reading payloads in time order, from plain lists (fast path).
                for sid, t_i, v_i, s_i in zip(
                    ids_list[lo:hi],
                    time_list[lo:hi],
                    value_list[lo:hi],
                    seq_list[lo:hi],
                    strict=True,
                ):
                    payload = encode_reading(
                        time=clock() if stamp_now else t_i,
                        value=v_i,
                        unit=units[sid],
                        sequence=s_i,
                    )
                    send(topics[sid], payload, 1)
            else:
                w_ids = ids[lo:hi]
                for sid in sensor_names:
                    idx = np.flatnonzero(w_ids == sid) + lo
                    for j in range(0, idx.size, batch_size):
                        part = idx[j : j + batch_size]
                        t = np.full(part.size, clock()) if stamp_now else time[part]
                        payload = encode_batch(
                            time=t, value=value[part], unit=units[sid], sequence=seq[part]
                        )
                        send(topics[sid], payload, int(part.size))
            if progress is not None:
                progress(stats.sent_readings - sent)
                sent = stats.sent_readings
        if qos > 0:
            with done:
                complete = done.wait_for(lambda: not carried, timeout=ack_timeout)
                missing = sum(carried.values())
            if not complete:
                stats.elapsed = _time.monotonic() - start
                raise PublishError(
                    f"publish: {missing} of {stats.sent_readings} readings were not "
                    f"acknowledged by {broker.url} within {ack_timeout:g} s (the broker is "
                    f"stuck or the connection dropped); {stats.readings} were acknowledged",
                    stats,
                )
            if stats.refused_messages:
                stats.elapsed = _time.monotonic() - start
                raise PublishError(
                    f"publish: {broker.url} refused {stats.refused_messages} of "
                    f"{stats.sent_messages} messages (MQTT 5 reason code, e.g. not authorised "
                    f"for the topic); {stats.readings} readings were acknowledged",
                    stats,
                )
        else:
            # QoS 0: let the network thread drain the outgoing queue.
            while client.want_write():
                _time.sleep(0.01)
        stats.elapsed = _time.monotonic() - start
    finally:
        _time.sleep(linger)
        client.disconnect()
        client.loop_stop()
    return stats
