"""The ingester: MQTT readings in, durable archive out, acknowledged only when durable.

One :class:`Ingester` serves one component. Its paho network thread only queues
each message (so keep-alives and acknowledgements are serviced while a large batch
is checked); the thread calling :meth:`Ingester.serve` decodes and validates the
queued messages (:class:`~sensors.validation.Validator`) into an in-memory buffer,
flushes that buffer to the archive when it holds ``flush_rows`` readings or its
oldest entry is ``flush_interval`` old, and only then acknowledges the buffered QoS 1
messages (paho ``manual_ack``) and publishes their dead letters. A crash therefore
loses only unacknowledged messages, which the broker redelivers from the persistent
session; readings that were archived but not yet acknowledged come back as
duplicates and are dropped by ``(sensor, sequence)``, a state rebuilt from the
archive at start-up.

Throughput is bounded by the acknowledgement window: at most ``receive_maximum``
(MQTT 5) or the broker's ``max_inflight_messages`` (MQTT 3.1.1) messages per flush.

``on_durable(batch)`` is the in-process way to receive durable readings: after each
commit that holds readings (and after their acknowledgement), the flushing thread
calls it with a :class:`~sensors.reader.CommittedReadings` whose ``start``/``stop``
are the archive offsets of the committed rows. A hook that raises loses nothing (the
readings are durable and acknowledged): the error is logged with its traceback and
counted in :attr:`IngestStats.hook_errors`, and by default the ingester keeps
archiving, because archiving plant data must not depend on a downstream consumer; the
consumer sees the hole (the next batch's ``start`` is beyond its own offset) and reads
the missed rows with :meth:`~sensors.archive.Archive.read`. With
``stop_on_hook_error=True`` the ingester instead stops cleanly (everything buffered is
archived and acknowledged, the hook is not called again) and :meth:`Ingester.serve`
raises :class:`~sensors.errors.DurableHookError`, for a consumer that prefers a
restart from its checkpoint to catching up.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import pathlib
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from sensors.archive import Archive, ArchiveBatch, DeadLetterBatch
from sensors.catalogue import Catalogue
from sensors.dedupe import DEFAULT_MAX_INTERVALS
from sensors.errors import BrokerError, BrokerRefusedError, DurableHookError
from sensors.mqtt import BrokerSettings, connect_client, make_client
from sensors.reader import CommittedReadings
from sensors.schema import MAX_BATCH_READINGS
from sensors.validation import DEFAULT_EARLIEST_TIME, REASONS, DeadLetter, Outcome, Validator

__all__ = ["IngestStats", "Ingester", "deadletter_topic"]

_log = logging.getLogger(__name__)


def deadletter_topic(prefix: str, catalogue: Catalogue) -> str:
    """Return the dead-letter topic ``{prefix}/_deadletter/{site}/{component}``."""
    return f"{prefix}/_deadletter/{catalogue.site}/{catalogue.component}"


@dataclasses.dataclass(slots=True)
class IngestStats:
    """Counters of one ingester run (since start, not persisted).

    Attributes
    ----------
    messages : int
        Messages received.
    archived : int
        Readings made durable.
    duplicates : int
        Readings dropped as already seen.
    dead_letters : collections.Counter
        Dead-letter records per reason.
    dead_readings : collections.Counter
        Readings dead-lettered per reason.
    flushes : int
        Archive commits.
    connects : int
        Successful connections (1 + reconnects).
    hook_errors : int
        Calls of the ``on_durable`` hook that raised.
    """

    messages: int = 0
    archived: int = 0
    duplicates: int = 0
    dead_letters: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    dead_readings: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    flushes: int = 0
    connects: int = 0
    hook_errors: int = 0

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable copy."""
        out = dataclasses.asdict(self)
        out["dead_letters"] = dict(self.dead_letters)
        out["dead_readings"] = dict(self.dead_readings)
        return out


@dataclasses.dataclass(slots=True)
class _Pending:
    outcome: Outcome
    mid: int
    qos: int
    generation: int


@dataclasses.dataclass(slots=True)
class _Raw:
    """A message as the network thread hands it over (validated in the run thread)."""

    topic: str
    payload: bytes
    mid: int
    qos: int
    generation: int
    received: float
    arrived: float


class Ingester:
    """Subscribe to a component's readings and archive them durably.

    Parameters
    ----------
    catalogue : Catalogue
        The component's sensors.
    archive_path : str or pathlib.Path
        Zarr store of the component's archive (created if missing).
    broker : BrokerSettings
        Broker address, protocol, credentials and TLS.
    client_id : str or None, optional
        Fixed MQTT client id of the persistent session; default
        ``twin-ingest-{site}-{component}``.
    prefix : str, optional
        Topic prefix.
    qos : int, optional
        Subscription QoS (1 for acknowledged delivery; 0 for best effort).
    flush_interval : float, optional
        Longest time a reading waits in memory before the archive flush, s.
    flush_rows : int, optional
        Buffered readings that trigger a flush before ``flush_interval``.
    receive_maximum : int, optional
        MQTT 5 Receive Maximum (unacknowledged deliveries in flight).
    session_expiry : int, optional
        MQTT 5 session expiry interval, s.
    max_payload_bytes, max_readings, max_intervals, future_tolerance,
    backwards_tolerance, earliest_time
        Passed to :class:`~sensors.validation.Validator`: the payload size limit, the
        readings-per-payload cap, the duplicate tracker's interval cap and the time
        rules.
    max_queue_bytes : int, optional
        Payload bytes queued for validation beyond which the network thread waits
        (back-pressure; at most 5 s per message, so the keep-alive holds).
    dedupe_rows : int or None, optional
        Rebuild the seen-sequence set from only the last this many archived rows
        (bounds start-up time, ~0.5 s per million rows); all rows when None (exact).
        Redeliveries after a crash are recent, so a tail far larger than the broker's
        inflight window keeps them out.
    on_durable : callable or None, optional
        Called as ``on_durable(batch)`` in the flushing thread after each commit that
        holds readings, with a :class:`~sensors.reader.CommittedReadings` (see the
        module docstring for what happens when it raises).
    stop_on_hook_error : bool, optional
        Stop cleanly and raise :class:`~sensors.errors.DurableHookError` from
        :meth:`serve` when ``on_durable`` raises, instead of logging and going on.
    connect_timeout : float, optional
        Longest wait for the first connection and its CONNACK, s.
    retry_forever : bool, optional
        When the broker cannot be reached at start, keep retrying with back-off
        (logged) instead of raising; for services under a supervisor. Refused
        credentials and TLS failures always raise.
    clock : callable, optional
        Returns "now", epoch s: the receive stamp of each message (the reference of
        the ``time_in_future`` check) and the archive's ``received`` stamp. Pass the
        plant clock when time is accelerated or replayed. Flush timing always runs
        on the monotonic clock of this machine (it bounds latency, not plant time).
    """

    def __init__(
        self,
        catalogue: Catalogue,
        archive_path: str | pathlib.Path,
        *,
        broker: BrokerSettings,
        client_id: str | None = None,
        prefix: str = "plant",
        qos: int = 1,
        flush_interval: float = 0.1,
        flush_rows: int = 50_000,
        receive_maximum: int = 10_000,
        session_expiry: int = 7 * 86_400,
        max_payload_bytes: int = 1_000_000,
        max_readings: int = MAX_BATCH_READINGS,
        max_intervals: int = DEFAULT_MAX_INTERVALS,
        max_queue_bytes: int = 64 * 2**20,
        future_tolerance: float = 300.0,
        backwards_tolerance: float = 86_400.0,
        dedupe_rows: int | None = None,
        earliest_time: float = DEFAULT_EARLIEST_TIME,
        on_durable: Callable[[CommittedReadings], object] | None = None,
        stop_on_hook_error: bool = False,
        connect_timeout: float = 10.0,
        retry_forever: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if qos not in (0, 1):
            raise BrokerError(f"qos: must be 0 or 1, got {qos!r}")
        if flush_interval <= 0.0:
            raise BrokerError(f"flush_interval: must be > 0 s, got {flush_interval!r}")
        self.catalogue = catalogue
        self.broker = broker
        self.prefix = prefix
        self.qos = qos
        self.flush_interval = flush_interval
        self.flush_rows = flush_rows
        self.receive_maximum = receive_maximum
        self.session_expiry = session_expiry
        self.client_id = client_id or f"twin-ingest-{catalogue.site}-{catalogue.component}"
        self.topic = catalogue.topic(prefix, "+")
        self.deadletter_topic = deadletter_topic(prefix, catalogue)
        self.clock = clock
        self.connect_timeout = connect_timeout
        self.retry_forever = retry_forever
        self.on_durable = on_durable
        self.stop_on_hook_error = stop_on_hook_error
        self.archive = Archive(archive_path, catalogue, reasons=REASONS, clock=clock)
        try:
            self.validator = Validator(
                catalogue,
                self.archive.sensor_index,
                prefix=prefix,
                max_payload_bytes=max_payload_bytes,
                max_readings=max_readings,
                max_intervals=max_intervals,
                future_tolerance=future_tolerance,
                backwards_tolerance=backwards_tolerance,
                earliest_time=earliest_time,
                clock=clock,
            )
            self.validator.restore(self.archive.committed(tail=dedupe_rows))
        except BaseException:
            self.archive.close()
            raise
        self.stats = IngestStats()
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self._lock = threading.Lock()
        self._conn_lock = threading.Lock()
        self._wake = threading.Event()
        self._room = threading.Condition(self._lock)
        self._buffer: list[_Pending] = []
        self._inbox: collections.deque[_Raw] = collections.deque()
        self._inbox_bytes = 0
        self.max_queue_bytes = max_queue_bytes
        self._rows = 0
        self._oldest = 0.0
        self._generation = 0
        self._client: Any = None
        self._hook_failure: DurableHookError | None = None
        self._closed = False
        self._refused: str | None = None

    # -- paho callbacks (network thread) -------------------------------------------------
    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            self._refused = str(reason)
            _log.error(
                "broker %s refused the connection: %s; retrying with back-off",
                self.broker.url,
                reason,
            )
            return
        self._refused = None
        with self._conn_lock:
            self._generation += 1
        self.stats.connects += 1
        client.subscribe(self.topic, qos=self.qos)
        _log.info(
            "connected to %s:%d as %s, subscribed to %s (session present: %s)",
            self.broker.host,
            self.broker.port,
            self.client_id,
            self.topic,
            getattr(flags, "session_present", None),
        )
        self.connected.set()

    def _on_subscribe(self, client: Any, userdata: Any, mid: int, reasons: Any, props: Any) -> None:
        failed = [r for r in reasons if r.is_failure]
        if failed:
            _log.error("subscription to %s refused: %s", self.topic, failed)
            return
        _log.info("subscription to %s acknowledged", self.topic)
        self.subscribed.set()

    def _on_disconnect(
        self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        with self._conn_lock:
            self._generation += 1
        self.connected.clear()
        self.subscribed.clear()
        if self._refused is not None:
            return  # the refusal is logged already; paho calls it a protocol error
        _log.warning(
            "disconnected from broker %s (%s); reconnecting with back-off", self.broker.url, reason
        )

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        raw = _Raw(
            message.topic,
            bytes(message.payload),
            message.mid,
            message.qos,
            self._generation,
            float(self.clock()),
            time.monotonic(),
        )
        with self._room:
            # Back-pressure: hold the network thread (at most 5 s, within the
            # keep-alive) while far more waits than one flush takes.
            self._room.wait_for(
                lambda: (
                    self._inbox_bytes < self.max_queue_bytes and self._rows < 4 * self.flush_rows
                ),
                timeout=5.0,
            )
            self._inbox.append(raw)
            self._inbox_bytes += len(raw.payload)
            self.stats.messages += 1
        self._wake.set()

    # -- validation (run thread) ---------------------------------------------------------
    def _validate(self, raw: _Raw) -> Outcome:
        try:
            return self.validator.check(raw.topic, raw.payload, received=raw.received)
        except Exception as err:  # the service must survive any payload
            _log.exception("validator failed on a message of %s", raw.topic)
            return Outcome(
                None,
                0,
                [
                    DeadLetter(
                        "internal_error",
                        f"validator raised {type(err).__name__}: {err}",
                        raw.topic,
                        None,
                        0,
                        raw.received,
                        raw.payload[: self.validator.max_payload_bytes],
                    )
                ],
            )

    def _drain(self, *, max_rows: int | None = None) -> None:
        """Validate queued messages into the buffer (until it holds ``max_rows``)."""
        while max_rows is None or self._rows < max_rows:
            with self._room:
                if not self._inbox:
                    return
                raw = self._inbox.popleft()
                self._inbox_bytes -= len(raw.payload)
                self._room.notify_all()
            outcome = self._validate(raw)
            n = len(outcome.accepted) if outcome.accepted is not None else 0
            with self._room:
                if not self._buffer:
                    self._oldest = raw.arrived
                self._buffer.append(_Pending(outcome, raw.mid, raw.qos, raw.generation))
                self._rows += n

    # -- flushing (run thread) -----------------------------------------------------------
    def flush(self) -> int:
        """Archive everything queued and buffered, then acknowledge it; return readings archived."""
        self._drain()
        return self._flush_buffer()

    def _flush_buffer(self) -> int:
        with self._room:
            pending, self._buffer = self._buffer, []
            self._rows = 0
            self._room.notify_all()
        if not pending:
            return 0
        batches = [p.outcome.accepted for p in pending if p.outcome.accepted is not None]
        letters = [dl for p in pending for dl in p.outcome.letters]
        readings = ArchiveBatch.concatenate(batches) if batches else None
        letter_batch = None
        if letters:
            letter_batch = DeadLetterBatch(
                np.array([dl.received for dl in letters], dtype=np.float64),
                np.array([self.archive.reason_index(dl.reason) for dl in letters], dtype=np.int16),
                np.array(
                    [self.archive.sensor_index(dl.sensor or "") for dl in letters], dtype=np.int32
                ),
                np.array([dl.readings for dl in letters], dtype=np.int64),
                topic=tuple(dl.topic.encode("utf-8", "replace") for dl in letters),
                payload=tuple(dl.payload for dl in letters),
            )
        start = self.archive.n_readings
        committed_at = self.archive.append(readings, letter_batch)
        client = self._client
        for dl in letters:
            client.publish(self.deadletter_topic, dl.to_json(), qos=1)
        with self._conn_lock:
            generation = self._generation
            for p in pending:
                # A message from an earlier connection is redelivered by the broker
                # (and then dropped as a duplicate); acking its stale mid would ack
                # another message of the new connection.
                if p.qos > 0 and p.generation == generation:
                    client.ack(p.mid, p.qos)
        n = len(readings) if readings is not None else 0
        self.stats.archived += n
        self.stats.duplicates += sum(p.outcome.duplicates for p in pending)
        for dl in letters:
            self.stats.dead_letters[dl.reason] += 1
            self.stats.dead_readings[dl.reason] += dl.readings
        self.stats.flushes += 1
        if readings is not None and n:
            self._call_hook(readings, start, committed_at)
        return n

    def _call_hook(self, readings: ArchiveBatch, start: int, committed_at: float) -> None:
        if self.on_durable is None or self._hook_failure is not None:
            return
        batch = CommittedReadings(
            start=start,
            stop=start + len(readings),
            sensor_ids=self.archive.sensor_ids,
            sensor=readings.sensor,
            time=readings.time,
            value=readings.value,
            quality=readings.quality,
            sequence=readings.sequence,
            received=np.full(len(readings), committed_at),
        )
        try:
            self.on_durable(batch)
        except Exception as err:  # the readings are durable: report, never lose them
            self.stats.hook_errors += 1
            _log.exception(
                "on_durable hook raised on archive rows [%d, %d) (durable and acknowledged; "
                "read them again with Archive.read(%d, %d))",
                batch.start,
                batch.stop,
                batch.start,
                batch.stop,
            )
            if self.stop_on_hook_error:
                failure = DurableHookError(
                    f"on_durable: the hook raised {type(err).__name__}: {err} on archive rows "
                    f"[{batch.start}, {batch.stop}); they are durable and acknowledged; "
                    f"resume the consumer from offset {batch.start} with Archive.read"
                )
                failure.start, failure.stop = batch.start, batch.stop
                failure.__cause__ = err
                self._hook_failure = failure
                self._wake.set()

    def start(self) -> None:
        """Connect, wait for the broker's CONNACK, and start the network thread.

        After this first connection paho reconnects with back-off whenever the
        connection drops.

        Raises
        ------
        BrokerRefusedError
            If the broker refuses the credentials or the TLS handshake fails.
        BrokerError
            If the broker cannot be reached within ``connect_timeout`` (unless
            ``retry_forever``, which keeps retrying with back-off instead).
        """
        if self._closed:
            raise BrokerError("ingester: stopped and its archive released; make a new Ingester")
        client, properties = make_client(
            self.broker,
            client_id=self.client_id,
            persistent=True,
            manual_ack=True,
            receive_maximum=self.receive_maximum,
            session_expiry=self.session_expiry,
        )
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        try:
            connect_client(
                client,
                self.broker,
                properties,
                timeout=self.connect_timeout,
                clean_start=False,
            )
        except BrokerRefusedError:
            raise  # credentials, authorisation, TLS: retrying cannot fix it
        except BrokerError as err:
            if not self.retry_forever:
                raise
            _log.warning("%s; retrying with back-off (1 s to 30 s)", err)
            kwargs: dict[str, Any] = {}
            if self.broker.protocol == "5":
                kwargs = {"clean_start": False, "properties": properties}
            client.connect_async(
                self.broker.host, self.broker.port, self.broker.keepalive, **kwargs
            )
            client.loop_start()
        self._client = client

    def stop(self) -> None:
        """Flush what is buffered, acknowledge it, disconnect, and release the archive."""
        client = self._client
        if client is not None:
            client.loop_stop()  # no more messages arrive; buffered ones are archived below
            try:
                if self.archive.failure is None:  # after a write failure: ack nothing more
                    self.flush()  # with the loop stopped, paho writes the acks directly
            finally:
                client.disconnect()
                self._client = None
        self.close()

    def close(self) -> None:
        """Release the archive's writer lock without flushing (:meth:`stop` calls it)."""
        self._closed = True
        self.archive.close()

    def serve(
        self,
        *,
        stop: threading.Event | None = None,
        duration: float | None = None,
        status_every: float | None = None,
    ) -> IngestStats:
        """Run the flush loop until ``stop`` is set or ``duration`` (s) has passed.

        Parameters
        ----------
        stop : threading.Event or None, optional
            Set it (e.g. from a signal handler) to end the loop.
        duration : float or None, optional
            Run at most this long, s.
        status_every : float or None, optional
            Log the counters every this many seconds.

        Returns
        -------
        IngestStats
            The counters at the end.

        Raises
        ------
        StorageError
            If the archive cannot be written (after a clean stop that acknowledges
            nothing more: the broker redelivers what was not committed).
        DurableHookError
            If ``stop_on_hook_error`` is set and ``on_durable`` raised (after the
            clean stop).
        """
        stop = stop or threading.Event()
        if self._client is None:
            self.start()
        end = time.monotonic() + duration if duration is not None else float("inf")
        next_status = time.monotonic() + (status_every or float("inf"))
        try:
            while not stop.is_set() and time.monotonic() < end and self._hook_failure is None:
                self._wake.clear()
                self._drain(max_rows=self.flush_rows)
                with self._lock:
                    now = time.monotonic()
                    due = bool(self._buffer) and (
                        self._rows >= self.flush_rows or now - self._oldest >= self.flush_interval
                    )
                    wait = (
                        self.flush_interval
                        if not self._buffer
                        else max(0.0, self._oldest + self.flush_interval - now)
                    )
                if due:
                    self._flush_buffer()
                elif not self._inbox:
                    self._wake.wait(min(wait, 0.05) if wait > 0 else 0.001)
                if time.monotonic() >= next_status:
                    _log.info("ingest: %s", self.stats.as_dict())
                    next_status = time.monotonic() + (status_every or float("inf"))
        finally:
            self.stop()
        if self._hook_failure is not None:
            raise self._hook_failure
        return self.stats
