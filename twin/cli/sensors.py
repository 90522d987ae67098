"""``twin ingest``, ``twin publish`` and ``twin archive``: sensor streams from the shell.

Only click and the standard library are imported here; :mod:`sensors` (NumPy, paho,
zarr, xarray) is imported inside the command bodies.
"""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

import click

__all__ = [
    "EXIT_BROKER",
    "EXIT_FAILURE",
    "EXIT_LOCKED",
    "EXIT_REFUSED",
    "EXIT_STORAGE",
    "archive",
    "ingest",
    "publish",
]

#: Exit codes (sysexits.h), so a supervisor can tell what to do.
EXIT_FAILURE = 1  # a clear error in the input or the archive: fix and rerun
EXIT_BROKER = 69  # EX_UNAVAILABLE: the broker cannot be reached (retrying may help)
EXIT_STORAGE = 74  # EX_IOERR: the archive cannot be written (disk full, read-only)
EXIT_LOCKED = 75  # EX_TEMPFAIL: another writer holds the archive
EXIT_REFUSED = 77  # EX_NOPERM: the broker refused the credentials or TLS (retrying cannot)


@contextlib.contextmanager
def _cli_errors(command: str, *, verbose: bool = False) -> Iterator[None]:
    """Turn the package errors into one line on stderr and a distinct exit code."""
    from sensors.errors import (
        ArchiveError,
        BrokerError,
        BrokerRefusedError,
        LockedError,
        SensorsError,
        StorageError,
    )

    try:
        yield
    except (LockedError, StorageError, ArchiveError, BrokerError, SensorsError) as err:
        if verbose:
            logging.getLogger(__name__).exception("twin %s failed", command)
        code = EXIT_FAILURE
        if isinstance(err, LockedError):
            code = EXIT_LOCKED
        elif isinstance(err, StorageError):
            code = EXIT_STORAGE
        elif isinstance(err, BrokerRefusedError):
            code = EXIT_REFUSED
        elif isinstance(err, BrokerError):
            code = EXIT_BROKER
        click.echo(f"twin {command}: error: {err}", err=True)
        sys.exit(code)


_broker_help = (
    "Broker URL mqtt[s]://[user[:password]@]host[:port][?protocol=3.1.1]. "
    "Without it, an embedded amqtt broker is started in-process (MQTT 3.1.1)."
)


def _tls_options(func: Any) -> Any:
    for option in reversed(
        [
            click.option("--username", default=None, help="Broker user name."),
            click.option(
                "--password",
                default=None,
                envvar="TWIN_MQTT_PASSWORD",
                help="Broker password; prefer env TWIN_MQTT_PASSWORD or --password-file "
                "(a command line is visible to other users of the machine).",
            ),
            click.option(
                "--password-file",
                type=click.Path(exists=True, dir_okay=False),
                default=None,
                help="File whose first line is the broker password.",
            ),
            click.option(
                "--ca-certs",
                type=click.Path(exists=True, dir_okay=False),
                default=None,
                help="CA bundle (PEM) for TLS.",
            ),
            click.option(
                "--certfile",
                type=click.Path(exists=True, dir_okay=False),
                default=None,
                help="Client certificate (PEM) for TLS.",
            ),
            click.option(
                "--keyfile",
                type=click.Path(exists=True, dir_okay=False),
                default=None,
                help="Client key (PEM) for TLS.",
            ),
        ]
    ):
        func = option(func)
    return func


def _settings(url: str, **tls: Any) -> Any:
    from sensors.errors import BrokerError
    from sensors.mqtt import parse_broker_url

    password_file = tls.pop("password_file", None)
    if password_file is not None:
        if tls.get("password") is not None:
            raise click.BadParameter(
                "give the password once: --password (or TWIN_MQTT_PASSWORD) or --password-file",
                param_hint="--password-file",
            )
        try:
            with open(password_file, encoding="utf-8") as fh:
                tls["password"] = fh.readline().rstrip("\r\n")
        except OSError as err:
            raise click.BadParameter(
                f"cannot read {password_file!r}: {err.strerror}", param_hint="--password-file"
            ) from err
    try:
        return parse_broker_url(url, **tls)
    except BrokerError as err:
        raise click.BadParameter(str(err), param_hint="--broker") from err


def _epoch(text: str, option: str) -> float:
    """Parse an ISO 8601 date/time (UTC unless it says otherwise) or epoch seconds."""
    import datetime as dt

    try:
        return float(text)
    except ValueError:
        pass
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError as err:
        raise click.BadParameter(
            f"must be an ISO date/time such as 2015-03-01 or epoch seconds, got {text!r}",
            param_hint=option,
        ) from err
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


def _catalogue(config: str) -> Any:
    from sensors.catalogue import load_catalogue
    from sensors.errors import CatalogueError

    try:
        return load_catalogue(config)
    except CatalogueError as err:
        raise click.BadParameter(str(err), param_hint="CONFIG") from err


@click.command()
@click.argument("config", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--archive",
    "archive_path",
    required=True,
    type=click.Path(file_okay=False),
    help="Zarr store of the component's sensor archive (created if missing).",
)
@click.option("--broker", default=None, help=_broker_help)
@click.option(
    "--embedded-port",
    default=1883,
    show_default=True,
    help="Port of the embedded broker (when --broker is not given).",
)
@click.option("--prefix", default="plant", show_default=True, help="Topic prefix.")
@click.option("--client-id", default=None, help="Fixed MQTT client id of the persistent session.")
@click.option("--qos", type=click.IntRange(0, 1), default=1, show_default=True)
@click.option("--flush-interval", default=0.1, show_default=True, help="Longest buffering, s.")
@click.option("--flush-rows", default=50_000, show_default=True, help="Readings per flush at most.")
@click.option(
    "--receive-maximum",
    default=10_000,
    show_default=True,
    help="MQTT 5 Receive Maximum (unacknowledged deliveries in flight).",
)
@click.option(
    "--dedupe-rows",
    type=int,
    default=None,
    help="Rebuild the dedupe set from only the last N archived rows (default: all).",
)
@click.option(
    "--earliest-time",
    default="2000-01-01",
    show_default=True,
    help="Earliest reading time accepted (ISO date/time, UTC, or epoch s), e.g. the "
    "commissioning date; earlier readings are dead-lettered as time_before_start.",
)
@click.option("--duration", type=float, default=None, help="Stop after this many seconds.")
@click.option(
    "--retry-forever",
    is_flag=True,
    help="When the broker cannot be reached at start, keep retrying with back-off (for a "
    "service under a supervisor) instead of failing; refused credentials or TLS still fail.",
)
@_tls_options
def ingest(
    config: str,
    archive_path: str,
    broker: str | None,
    embedded_port: int,
    prefix: str,
    client_id: str | None,
    qos: int,
    flush_interval: float,
    flush_rows: int,
    receive_maximum: int,
    dedupe_rows: int | None,
    earliest_time: str,
    duration: float | None,
    retry_forever: bool,
    **tls: Any,
) -> None:
    """Ingest the readings of the component in CONFIG into the archive until stopped.

    Messages are acknowledged to the broker only once their readings are durable in
    the archive; bad readings go to {prefix}/_deadletter/{site}/{component}.
    """
    from sensors.broker import EmbeddedBroker
    from sensors.ingest import Ingester

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    catalogue = _catalogue(config)
    earliest = _epoch(earliest_time, "--earliest-time")
    embedded = None
    if broker is None:
        embedded = EmbeddedBroker(port=embedded_port).start()
        broker = embedded.url
        click.echo(f"embedded broker listening on {broker}", err=True)
    settings = _settings(broker, **tls)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        with _cli_errors("ingest"):
            ingester = Ingester(
                catalogue,
                archive_path,
                broker=settings,
                client_id=client_id,
                prefix=prefix,
                qos=qos,
                flush_interval=flush_interval,
                flush_rows=flush_rows,
                receive_maximum=receive_maximum,
                dedupe_rows=dedupe_rows,
                earliest_time=earliest,
                retry_forever=retry_forever,
            )
            click.echo(
                f"ingesting {ingester.topic} -> {archive_path} "
                f"({ingester.archive.n_readings} readings already archived)",
                err=True,
            )
            stats = ingester.serve(stop=stop, duration=duration, status_every=10.0)
    finally:
        if embedded is not None:
            embedded.stop()
    click.echo(json.dumps(stats.as_dict()))


@click.command()
@click.argument("config", type=click.Path(exists=True, dir_okay=False))
@click.option("--broker", required=True, help="Broker URL mqtt[s]://host:port[?protocol=3.1.1].")
@click.option(
    "--from-archive",
    type=click.Path(exists=True, file_okay=False),
    default=None,
    help="Replay a sensor archive (SI units) instead of synthetic signals.",
)
@click.option(
    "--duration",
    type=float,
    default=60.0,
    show_default=True,
    help="Length of the synthetic recording, s.",
)
@click.option(
    "--rate-scale",
    type=float,
    default=1.0,
    show_default=True,
    help="Multiplier on every sensor's nominal rate (synthetic).",
)
@click.option(
    "--speed",
    default="1",
    show_default=True,
    help="1 = real time, k = k times real time, 'max' = as fast as possible.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(1, 100_000),
    default=1,
    show_default=True,
    help="Readings per payload (1 = single-reading payloads).",
)
@click.option("--qos", type=click.IntRange(0, 1), default=1, show_default=True)
@click.option("--prefix", default="plant", show_default=True, help="Topic prefix.")
@click.option(
    "--linger",
    type=float,
    default=1.0,
    show_default=True,
    help="Stay connected this long after the last acknowledgement, s (amqtt needs it).",
)
@click.option("--stamp-now", is_flag=True, help="Stamp readings with the wall clock at sending.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the fault RNG.")
@click.option("--noise", type=float, default=0.0, help="Noise std, fraction of valid range.")
@click.option("--dropout", type=float, default=0.0, help="Probability of a lost reading.")
@click.option("--spike", type=float, default=0.0, help="Probability of a spike.")
@click.option("--drift-per-hour", type=float, default=0.0, help="Drift, fraction of range per h.")
@click.option(
    "--stuck", type=float, default=0.0, help="Probability of a stuck-at episode per sensor."
)
@_tls_options
def publish(
    config: str,
    broker: str,
    from_archive: str | None,
    duration: float,
    rate_scale: float,
    speed: str,
    batch_size: int,
    qos: int,
    prefix: str,
    linger: float,
    stamp_now: bool,
    seed: int,
    noise: float,
    dropout: float,
    spike: float,
    drift_per_hour: float,
    stuck: float,
    **tls: Any,
) -> None:
    """Publish readings for the component in CONFIG: synthetic signals or a recording."""
    import numpy as np
    from tqdm import tqdm

    from sensors.archive import open_archive
    from sensors.publish import (
        Faults,
        apply_faults,
        publish_readings,
        synthetic_readings,
        timeline_start,
    )

    catalogue = _catalogue(config)
    settings = _settings(broker, **tls)
    try:
        pace = None if speed == "max" else float(speed)
    except ValueError as err:
        raise click.BadParameter(
            f"must be a number > 0 or 'max', got {speed!r}", param_hint="--speed"
        ) from err
    rng = np.random.default_rng(seed)
    if from_archive:
        with _cli_errors("publish"):
            recording = open_archive(from_archive).load()
    else:
        # Never ahead of the clock: paced at k x real time, the last reading is "now"
        # when it is sent (a timeline starting now ran ahead: time_in_future).
        start = timeline_start(duration=duration, speed=pace)
        recording = synthetic_readings(
            catalogue, duration=duration, start_time=start, rng=rng, rate_scale=rate_scale
        )
    try:
        faults = Faults(
            noise=noise, dropout=dropout, spike=spike, drift_per_hour=drift_per_hour, stuck=stuck
        )
    except ValueError as err:
        raise click.BadParameter(str(err)) from err
    if faults != Faults():
        recording = apply_faults(recording, catalogue, faults=faults, rng=rng)
    from sensors.errors import PublishError

    def report(stats: Any) -> None:
        # Only what the broker acknowledged (at QoS 0: what was sent).
        click.echo(
            json.dumps(
                {
                    "messages": stats.messages,
                    "readings": stats.readings,
                    "elapsed_s": round(stats.elapsed, 3),
                    "dead_letters": dict(stats.dead_letters),
                }
            )
        )

    with _cli_errors("publish"):
        try:
            with tqdm(total=recording.sizes["reading"], unit="reading", disable=None) as bar:
                stats = publish_readings(
                    recording,
                    catalogue,
                    broker=settings,
                    prefix=prefix,
                    speed=pace,
                    batch_size=batch_size,
                    qos=qos,
                    stamp_now=stamp_now,
                    linger=linger,
                    progress=bar.update,
                )
        except PublishError as err:
            report(err.stats)
            raise
    report(stats)
    clock_letters = {r: n for r, n in stats.dead_letters.items() if r.startswith("time_") and n}
    if clock_letters:
        click.echo(
            f"twin publish: error: the ingester dead-lettered {sum(clock_letters.values())} "
            f"of these readings for their time ({clock_letters}): the publisher's clock or "
            "timeline disagrees with the ingester's; check both clocks (or --stamp-now)",
            err=True,
        )
        sys.exit(EXIT_FAILURE)


@click.group()
def archive() -> None:
    """Inspect a sensor archive; requeue its dead letters."""


@archive.command()
@click.argument("path", type=click.Path(exists=True, file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option(
    "--gap-factor",
    default=3.0,
    show_default=True,
    help="A gap is longer than this many nominal sampling periods.",
)
def info(path: str, as_json: bool, gap_factor: float) -> None:
    """Print counts, time span, gaps and dead-letter summary of the archive at PATH."""
    import datetime as dt

    from sensors.archive import archive_info
    from sensors.errors import ArchiveError

    try:
        summary = archive_info(path, gap_factor=gap_factor)
    except ArchiveError as err:
        raise click.BadParameter(str(err), param_hint="PATH") from err
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return

    def stamp(t: float | None) -> str:
        if t is None:
            return "-"
        return dt.datetime.fromtimestamp(t, tz=dt.UTC).isoformat(timespec="seconds")

    click.echo(
        f"component {summary['component']} at {summary['site']}: "
        f"{summary['readings']} readings in {summary['flushes']} flushes, "
        f"{stamp(summary['first_time'])} .. {stamp(summary['last_time'])}"
    )
    header = ("sensor", "unit", "readings", "gaps", "largest gap s", "missing seq")
    rows = [
        (
            sid,
            entry["unit"] or "-",
            str(entry["readings"]),
            str(entry.get("gaps", 0)),
            f"{entry.get('largest_gap_s', 0.0):.1f}",
            str(entry.get("missing_sequences", 0)),
        )
        for sid, entry in summary["sensors"].items()
    ]
    # Columns as wide as their widest cell, two spaces apart: never run together.
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        cells = [r[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)
        ]
        click.echo("  ".join(cells).rstrip())
    if summary["dead_letters"]:
        click.echo("dead letters:")
        for reason, c in summary["dead_letters"].items():
            click.echo(f"  {reason:<20}{c['letters']:>8} letters {c['readings']:>10} readings")
    else:
        click.echo("dead letters: none")


@archive.command()
@click.argument("path", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--config",
    "config",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="The component config to validate against (the current one).",
)
@click.option(
    "--reason",
    "reasons",
    multiple=True,
    help="Only dead letters with this reason code (repeatable); default all.",
)
@click.option("--prefix", default="plant", show_default=True, help="Topic prefix.")
@click.option(
    "--backwards-tolerance",
    type=float,
    default=86_400.0,
    show_default=True,
    help="How far before its sensor's newest archived reading a reading may lie, s.",
)
@click.option(
    "--earliest-time",
    default="2000-01-01",
    show_default=True,
    help="Earliest reading time accepted (ISO date/time UTC, or epoch s).",
)
def requeue(
    path: str,
    config: str,
    reasons: tuple[str, ...],
    prefix: str,
    backwards_tolerance: float,
    earliest_time: str,
) -> None:
    """Re-validate the dead letters of the archive at PATH and archive what now passes.

    Run it after fixing the config (a sensor put back, a range widened); each reading
    is archived exactly once, however often this runs. Stop `twin ingest` first: the
    archive has one writer at a time.
    """
    from sensors.deadletters import requeue as run_requeue

    catalogue = _catalogue(config)
    earliest = _epoch(earliest_time, "--earliest-time")
    with _cli_errors("archive requeue"):
        report = run_requeue(
            path,
            catalogue,
            reasons=reasons or None,
            prefix=prefix,
            backwards_tolerance=backwards_tolerance,
            earliest_time=earliest,
        )
    click.echo(json.dumps(report.as_dict()))
