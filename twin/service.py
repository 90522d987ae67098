"""``twin serve``: live component twins over MQTT, a thin shell around the deterministic core.

One process runs, per component, an :class:`~sensors.ingest.Ingester` (readings in,
durable in the archive, acknowledged only then) and a :class:`ComponentService`: the
:class:`~twin.core.ComponentCore` (twin + alerts, no clock, no I/O) fed from the
ingester's durable hook, a state directory (:class:`~twin.statedir.StateDir`) and an
MQTT client of its own that publishes the component's state, forecast, alerts and
status (its Last Will is the ``offline`` status) and takes its commands. Topics and
messages are those of :mod:`twin.contract` (docs/mqtt.md).

Exactly once: the core's offset is the number of archive rows it has taken. On start
the newest checkpoint is restored and the archive replayed from its offset (with the
journal entries after it) before the ingester starts; the hook skips rows below the
offset and reads any hole from the archive. The twin's state is therefore a function
of the archive and the journal alone, whatever crashed when.

Clocks live here only: the state publication limit (at most one per
``publish_interval`` s of wall time per component), the checkpoint schedule, the
stale-stream check and command handling. Forecasts run in one worker thread on a copy
of the twin, through a :data:`Forecaster` the service is given.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import math
import os
import pathlib
import queue
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from twin.alerts import AlertSettings, parse_alert_settings
from twin.commands import CommandHandlers, Request, check
from twin.contract import FORECAST_RESULT_SCHEMA, LIVE_ROOT, MAX_COMMAND_BYTES, REPLAY_ROOT, Topics
from twin.core import ComponentCore, GapError
from twin.errors import TwinConfigError, TwinError
from twin.statedir import StateDir

__all__ = [
    "ComponentService",
    "ComponentSpec",
    "DutyPlan",
    "Forecaster",
    "ServiceOptions",
    "ServiceSettings",
    "archive_path",
    "default_forecaster",
    "parse_service_settings",
]

_log = logging.getLogger(__name__)
_CHUNK = 65_536


@dataclasses.dataclass(frozen=True, slots=True)
class DutyPlan:
    """The duty plan set by ``set_duty_plan``: its version and the plan document."""

    version: int
    plan: dict[str, Any]


#: ``forecaster(twin, plan) -> result``: runs a forecast on (a copy of) the twin under
#: the duty plan (None: the forecaster's default) and returns a mapping following
#: :data:`twin.contract.FORECAST_RESULT_SCHEMA`. The service publishes it.
Forecaster = Callable[[Any, DutyPlan | None], Mapping[str, Any]]


def default_forecaster() -> Forecaster | None:
    """Return the forecaster ``twin serve`` uses: the forecast package's, once it exists."""
    return None


@dataclasses.dataclass(frozen=True, slots=True)
class ServiceSettings:
    """Per-component service settings (config section ``[service]``).

    Attributes
    ----------
    forecast_every : float
        Plant time between scheduled forecasts, s (``forecast_every_h``; 0: never).
    alerts : AlertSettings
        ``[service.alerts]``.
    """

    forecast_every: float = 30 * 86_400.0
    alerts: AlertSettings = dataclasses.field(default_factory=AlertSettings)


def parse_service_settings(section: Mapping[str, Any] | None) -> ServiceSettings:
    """Read the ``[service]`` section of a component config.

    Raises
    ------
    TwinConfigError
        On an unknown key or a bad value (named).
    """
    sec = dict(section or {})
    unknown = sorted(set(sec) - {"forecast_every_h", "alerts"})
    if unknown:
        raise TwinConfigError(
            f"service: unknown keys {unknown}; known keys are ['alerts', 'forecast_every_h']"
        )
    every = sec.get("forecast_every_h", 720.0)
    if isinstance(every, bool) or not isinstance(every, int | float) or not every >= 0:
        raise TwinConfigError(f"service.forecast_every_h: must be a number >= 0, got {every!r}")
    return ServiceSettings(float(every) * 3600.0, parse_alert_settings(sec.get("alerts")))


@dataclasses.dataclass(frozen=True, slots=True)
class ComponentSpec:
    """One component to serve: its config, where it was read from, its twin's seed."""

    config: Any
    config_path: pathlib.Path
    seed: int = 0


@dataclasses.dataclass(frozen=True)
class ServiceOptions:
    """How ``twin serve`` runs (see ``twin serve --help`` for each option).

    ``archive_dir`` holds ``{site}/{component}.zarr`` per component; ``state_dir`` the
    state directories. With ``replay`` set, the archives under it are replayed at
    ``speed`` times plant time (None: as fast as possible) and everything is published
    under ``replay/...``; nothing is ingested or checkpointed.
    """

    broker: Any
    archive_dir: pathlib.Path | None = None
    state_dir: pathlib.Path | None = None
    prefix: str = "plant"
    publish_interval: float = 1.0
    checkpoint_interval: float = 60.0
    flush_interval: float = 0.1
    receive_maximum: int = 10_000
    max_command_bytes: int = MAX_COMMAND_BYTES
    connect_timeout: float = 10.0
    dedupe_rows: int | None = 1_000_000
    forecaster: Forecaster | None = None
    replay: pathlib.Path | None = None
    speed: float | None = None
    surrogates: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def root(self) -> str:
        """Topic root: ``twin``, or ``replay/twin`` in a replay."""
        return REPLAY_ROOT if self.replay is not None else LIVE_ROOT


def archive_path(folder: pathlib.Path, site: str, component: str) -> pathlib.Path:
    """``{folder}/{site}/{component}.zarr``: a component's archive in ``--archive``."""
    return pathlib.Path(folder) / site / f"{component}.zarr"


def _surrogate_path(cfg: Any, config_path: pathlib.Path) -> pathlib.Path:
    section = cfg.sections.get("twin") or {}
    if section.get("surrogate"):
        return (config_path.parent / str(section["surrogate"])).resolve()
    return config_path.with_name(f"{config_path.stem}.surrogate").resolve()


def _json(doc: Any) -> bytes:
    return orjson.dumps(doc, option=orjson.OPT_SERIALIZE_NUMPY)


class ComponentService(CommandHandlers):
    """The shell of one component: core, state directory, MQTT client, ingester.

    Built and driven by :class:`TwinService`; the methods run in the ingester's
    thread (:meth:`on_durable`), the housekeeping thread (:meth:`tick`, commands) and
    the forecast worker, serialised by :attr:`lock`.
    """

    def __init__(self, spec: ComponentSpec, options: ServiceOptions, forecasts: queue.Queue[Any]):
        self.spec = spec
        self.options = options
        cfg = spec.config
        self.site, self.component = str(cfg.component.site), str(cfg.component.name)
        self.topics = Topics(self.site, self.component, options.root)
        self.settings = parse_service_settings(cfg.sections.get("service"))
        self.live = options.replay is None
        self.lock = threading.RLock()
        self.forecasts = forecasts
        self.counters: Counter[str] = Counter()
        self.refusals: Counter[str] = Counter()
        self.core: ComponentCore | None = None
        self.statedir = StateDir(options.state_dir, self.site, self.component) if (
            self.live and options.state_dir is not None) else None
        self.client: Any = None
        self.ingester: Any = None
        self.online = False
        self.connections = 0
        self.dirty = False
        self.last_publish = -math.inf
        self.last_checkpoint = (-1, -1)
        self.last_checkpoint_wall = time.monotonic()
        self.last_rows_wall = time.monotonic()
        self.stale_stream = False
        self.journal_n = 0
        self.plan: DutyPlan | None = None
        self.next_forecast = math.inf
        self.forecast_pending = False
        self.archive: pathlib.Path | None = None
        self._unacked: list[tuple[int, float]] = []  # alert message ids and send times
        self._acked: dict[int, float] = {}
        self.error: BaseException | None = None

    # ------------------------------------------------------------ start
    def connect(self) -> None:
        """Connect this component's MQTT client (Last Will: offline); raise on failure."""
        from sensors.mqtt import connect_client, make_client

        b = self.options.broker
        self.client, props = make_client(b, client_id=f"twin-serve-{self.site}-{self.component}")
        self.client.will_set(self.topics.status, self._status("offline", "connection_lost"),
                             qos=1, retain=True)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_publish = self._on_publish
        connect_client(self.client, b, props, timeout=self.options.connect_timeout,
                       clean_start=True if b.protocol == "5" else None)

    def _status(self, status: str, reason: str) -> bytes:
        return _json({
            "schema_version": 1, "site": self.site, "component": self.component,
            "status": status, "reason": reason, "mode": "live" if self.live else "replay",
            "since": time.time(), "connections": self.connections, "pid": os.getpid(),
            "host": socket.gethostname(),
            "package_version": self.core._model["package_version"] if self.core else "unknown",
        })

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            return
        self.connections += 1
        client.subscribe(self.topics.command_filter, qos=1)
        if self.online:  # a reconnect after a lost broker: say so, re-send what is retained
            _log.info("%s: reconnected to the broker (connection %d)", self.topics.base,
                      self.connections)
            client.publish(self.topics.status, self._status("online", "reconnected"), qos=1,
                           retain=True)
            self.dirty = True

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        props = getattr(msg, "properties", None)
        rt = getattr(props, "ResponseTopic", None) if props is not None else None
        corr = getattr(props, "CorrelationData", None) if props is not None else None
        self.commands_in.put((self, msg.topic, bytes(msg.payload), rt, corr))

    commands_in: queue.Queue[Any]

    def build(self, surrogates: dict[str, Any]) -> None:
        """Build or restore the twin and the core; lock the state directory."""
        from twin.state import Twin

        cfg, path = self.spec.config, self.spec.config_path
        key = str(_surrogate_path(cfg, path))
        sur = surrogates.get(key)

        def fresh() -> Any:
            nonlocal sur
            twin = Twin.from_config(cfg, seed=self.spec.seed, surrogate=sur, config_path=path)
            if sur is None:
                sur = surrogates[key] = twin.model.surrogate
            twin.surrogate_path = key
            return twin

        if self.statedir is not None:
            self.statedir.lock()
        twin0 = fresh()
        restored = None
        if self.statedir is not None:
            def build(ck: pathlib.Path) -> ComponentCore:
                twin = Twin.restore(ck, config=cfg, surrogate=sur)
                twin.surrogate_path = key
                core = ComponentCore(twin, alerts=self.settings.alerts)
                core.load_state_dict(orjson.loads((ck / "core.json").read_bytes()))
                return core

            restored = self.statedir.restore(build)
        if restored is not None:
            self.core, where = restored
            self.last_checkpoint = (self.core.offset, self.core.journal_applied)
            _log.info("%s: restored %s (archive offset %d)", self.topics.base, where.name,
                      self.core.offset)
        else:
            self.core = ComponentCore(twin0, alerts=self.settings.alerts)
        if self.statedir is not None:
            entries = self.statedir.read_journal()
            self.journal_n = max((int(e["n"]) for e in entries), default=0)
            self.core.set_pending(entries)
            doc = self.statedir.read_plan()
            if doc is not None:
                self.plan = DutyPlan(int(doc["version"]), dict(doc["plan"]))
        self._schedule_forecast()

    def _schedule_forecast(self) -> None:
        assert self.core is not None
        every = self.settings.forecast_every
        t = self.core.twin.time
        if every > 0 and self.options.forecaster is not None and not math.isnan(t):
            self.next_forecast = (math.floor(t / every) + 1) * every

    def catch_up(self, source: pathlib.Path) -> int:
        """Feed the archive's rows beyond the core's offset; return how many."""
        from sensors.reader import ArchiveReader, committed_count

        assert self.core is not None
        if not (source / "_commit.json").exists():
            return 0
        reader = ArchiveReader(source)
        first = self.core.offset
        end = committed_count(source)
        while self.core.offset < end:
            rows = reader.read(self.core.offset, min(end, self.core.offset + _CHUNK))
            with self.lock:
                self._publish_alerts(self.core.feed(rows))
        return end - first

    def go_online(self) -> None:
        """Publish status online, re-send open alerts, publish the state."""
        assert self.core is not None
        with self.lock:
            self.online = True
            self.client.publish(self.topics.status, self._status("online", "started"), qos=1,
                                retain=True)
            self._publish_alerts(self.core.book.messages())
            self.publish_state()

    def start_ingest(self) -> None:
        """Create and start the ingester (after :meth:`catch_up` from its archive)."""
        from sensors.catalogue import parse_catalogue
        from sensors.ingest import Ingester

        assert self.archive is not None
        catalogue = parse_catalogue(self.spec.config.to_dict())
        self.ingester = Ingester(
            catalogue, self.archive, broker=self.options.broker,
            client_id=f"twin-serve-ingest-{self.site}-{self.component}",
            prefix=self.options.prefix, flush_interval=self.options.flush_interval,
            receive_maximum=self.options.receive_maximum, on_durable=self.on_durable,
            connect_timeout=self.options.connect_timeout, dedupe_rows=self.options.dedupe_rows,
        )

    # ------------------------------------------------------------ live
    def on_durable(self, batch: Any) -> None:
        """Feed the core from the ingester's durable hook (holes are read from the archive)."""
        assert self.core is not None
        with self.lock:
            self.last_rows_wall = time.monotonic()
            if self.stale_stream:
                self._journal_condition("stale_stream", False, None)
            try:
                events = self.core.feed(batch)
            except GapError:
                self.catch_up(self.archive)  # type: ignore[arg-type]
                events = self.core.feed(batch)
            self._publish_alerts(events)
            self.dirty = True
            self._maybe_forecast()
            self.maybe_publish_state()

    def _maybe_forecast(self) -> None:
        assert self.core is not None
        t = self.core.twin.time
        if math.isnan(t):
            return
        if self.next_forecast == math.inf:  # the first assimilated block: start the schedule
            self._schedule_forecast()
        elif t >= self.next_forecast:
            self._schedule_forecast()
            self.request_forecast("schedule", None)

    def request_forecast(self, trigger: str, request: Request | None) -> bool:
        """Queue a forecast on a copy of the twin; False if one is already queued."""
        from twin.state import Twin

        assert self.core is not None
        if self.forecast_pending and request is None:
            return False
        twin = self.core.twin
        clone = Twin.from_config(twin.config, seed=0, surrogate=twin.model.surrogate)
        clone.surrogate_path = twin.surrogate_path
        clone.load_state_dict(copy.deepcopy(twin.state_dict()))
        self.forecast_pending = True
        self.forecasts.put((self, clone, trigger, request, self.plan, self.core.offset))
        return True

    def run_forecast(self, clone: Any, trigger: str, request: Request | None,
                     plan: DutyPlan | None, offset: int) -> None:
        """Run one forecast (forecast worker thread), publish it and its alert."""
        forecaster = self.options.forecaster
        assert forecaster is not None
        try:
            result = dict(forecaster(clone, plan))
            err = check(FORECAST_RESULT_SCHEMA, result, "forecast")
            if err:
                raise TwinError(f"the forecaster returned an invalid result: {err}")
        except Exception as exc:  # a failed forecast must not stop the service
            _log.exception("%s: forecast failed", self.topics.base)
            with self.lock:
                self.forecast_pending = False
            if request is not None:
                self._respond(request, ok=False, reason="failed", detail=f"forecast failed: {exc}")
            return
        t = float(clone.time)
        doc = {
            "schema_version": 1, "site": self.site, "component": self.component,
            "time": None if math.isnan(t) else t, "archive_offset": offset,
            "duty_plan_version": plan.version if plan else 0, "trigger": trigger,
            "computed_at": time.time(), "result": result,
        }
        with self.lock:
            self.forecast_pending = False
            self.client.publish(self.topics.forecast, _json(doc), qos=1, retain=True)
            p05 = float(result["remaining_life_years"]["p05"])
            limit = self.settings.alerts.remaining_life_p05_years
            self._journal_condition("remaining_life", p05 < limit, p05, limit,
                                    f"forecast remaining life P05 is {p05:.3g} years "
                                    f"(limit {limit:g})")
        if request is not None:
            self._respond(request, ok=True, time=doc["time"], archive_offset=offset,
                          remaining_life_years=result["remaining_life_years"])

    def _journal_condition(self, kind: str, active: bool, value: float | None,
                           threshold: float | None = None, message: str = "") -> None:
        """Journal an outside condition (stale stream, forecast life) when it changes."""
        assert self.core is not None
        subject = "stream" if kind == "stale_stream" else "life"
        if kind == "stale_stream":
            self.stale_stream = active
            threshold = self.settings.alerts.stale_after_s
            message = message or f"no readings for {value or 0:.0f} s of wall time"
        alert = self.core.book.open.get(f"{kind}/{subject}")
        if active and alert is not None and alert["state"] != "cleared":
            return
        if not active and (alert is None or alert["state"] == "cleared"):
            return
        self._journal({
            "n": self.journal_n + 1, "offset": self.core.offset, "kind": "condition",
            "condition": {"kind": kind, "subject": subject, "active": active, "value": value,
                          "threshold": threshold, "message": message},
        })

    def _journal(self, entry: dict[str, Any]) -> list[dict[str, Any]]:
        assert self.core is not None
        if self.statedir is not None:
            self.statedir.append_journal(entry)
        self.journal_n = int(entry["n"])
        events = self.core.apply(entry)
        self._publish_alerts(events)
        self.dirty = True
        return events

    def _publish_alerts(self, events: list[dict[str, Any]]) -> None:
        for msg in events:
            info = self.client.publish(self.topics.alert, _json(msg), qos=1)
            self._unacked.append((info.mid, time.monotonic()))

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason: Any, props: Any) -> None:
        self._acked[mid] = time.monotonic()  # the broker's PUBACK (network thread)

    def _alerts_delivered(self, timeout: float) -> bool:
        """Wait until the broker acknowledged every alert published so far.

        A checkpoint is written only then: a transition the checkpoint covers is never
        generated again by a replay, so it must have reached the broker. (A message
        published while the connection was down is sent on reconnection; its PUBACK is
        recognised by message id and time.)
        """
        deadline = time.monotonic() + timeout
        while self._unacked:
            mid, sent = self._unacked[0]
            if self._acked.get(mid, -math.inf) >= sent:
                self._unacked.pop(0)
                continue
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        old = time.monotonic() - 600.0
        for mid, t in list(self._acked.items()):
            if t < old:
                self._acked.pop(mid, None)
        return True

    def state_payload(self) -> bytes:
        """Encode the state message, with this process's counters."""
        assert self.core is not None
        doc = self.core.state_message()
        doc["duty_plan_version"] = self.plan.version if self.plan else 0
        doc["service"] = {"commands": dict(self.counters), "refusals": dict(self.refusals),
                          "published_at": time.time()}
        return _json(doc)

    def publish_state(self) -> None:
        """Publish the retained state now."""
        with self.lock:
            self.client.publish(self.topics.state, self.state_payload(), qos=1, retain=True)
            self.last_publish = time.monotonic()
            self.dirty = False

    def maybe_publish_state(self) -> None:
        """Publish the state if it changed and the interval has passed."""
        with self.lock:
            if self.dirty and time.monotonic() - self.last_publish >= \
                    self.options.publish_interval:
                self.publish_state()

    def checkpoint(self) -> pathlib.Path | None:
        """Write a checkpoint if the state moved since the last one."""
        if self.statedir is None or self.core is None:
            return None
        with self.lock:
            mark = (self.core.offset, self.core.journal_applied)
            self.last_checkpoint_wall = time.monotonic()
            if mark == self.last_checkpoint:
                existing = self.statedir.list_checkpoints()
                return existing[0] if existing else None
            if not self._alerts_delivered(timeout=5.0):
                _log.warning("%s: alerts not yet acknowledged by the broker; checkpoint "
                             "postponed", self.topics.base)
                return None
            path: pathlib.Path = self.statedir.write_checkpoint(self.core)
            self.last_checkpoint = mark
            return path

    def tick(self) -> None:
        """Housekeeping: deferred state, checkpoint schedule, stale stream."""
        now = time.monotonic()
        self.maybe_publish_state()
        if self.statedir is not None and now - self.last_checkpoint_wall >= \
                self.options.checkpoint_interval:
            self.checkpoint()
        stale = self.settings.alerts.stale_after_s
        if self.live and self.online and not self.stale_stream and \
                now - self.last_rows_wall > stale:
            with self.lock:
                self._journal_condition("stale_stream", True, now - self.last_rows_wall)

    # ------------------------------------------------------------ stop
    def shutdown(self, *, reason: str = "shutdown") -> None:
        """Write a final checkpoint, publish offline, disconnect (the ingester is stopped first)."""
        if self.core is not None and self.client is not None:
            with self.lock:
                if self.dirty or self.last_publish == -math.inf:
                    self.publish_state()
            self.checkpoint()
        if self.client is not None:
            info = self.client.publish(self.topics.status, self._status("offline", reason), qos=1,
                                       retain=True)
            try:
                info.wait_for_publish(timeout=5.0)
            except (RuntimeError, ValueError):
                pass
            self.client.disconnect()
            self.client.loop_stop()
        if self.statedir is not None:
            self.statedir.release()
