"""Exceptions raised by :mod:`sensors`.

Each class also subclasses the built-in it refines, so callers may catch either.
Messages name the field, the rule, the value received and the fix.
"""

from __future__ import annotations

__all__ = [
    "ArchiveError",
    "BrokerError",
    "BrokerRefusedError",
    "CatalogueError",
    "DurableHookError",
    "LockedError",
    "PayloadError",
    "PublishError",
    "SensorsError",
    "StorageError",
    "UnitError",
]


class SensorsError(Exception):
    """Base class of every error raised by :mod:`sensors`."""


class CatalogueError(SensorsError, ValueError):
    """The ``[component]`` or ``[[sensors]]`` section of a config is invalid."""


class UnitError(SensorsError, ValueError):
    """A unit is unknown or does not measure the sensor's quantity."""


class PayloadError(SensorsError, ValueError):
    """A payload cannot be decoded or breaks the payload schema.

    Parameters
    ----------
    reason : str
        Machine-readable reason code (see :data:`sensors.validation.REASONS`).
    message : str
        Human-readable explanation naming the field, the rule and the value.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class ArchiveError(SensorsError, RuntimeError):
    """The sensor archive is missing, inconsistent, or belongs to another component."""


class BrokerError(SensorsError, RuntimeError):
    """An MQTT broker could not be started, reached or stopped."""


class DurableHookError(SensorsError, RuntimeError):
    """The ingester's ``on_durable`` hook raised (its readings are durable and acknowledged).

    Attributes
    ----------
    start, stop : int
        Archive offsets of the rows the hook was given.
    """

    start: int = 0
    stop: int = 0


class LockedError(SensorsError, RuntimeError):
    """Another writer holds the exclusive lock of an archive (or a state directory)."""


class StorageError(ArchiveError, OSError):
    """The archive cannot be written (disk full, read-only, no permission).

    Everything committed before it is durable; messages not yet acknowledged stay
    at the broker and arrive again after a restart.
    """


class PublishError(BrokerError):
    """Readings were sent but not all acknowledged; ``stats`` counts what was.

    Parameters
    ----------
    message : str
        What is missing and why.
    stats : object
        The :class:`~sensors.publish.PublishStats` of the acknowledged readings.
    """

    def __init__(self, message: str, stats: object) -> None:
        super().__init__(message)
        self.stats = stats


class BrokerRefusedError(BrokerError):
    """The broker refused us for a reason that retrying cannot fix.

    Bad credentials, not authorised, an unsupported protocol, or a failed TLS
    handshake (untrusted certificate, client certificate required).
    """
