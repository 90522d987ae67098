"""MQTT in and out, payload schema, validation and the sensor archive.

Importing this package loads NumPy and orjson only; paho-mqtt, zarr, xarray, pint and
amqtt are imported by the functions that need them.
"""

from sensors.archive import Archive, ArchiveBatch, DeadLetterBatch, archive_info, open_archive
from sensors.broker import EmbeddedBroker, MosquittoBroker, free_port
from sensors.catalogue import Catalogue, Sensor, load_catalogue, parse_catalogue
from sensors.deadletters import DeadLetterRecord, RequeueReport, read_dead_letters, requeue
from sensors.dedupe import SeenSequences
from sensors.errors import (
    ArchiveError,
    BrokerError,
    BrokerRefusedError,
    CatalogueError,
    DurableHookError,
    LockedError,
    PayloadError,
    PublishError,
    SensorsError,
    StorageError,
    UnitError,
)
from sensors.ingest import Ingester, IngestStats, deadletter_topic
from sensors.lock import DirectoryLock, exclusive_lock
from sensors.mqtt import BrokerSettings, connect_client, make_client, parse_broker_url
from sensors.publish import (
    Faults,
    PublishStats,
    apply_faults,
    publish_readings,
    synthetic_readings,
    timeline_start,
)
from sensors.reader import (
    ArchiveReader,
    CommittedReadings,
    committed_count,
    read_readings,
    read_time_ordered,
)
from sensors.schema import (
    PAYLOAD_JSON_SCHEMA,
    Readings,
    decode_payload,
    encode_batch,
    encode_reading,
)
from sensors.units import from_si, to_si
from sensors.validation import REASONS, DeadLetter, Validator

__all__ = [
    "Archive",
    "ArchiveBatch",
    "ArchiveError",
    "ArchiveReader",
    "BrokerError",
    "BrokerRefusedError",
    "BrokerSettings",
    "Catalogue",
    "CatalogueError",
    "CommittedReadings",
    "DeadLetter",
    "DeadLetterBatch",
    "DeadLetterRecord",
    "DirectoryLock",
    "DurableHookError",
    "EmbeddedBroker",
    "Faults",
    "IngestStats",
    "Ingester",
    "LockedError",
    "MosquittoBroker",
    "PAYLOAD_JSON_SCHEMA",
    "PayloadError",
    "PublishError",
    "PublishStats",
    "REASONS",
    "Readings",
    "RequeueReport",
    "SeenSequences",
    "Sensor",
    "SensorsError",
    "StorageError",
    "UnitError",
    "Validator",
    "apply_faults",
    "archive_info",
    "committed_count",
    "connect_client",
    "deadletter_topic",
    "decode_payload",
    "encode_batch",
    "encode_reading",
    "exclusive_lock",
    "free_port",
    "from_si",
    "load_catalogue",
    "make_client",
    "open_archive",
    "parse_broker_url",
    "parse_catalogue",
    "publish_readings",
    "read_dead_letters",
    "read_readings",
    "read_time_ordered",
    "requeue",
    "synthetic_readings",
    "timeline_start",
    "to_si",
]
