"""Broker connection settings and paho-mqtt client construction, shared by ingest and publish."""

from __future__ import annotations

import dataclasses
import socket
import ssl
import threading
import urllib.parse
from typing import Any

from sensors.errors import BrokerError, BrokerRefusedError

__all__ = ["BrokerSettings", "connect_client", "make_client", "parse_broker_url"]

_PROTOCOLS = ("3.1.1", "5")


@dataclasses.dataclass(frozen=True, slots=True)
class BrokerSettings:
    """Where and how to reach an MQTT broker.

    Attributes
    ----------
    host : str
        Broker host name or address.
    port : int
        TCP port (1883, or 8883 with TLS).
    protocol : {"5", "3.1.1"}
        MQTT version; the embedded amqtt broker speaks 3.1.1 only.
    username, password : str or None
        Credentials (``password_file`` on Mosquitto).
    tls : bool
        Connect with TLS.
    ca_certs, certfile, keyfile : str or None
        CA bundle and client certificate/key (PEM) for TLS.
    tls_insecure : bool
        Skip the host-name check (test certificates only).
    keepalive : int
        Keep-alive interval, s.
    """

    host: str = "127.0.0.1"
    port: int = 1883
    protocol: str = "5"
    username: str | None = None
    password: str | None = dataclasses.field(default=None, repr=False)
    tls: bool = False
    ca_certs: str | None = None
    certfile: str | None = None
    keyfile: str | None = None
    tls_insecure: bool = False
    keepalive: int = 30

    @property
    def url(self) -> str:
        """The broker's URL for messages: scheme, host and port, never credentials."""
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"

    def __post_init__(self) -> None:
        if self.protocol not in _PROTOCOLS:
            raise BrokerError(f"protocol: must be one of {list(_PROTOCOLS)}, got {self.protocol!r}")
        if not 0 < self.port < 65536:
            raise BrokerError(f"port: must be in 1..65535, got {self.port!r}")


def parse_broker_url(url: str, **overrides: Any) -> BrokerSettings:
    """Parse ``mqtt[s]://[user[:password]@]host[:port][?protocol=3.1.1]``.

    Parameters
    ----------
    url : str
        Broker URL; ``mqtts`` turns TLS on and defaults the port to 8883.
    **overrides
        Fields of :class:`BrokerSettings` that take precedence over the URL
        (e.g. ``ca_certs``, ``password``); None values are ignored.

    Returns
    -------
    BrokerSettings
        The settings.

    Raises
    ------
    BrokerError
        If the URL is not an ``mqtt://`` or ``mqtts://`` URL.
    """
    parts = urllib.parse.urlsplit(url)
    shown = _redact(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise BrokerError(
            f"broker url: must look like mqtt://host:1883 or mqtts://host:8883, got {shown!r}"
        )
    try:
        port = parts.port
    except ValueError as err:
        raise BrokerError(
            f"broker url: the port must be a number in 1..65535, got {shown!r}"
        ) from err
    query = dict(urllib.parse.parse_qsl(parts.query))
    tls = parts.scheme == "mqtts"
    fields: dict[str, Any] = {
        "host": parts.hostname,
        "port": port or (8883 if tls else 1883),
        "tls": tls,
        "protocol": query.get("protocol", "5"),
        "username": urllib.parse.unquote(parts.username) if parts.username else None,
        "password": urllib.parse.unquote(parts.password) if parts.password else None,
    }
    fields.update({k: v for k, v in overrides.items() if v is not None})
    return BrokerSettings(**fields)


def make_client(
    settings: BrokerSettings,
    *,
    client_id: str = "",
    persistent: bool = False,
    manual_ack: bool = False,
    receive_maximum: int | None = None,
    session_expiry: int = 0,
    reconnect_delay: tuple[int, int] = (1, 30),
) -> tuple[Any, Any]:
    """Create a paho-mqtt 2.x client and the CONNECT properties to use with it.

    Parameters
    ----------
    settings : BrokerSettings
        Broker address, protocol, credentials and TLS.
    client_id : str, optional
        Fixed client id (required for a persistent session).
    persistent : bool, optional
        Keep the session on the broker: MQTT 5 ``clean_start=False`` with
        ``session_expiry``; MQTT 3.1.1 ``clean_session=False``.
    manual_ack : bool, optional
        Leave acknowledgement of received QoS 1 messages to the caller.
    receive_maximum : int or None, optional
        MQTT 5 Receive Maximum: most unacknowledged deliveries the broker may have
        in flight to this client (1-65535).
    session_expiry : int, optional
        MQTT 5 Session Expiry Interval, s.
    reconnect_delay : tuple of int, optional
        First and largest reconnect back-off, s (doubling in between).

    Returns
    -------
    client : paho.mqtt.client.Client
        The configured (not yet connected) client.
    properties : paho.mqtt.properties.Properties or None
        CONNECT properties for MQTT 5, None for 3.1.1.
    """
    import paho.mqtt.client as mqtt
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    if persistent and not client_id:
        raise BrokerError("client_id: a persistent session needs a fixed client id, got ''")
    v5 = settings.protocol == "5"
    client = mqtt.Client(
        callback_api_version=mqtt.CallbackAPIVersion.VERSION2,  # type: ignore[attr-defined]
        client_id=client_id,
        clean_session=None if v5 else not persistent,
        protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
        manual_ack=manual_ack,
    )
    if settings.username is not None:
        client.username_pw_set(settings.username, settings.password)
    if settings.tls:
        context = ssl.create_default_context(cafile=settings.ca_certs)
        if settings.certfile:
            context.load_cert_chain(settings.certfile, settings.keyfile)
        if settings.tls_insecure:
            context.check_hostname = False
        client.tls_set_context(context)
    client.reconnect_delay_set(*reconnect_delay)
    client.max_queued_messages_set(0)
    properties = None
    if v5:
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        if persistent:
            properties.SessionExpiryInterval = int(session_expiry)
        if receive_maximum is not None:
            if not 1 <= receive_maximum <= 65535:
                raise BrokerError(f"receive_maximum: must be in 1..65535, got {receive_maximum!r}")
            properties.ReceiveMaximum = int(receive_maximum)
    return client, properties


def _redact(url: str) -> str:
    """Return ``url`` with any password replaced by ``***`` (for messages and logs)."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))


_AUTH_CODES = (134, 135, 4, 5)  # bad user name or password, not authorized (v5, v3)


def _refusal_hint(reason: Any) -> str:
    value = getattr(reason, "value", None)
    if value in _AUTH_CODES:
        return "check the user name and password (--username, --password or --password-file)"
    if value in (132, 1):
        return "the broker does not speak this MQTT version; try ?protocol=3.1.1 in the URL"
    if value in (133, 2):
        return "the broker refused the client id; give another with --client-id"
    return "see the broker's log"


def connect_client(
    client: Any,
    settings: BrokerSettings,
    properties: Any = None,
    *,
    timeout: float = 10.0,
    clean_start: bool | None = None,
) -> Any:
    """Connect ``client`` synchronously and wait for the broker's CONNACK.

    On success the client's network thread runs (``loop_start``) and paho keeps
    reconnecting with back-off after later disconnects. Every failure of this first
    connection is raised with the broker URL (never the password) and its cause.

    Parameters
    ----------
    client : paho.mqtt.client.Client
        A client from :func:`make_client`; its own ``on_connect`` still runs.
    settings : BrokerSettings
        Where to connect.
    properties : paho.mqtt.properties.Properties or None, optional
        MQTT 5 CONNECT properties.
    timeout : float, optional
        Longest wait for the TCP connection and the CONNACK, s.
    clean_start : bool or None, optional
        MQTT 5 clean start (False resumes a persistent session).

    Returns
    -------
    object
        The CONNACK flags (``session_present``).

    Raises
    ------
    BrokerRefusedError
        A failed TLS handshake or a CONNACK that refuses us (bad credentials, not
        authorised, unsupported protocol): retrying cannot help.
    BrokerError
        Unknown host, connection refused or no answer in time.
    """
    url = settings.url
    done = threading.Event()
    result: dict[str, Any] = {}
    own = client.on_connect

    def on_connect(c: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        result.setdefault("reason", reason)
        result.setdefault("flags", flags)
        done.set()
        if own is not None and not reason.is_failure:
            own(c, userdata, flags, reason, props)

    kwargs: dict[str, Any] = {}
    if settings.protocol == "5":
        kwargs["properties"] = properties
        if clean_start is not None:
            kwargs["clean_start"] = clean_start
    client.connect_timeout = timeout
    try:
        client.connect(settings.host, settings.port, settings.keepalive, **kwargs)
    except ssl.SSLCertVerificationError as err:
        raise BrokerRefusedError(
            f"broker {url}: TLS certificate not trusted ({err.verify_message}); "
            "give the broker's CA with --ca-certs"
        ) from err
    except ssl.SSLError as err:
        raise BrokerRefusedError(
            f"broker {url}: TLS handshake failed ({err.reason or err}); check the "
            "certificates (--ca-certs, --certfile, --keyfile) and that the port speaks TLS"
        ) from err
    except socket.gaierror as err:
        raise BrokerError(
            f"broker {url}: unknown host {settings.host!r} ({err.strerror}); check the URL"
        ) from err
    except ConnectionRefusedError as err:
        raise BrokerError(
            f"broker {url}: connection refused (nothing listens on port {settings.port}); "
            "check the URL and that the broker runs"
        ) from err
    except TimeoutError as err:
        raise BrokerError(f"broker {url}: no answer within {timeout:g} s; check the URL") from err
    except OSError as err:
        raise BrokerError(f"broker {url}: cannot connect ({err.strerror or err})") from err
    # The CONNACK is read by the network thread, started only now. A refused one is
    # followed by a disconnect that paho calls a protocol error: the refusal raised
    # below is the one report of it.
    errors: list[str] = []

    def on_disconnect(c: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if "reason" not in result:  # dropped before any CONNACK
            result["dropped"] = str(reason)
            done.set()

    def on_log(c: Any, userdata: Any, level: int, message: str) -> None:
        if level == 8:  # MQTT_LOG_ERR: e.g. the TLS alert that closed the socket
            errors.append(message)

    client.on_connect = on_connect
    own_disconnect, client.on_disconnect = client.on_disconnect, on_disconnect
    own_log, client.on_log = client.on_log, on_log
    client.loop_start()
    arrived = done.wait(timeout)
    client.on_log = own_log
    if not arrived or "dropped" in result:
        client.loop_stop()
        client.on_connect, client.on_disconnect = own, own_disconnect
        cause = errors[-1] if errors else result.get("dropped", "")
        if "SSL" in cause or "TLS" in cause:
            raise BrokerRefusedError(
                f"broker {url} closed the TLS connection before its CONNACK ({cause}); it may "
                "require a client certificate (--certfile, --keyfile) or refuse this one"
            )
        if "dropped" in result:
            raise BrokerError(f"broker {url} closed the connection before its CONNACK ({cause})")
        raise BrokerError(
            f"broker {url}: no CONNACK within {timeout:g} s (the TLS handshake or the broker "
            "is stuck, or the port is not an MQTT broker)"
        )
    client.on_connect = own
    reason = result["reason"]
    if not reason.is_failure:
        client.on_disconnect = own_disconnect
    else:
        client.on_disconnect = None
        client.loop_stop()
        client.disconnect()
        raise BrokerRefusedError(
            f"broker {url} refused the connection: {reason}; {_refusal_hint(reason)}"
        )
    return result["flags"]
