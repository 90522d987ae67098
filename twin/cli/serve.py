"""``twin serve``: run live component twins over MQTT (or replay archives through them)."""

from __future__ import annotations

import contextlib
import json
import logging
import pathlib
import signal
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import click

from twin.cli.sensors import (
    EXIT_BROKER,
    EXIT_FAILURE,
    EXIT_LOCKED,
    EXIT_REFUSED,
    EXIT_STORAGE,
    _tls_options,
)

__all__ = ["serve"]


class _JsonLines(logging.Formatter):
    """One JSON object per log record: time, level, logger, message (and the traceback)."""

    def format(self, record: logging.LogRecord) -> str:
        doc = {
            "time": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            doc["traceback"] = self.formatException(record.exc_info)
        return json.dumps(doc)


def _logging(verbose: int, quiet: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonLines())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING if quiet else logging.DEBUG if verbose > 1 else logging.INFO)
    for noisy in ("amqtt", "transitions", "numba"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@contextlib.contextmanager
def _errors(verbose: int) -> Iterator[None]:
    """Package, network and OS errors as one line on stderr with a distinct exit code."""
    from models.errors import ConfigError
    from sensors.errors import (
        BrokerError,
        BrokerRefusedError,
        LockedError,
        SensorsError,
        StorageError,
    )
    from surrogates.errors import SurrogateError
    from twin.errors import TwinError

    try:
        yield
    except (ConfigError, TwinError, SurrogateError, SensorsError, OSError) as err:
        if verbose:
            logging.getLogger("twin.serve").exception("twin serve failed")
        code = EXIT_FAILURE
        if isinstance(err, LockedError):
            code = EXIT_LOCKED
        elif isinstance(err, StorageError):
            code = EXIT_STORAGE
        elif isinstance(err, BrokerRefusedError):
            code = EXIT_REFUSED
        elif isinstance(err, BrokerError):
            code = EXIT_BROKER
        text = str(err).replace("\n", "; ")
        click.echo(f"twin serve: error: {text}", err=True)
        sys.exit(code)


def _speed(text: str) -> float | None:
    if text == "max":
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise click.BadParameter(f"must be a number > 0 or 'max', got {text!r}",
                                 param_hint="--speed")
    return value


@click.command()
@click.argument("configs", nargs=-1, type=click.Path(exists=True, dir_okay=False,
                                                     path_type=pathlib.Path))
@click.option("--fleet", type=click.Path(exists=True, dir_okay=False, path_type=pathlib.Path),
              default=None, help="Fleet file assigning components to partitions.")
@click.option("--partition", default=None, help="Partition of --fleet this process serves.")
@click.option("--broker", default=None,
              help="Broker URL mqtt[s]://[user[:password]@]host[:port][?protocol=3.1.1]; "
              "without it an embedded amqtt broker is started (MQTT 3.1.1).")
@click.option("--embedded-port", default=1883, show_default=True,
              help="Port of the embedded broker.")
@click.option("--archive", "archive_dir", type=click.Path(file_okay=False, path_type=pathlib.Path),
              default=None, help="Folder of the archives, {site}/{component}.zarr.")
@click.option("--state", "state_dir", type=click.Path(file_okay=False, path_type=pathlib.Path),
              default=None, help="Folder of the state directories (checkpoints, journal).")
@click.option("--replay", type=click.Path(exists=True, file_okay=False, path_type=pathlib.Path),
              default=None, help="Replay this archive (or folder of archives) under replay/...")
@click.option("--speed", default="max", show_default=True,
              help="Replay pace: k times plant time, or 'max'.")
@click.option("--prefix", default="plant", show_default=True, help="Readings topic prefix.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the twins given as CONFIG (a fleet file sets its own).")
@click.option("--publish-interval", type=click.FloatRange(0.0), default=1.0, show_default=True,
              help="At most one state message per component per this many s.")
@click.option("--checkpoint-interval", type=click.FloatRange(0.0, min_open=True), default=60.0,
              show_default=True, help="Checkpoint every this many s of wall time.")
@click.option("--flush-interval", type=click.FloatRange(0.0, min_open=True), default=0.1,
              show_default=True, help="Longest archive buffering of the ingesters, s.")
@click.option("--receive-maximum", type=click.IntRange(1, 65535), default=10_000,
              show_default=True, help="MQTT 5 Receive Maximum of the ingesters.")
@click.option("--max-command-bytes", type=click.IntRange(1), default=65_536, show_default=True,
              help="Largest command payload accepted.")
@click.option("--connect-timeout", type=click.FloatRange(0.1), default=10.0, show_default=True,
              help="Longest wait for the broker at start, s.")
@click.option("--dedupe-rows", type=click.IntRange(0), default=1_000_000, show_default=True,
              help="Rebuild each ingester's duplicate check from the last N archived rows "
              "(bounds the restart time of a long archive; 0: all rows).")
@click.option("--duration", type=float, default=None, help="Stop after this many seconds.")
@click.option("-v", "--verbose", count=True, help="More log (-vv: debug); tracebacks on errors.")
@click.option("-q", "--quiet", is_flag=True, help="Warnings and errors only.")
@_tls_options
def serve(configs: tuple[pathlib.Path, ...], fleet: pathlib.Path | None, partition: str | None,
          broker: str | None, embedded_port: int, archive_dir: pathlib.Path | None,
          state_dir: pathlib.Path | None, replay: pathlib.Path | None, speed: str, prefix: str,
          seed: int, publish_interval: float, checkpoint_interval: float, flush_interval: float,
          receive_maximum: int, max_command_bytes: int, connect_timeout: float,
          dedupe_rows: int, duration: float | None, verbose: int, quiet: bool, **tls: Any) -> None:
    """Serve the twins of the components in CONFIG... (and/or a --fleet partition).

    Readings become durable in --archive, then reach each twin; state, forecast,
    alerts and status are published under twin/{site}/{component}/ (docs/mqtt.md).
    With --replay, recorded archives are fed instead and published under replay/.
    """
    _logging(verbose, quiet)
    pace = _speed(speed)
    if replay is None and (archive_dir is None or state_dir is None):
        raise click.UsageError("--archive and --state are required (unless --replay)")
    if replay is not None and archive_dir is not None:
        raise click.UsageError("--replay reads recorded archives; leave out --archive")
    if partition is not None and fleet is None:
        raise click.UsageError("--partition needs --fleet")
    with _errors(verbose):
        from sensors.broker import EmbeddedBroker
        from sensors.errors import BrokerError
        from twin.partition import load_fleet, load_specs
        from twin.server import TwinService
        from twin.service import ServiceOptions, default_forecaster

        specs = load_specs(configs, seed=seed)
        if fleet is not None:
            specs += load_fleet(fleet, partition)
        embedded = None
        if broker is None:
            embedded = EmbeddedBroker(port=embedded_port).start()
            broker = embedded.url
            logging.getLogger("twin.serve").info("embedded broker listening on %s", broker)
        try:
            settings = _broker_settings(broker, tls)
        except BrokerError:
            if embedded is not None:
                embedded.stop()
            raise
        options = ServiceOptions(
            broker=settings, archive_dir=archive_dir, state_dir=state_dir, prefix=prefix,
            publish_interval=publish_interval, checkpoint_interval=checkpoint_interval,
            flush_interval=flush_interval, receive_maximum=receive_maximum,
            max_command_bytes=max_command_bytes, connect_timeout=connect_timeout,
            dedupe_rows=dedupe_rows or None, forecaster=default_forecaster(), replay=replay,
            speed=pace,
        )
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        t0 = time.monotonic()
        try:
            service = TwinService(specs, options)
            summary = service.serve(stop=stop, duration=duration)
        finally:
            if embedded is not None:
                embedded.stop()
        click.echo(json.dumps({"elapsed_s": round(time.monotonic() - t0, 3),
                               "components": summary}))


def _broker_settings(url: str, tls: dict[str, Any]) -> Any:
    from sensors.errors import BrokerError
    from sensors.mqtt import parse_broker_url

    password_file = tls.pop("password_file", None)
    if password_file is not None:
        if tls.get("password") is not None:
            raise BrokerError("--password-file: give the password once (--password or the file)")
        with open(password_file, encoding="utf-8") as fh:
            tls["password"] = fh.readline().rstrip("\r\n")
    return parse_broker_url(url, **tls)
