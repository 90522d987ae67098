"""MQTT brokers for a single machine and for tests: Mosquitto and embedded amqtt.

:class:`MosquittoBroker` runs ``mosquitto`` as a subprocess on a loopback port with
a config file it writes (persistence, raised queue and inflight limits) and stops it
by its PID. :class:`EmbeddedBroker` runs amqtt in a background thread of this process
(MQTT 3.1.1 only, sessions in memory; see the README for its limits).
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import threading
import time
from typing import Any

from sensors.errors import BrokerError

__all__ = ["EmbeddedBroker", "MosquittoBroker", "free_port", "wait_for_port"]


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(host: str, port: int, *, timeout: float = 10.0) -> None:
    """Block until a TCP connection to ``host:port`` succeeds.

    Raises
    ------
    BrokerError
        If nothing listens there within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError as err:
            if time.monotonic() > deadline:
                raise BrokerError(
                    f"broker: nothing listens on {host}:{port} after {timeout} s"
                ) from err
            time.sleep(0.05)


class MosquittoBroker:
    """A Mosquitto subprocess on a loopback port.

    Parameters
    ----------
    workdir : str or pathlib.Path
        Directory for the config file, the persistence database and the log.
    port : int or None, optional
        Port to listen on; a free one when None. Kept across restarts.
    persistence : bool, optional
        Keep sessions and queued messages across restarts (``persistence true``).
    max_queued_messages : int, optional
        Per-client queue beyond the inflight window; Mosquitto's default 1000 drops
        QoS 1 messages for a subscriber that falls behind. 0 means unlimited.
    max_inflight_messages : int, optional
        Unacknowledged QoS 1 deliveries per MQTT 3.1.1 client (MQTT 5 clients set
        their own Receive Maximum). 0 means unlimited.
    password_file : str or pathlib.Path or None, optional
        ``mosquitto_passwd`` file; anonymous access is refused when given.
    acl_file : str or pathlib.Path or None, optional
        Mosquitto ACL file (which user may read or write which topics).
    tls : tuple of (cafile, certfile, keyfile) or None, optional
        PEM files to serve TLS on the listener (clients then use ``mqtts://``).
    require_certificate : bool, optional
        With TLS, accept only clients with a certificate signed by ``cafile``.
    use_identity_as_username : bool, optional
        With ``require_certificate``, the certificate's CN is the user name (for the ACL).
    executable : str, optional
        Mosquitto binary.
    """

    def __init__(
        self,
        workdir: str | pathlib.Path,
        *,
        port: int | None = None,
        persistence: bool = True,
        max_queued_messages: int = 1_000_000,
        max_inflight_messages: int = 10_000,
        password_file: str | pathlib.Path | None = None,
        acl_file: str | pathlib.Path | None = None,
        tls: tuple[str, str, str] | None = None,
        require_certificate: bool = False,
        use_identity_as_username: bool = False,
        executable: str = "mosquitto",
    ) -> None:
        self.workdir = pathlib.Path(workdir)
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.persistence = persistence
        self.max_queued_messages = max_queued_messages
        self.max_inflight_messages = max_inflight_messages
        self.password_file = password_file
        self.acl_file = acl_file
        self.tls = tls
        self.require_certificate = require_certificate
        self.use_identity_as_username = use_identity_as_username
        self.executable = shutil.which(executable) or executable
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Broker URL ``mqtt://127.0.0.1:<port>`` (``mqtts://`` with TLS)."""
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        """PID of the running broker, None when stopped."""
        return self._proc.pid if self._proc is not None else None

    def write_config(self) -> pathlib.Path:
        """Write ``mosquitto.conf`` into :attr:`workdir` and return its path."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        anonymous = not (self.password_file or self.use_identity_as_username)
        lines = [
            # Run as ourselves: started as root, Mosquitto would switch to the user
            # "mosquitto", which cannot write the persistence file in our directory.
            f"user {getpass.getuser()}",
            f"listener {self.port} {self.host}",
            f"allow_anonymous {'true' if anonymous else 'false'}",
            f"persistence {'true' if self.persistence else 'false'}",
            f"persistence_location {self.workdir}/",
            "autosave_interval 1",
            f"max_queued_messages {self.max_queued_messages}",
            "max_queued_bytes 0",
            f"max_inflight_messages {self.max_inflight_messages}",
            "max_inflight_bytes 0",
            "persistent_client_expiration 1d",
            f"log_dest file {self.workdir / 'mosquitto.log'}",
            "log_type error",
            "log_type warning",
        ]
        if self.password_file:
            lines.append(f"password_file {self.password_file}")
        if self.acl_file:
            lines.append(f"acl_file {self.acl_file}")
        if self.tls:
            cafile, certfile, keyfile = self.tls
            lines += [f"cafile {cafile}", f"certfile {certfile}", f"keyfile {keyfile}"]
            if self.require_certificate:
                lines.append("require_certificate true")
                if self.use_identity_as_username:
                    lines.append("use_identity_as_username true")
        path = self.workdir / "mosquitto.conf"
        path.write_text("\n".join(lines) + "\n")
        return path

    def start(self, *, timeout: float = 10.0) -> MosquittoBroker:
        """Start the broker and wait until it accepts connections."""
        if self._proc is not None:
            raise BrokerError("broker: already running; stop() it first")
        config = self.write_config()
        try:
            self._proc = subprocess.Popen(
                [self.executable, "-c", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        except OSError as err:
            raise BrokerError(
                f"broker: cannot run {self.executable!r}: {err}; install mosquitto"
            ) from err
        try:
            wait_for_port(self.host, self.port, timeout=timeout)
        except BrokerError:
            self.stop()
            raise
        return self

    def stop(self, *, timeout: float = 10.0) -> None:
        """Stop the broker by its PID (SIGTERM, then SIGKILL after ``timeout``)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()

    def restart(self) -> None:
        """Stop and start again on the same port (sessions survive with persistence)."""
        self.stop()
        self.start()

    def __enter__(self) -> MosquittoBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class EmbeddedBroker:
    """An amqtt broker in a background thread of this process (MQTT 3.1.1).

    Parameters
    ----------
    port : int or None, optional
        Loopback port; a free one when None.
    host : str, optional
        Address to bind.
    """

    def __init__(self, *, port: int | None = None, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port or free_port(host)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._broker: Any = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        """Broker URL ``mqtt://twin@host:port?protocol=3.1.1`` (a user name is required)."""
        return f"mqtt://twin@{self.host}:{self.port}?protocol=3.1.1"

    def _run(self) -> None:
        from amqtt.broker import Broker

        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            # amqtt keeps QoS 1 messages for an offline persistent session only when
            # the client is not anonymous: require a user name (any; loopback use).
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": False}
            },
        }

        async def start() -> None:
            self._broker = Broker(config, loop=loop)
            await self._broker.start()

        try:
            loop.run_until_complete(start())
        except BaseException as err:  # reported to the starting thread
            self._error = err
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        loop.run_forever()
        loop.close()

    def start(self, *, timeout: float = 10.0) -> EmbeddedBroker:
        """Start the broker thread and wait until it accepts connections."""
        if self._thread is not None:
            raise BrokerError("broker: already running; stop() it first")
        self._ready.clear()
        self._thread = threading.Thread(target=self._run, name="amqtt-broker", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise BrokerError(f"broker: amqtt did not start within {timeout} s")
        if self._error is not None:
            err, self._error, self._thread = self._error, None, None
            raise BrokerError(
                f"broker: amqtt failed to start on {self.host}:{self.port}: {err}"
            ) from err
        # Broker.start() returns with its listener bound; no probe connection (amqtt
        # logs an error for a connection that sends no CONNECT).
        return self

    def stop(self, *, timeout: float = 10.0) -> None:
        """Shut the broker down and join its thread."""
        thread, loop, self._thread = self._thread, self._loop, None
        if thread is None or loop is None:
            return
        with contextlib.suppress(Exception):
            fut = asyncio.run_coroutine_threadsafe(self._broker.shutdown(), loop)
            fut.result(timeout)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
