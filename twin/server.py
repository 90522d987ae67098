"""One ``twin serve`` process: its components, their start order, threads and replay.

:class:`TwinService` starts its components in the order that makes a restart exact:

1. connect every component's MQTT client (a bad URL, password or CA fails here, before
   anything heavy, with one error naming the URL and the cause);
2. build or restore each twin (one mode surrogate per file, shared by its twins);
3. per component, open the archive (the ingester's writer lock), replay it from the
   restored offset, then publish ``online``, the open alerts and the state;
4. start the ingesters (one thread each; the durable hook feeds the core).

The calling thread then runs the housekeeping loop (commands, deferred state
publication, checkpoints, stale stream); one worker thread runs forecasts. With
``ServiceOptions.replay`` set, step 3-4 become a paced replay of recorded archives
published under ``replay/...``.
"""

from __future__ import annotations

import logging
import math
import pathlib
import queue
import threading
import time
import types
from collections.abc import Sequence
from typing import Any

import numpy as np

from twin.errors import TwinConfigError
from twin.service import ComponentService, ComponentSpec, ServiceOptions, archive_path

__all__ = ["TwinService"]

_log = logging.getLogger(__name__)
_TICK = 0.02


class TwinService:
    """The components of one process (see the module docstring).

    Parameters
    ----------
    specs : sequence of ComponentSpec
        Components to serve (distinct site/component pairs).
    options : ServiceOptions
        Broker, folders, intervals, forecaster, replay.
    """

    def __init__(self, specs: Sequence[ComponentSpec], options: ServiceOptions) -> None:
        names = [(s.config.component.site, s.config.component.name) for s in specs]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise TwinConfigError(f"CONFIG: components given twice: {dupes}")
        if not specs:
            raise TwinConfigError("CONFIG: no component to serve; give configs or --fleet")
        self.options = options
        self.forecasts: queue.Queue[Any] = queue.Queue()
        self.commands: queue.Queue[Any] = queue.Queue()
        self.components = [ComponentService(s, options, self.forecasts) for s in specs]
        for c in self.components:
            c.commands_in = self.commands
        self.stop_event = threading.Event()
        self._ingest_stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.error: BaseException | None = None
        self.started = False

    # ------------------------------------------------------------ start
    def start(self) -> None:
        """Run steps 1-4 of the module docstring (live), or 1-2 for a replay."""
        for c in self.components:
            c.connect()
        for c in self.components:
            c.build(self.options.surrogates)
        threading.Thread(target=self._forecast_worker, name="forecasts", daemon=True).start()
        if self.options.replay is not None:
            for c in self.components:
                c.go_online()
            self.started = True
            return
        assert self.options.archive_dir is not None
        for c in self.components:
            c.archive = archive_path(self.options.archive_dir, c.site, c.component)
            c.start_ingest()
            n = c.catch_up(c.archive)
            _log.info("%s: replayed %d archived readings from offset %d", c.topics.base, n,
                      c.core.offset - n if c.core else 0)
            c.go_online()
        for c in self.components:
            c.ingester.start()
            t = threading.Thread(target=self._ingest, args=(c,), name=f"ingest-{c.component}",
                                 daemon=True)
            t.start()
            self._threads.append(t)
        self.started = True

    def _ingest(self, c: ComponentService) -> None:
        try:
            c.ingester.serve(stop=self._ingest_stop)
        except BaseException as err:  # reported by serve()
            c.error = err
            self.error = self.error or err
            self.stop_event.set()

    def _forecast_worker(self) -> None:
        while True:
            job = self.forecasts.get()
            if job is None:
                return
            comp, clone, trigger, request, plan, offset = job
            comp.run_forecast(clone, trigger, request, plan, offset)

    # ------------------------------------------------------------ run
    def _housekeeping(self) -> None:
        while True:
            try:
                comp, topic, payload, rt, corr = self.commands.get_nowait()
            except queue.Empty:
                break
            comp.handle(topic, payload, rt, corr)
        for c in self.components:
            c.tick()

    def serve(self, *, stop: threading.Event | None = None, duration: float | None = None
              ) -> dict[str, Any]:
        """Run until ``stop`` is set, ``duration`` s passed or a replay ends; then stop.

        Returns
        -------
        dict
            Per component: archive offset, readings, open alerts, command counters.

        Raises
        ------
        BaseException
            What ended an ingester (e.g. :class:`sensors.errors.StorageError`), after the
            clean stop.
        """
        stop = stop or self.stop_event
        if not self.started:
            self.start()
        end = time.monotonic() + duration if duration is not None else math.inf
        try:
            if self.options.replay is not None:
                self._replay(stop, end)
            else:
                while not stop.is_set() and not self.stop_event.is_set() and \
                        time.monotonic() < end:
                    self._housekeeping()
                    stop.wait(_TICK)
        finally:
            self.stop()
        if self.error is not None:
            raise self.error
        return self.summary()

    def summary(self) -> dict[str, Any]:
        """Report what each component did (the JSON line ``twin serve`` prints at the end)."""
        out = {}
        for c in self.components:
            if c.core is None:
                continue
            out[c.topics.base] = {
                "archive_offset": c.core.offset,
                "readings": c.core.twin.readings_seen,
                "late_readings": c.core.twin.late_readings,
                "open_alerts": [m["id"] for m in c.core.book.messages()],
                "commands": dict(c.counters),
                "refusals": dict(c.refusals),
            }
        return out

    def stop(self) -> None:
        """Stop the ingesters (they flush and acknowledge), then each component cleanly."""
        self._ingest_stop.set()
        for t in self._threads:
            t.join(timeout=60)
        self._housekeeping()
        reason = "replay_finished" if self.options.replay is not None else "shutdown"
        for c in self.components:
            try:
                c.shutdown(reason=reason)
            except Exception:  # report, and stop the other components all the same
                _log.exception("%s: clean shutdown failed", c.topics.base)
        self.forecasts.put(None)

    # ------------------------------------------------------------ replay
    def _replay_source(self, c: ComponentService) -> pathlib.Path:
        root = pathlib.Path(self.options.replay)  # type: ignore[arg-type]
        if (root / "_commit.json").exists():
            if len(self.components) > 1:
                raise TwinConfigError(
                    f"--replay: {str(root)!r} is one archive; with several configs give a "
                    "folder holding {site}/{component}.zarr"
                )
            return root
        return archive_path(root, c.site, c.component)

    def _replay(self, stop: threading.Event, end: float) -> None:
        from sensors.reader import ArchiveReader, committed_count

        readers, counts = {}, {}
        for c in self.components:
            src = self._replay_source(c)
            readers[c.component] = ArchiveReader(src)
            counts[c.component] = committed_count(src)
        firsts = [float(r.read(0, 1).time[0]) for k, r in readers.items() if counts[k]]
        t0, wall0 = (min(firsts) if firsts else 0.0), time.monotonic()
        speed = self.options.speed
        while not stop.is_set() and time.monotonic() < end:
            cursor = math.inf if speed is None else t0 + speed * (time.monotonic() - wall0)
            fed = False
            for c in self.components:
                assert c.core is not None
                off, n = c.core.offset, counts[c.component]
                if off >= n:
                    continue
                rows = readers[c.component].read(off, min(n, off + 4096))
                take = len(rows) if speed is None else int(np.argmax(
                    np.append(rows.time > cursor, True)))
                if take == 0:
                    continue
                part = types.SimpleNamespace(
                    start=rows.start, stop=rows.start + take, sensor_ids=rows.sensor_ids,
                    sensor=rows.sensor[:take], time=rows.time[:take], value=rows.value[:take],
                    quality=rows.quality[:take])
                with c.lock:
                    c._publish_alerts(c.core.feed(part))
                    c.dirty = True
                    c._maybe_forecast()
                    c.maybe_publish_state()
                fed = True
            self._housekeeping()
            if all(c.core is not None and c.core.offset >= counts[c.component]
                   for c in self.components):
                break
            if not fed:
                stop.wait(_TICK)
        for c in self.components:
            assert c.core is not None
            with c.lock:
                c._publish_alerts(c.core.flush())
                c.publish_state()
