"""MQTT in and out, payload schema, validation and the sensor archive.

Importing this package loads NumPy and orjson only; paho-mqtt, zarr, xarray, pint and
amqtt are imported by the functions that need them.
"""

from sensors.archive import Archive, ArchiveBatch, DeadLetterBatch, archive_info, open_archive
from sensors.broker import EmbeddedBroker, MosquittoBroker, free_port
from sensors.catalogue import Catalogue, Sensor, load_catalogue, parse_catalogue
from sensors.errors import (
    ArchiveError,
    BrokerError,
    CatalogueError,
    DurableHookError,
    PayloadError,
    SensorsError,
    UnitError,
)
from sensors.ingest import Ingester, IngestStats, deadletter_topic
from sensors.mqtt import BrokerSettings, make_client, parse_broker_url
from sensors.publish import (
    Faults,
    PublishStats,
    apply_faults,
    publish_readings,
    synthetic_readings,
    timeline_start,
)
from sensors.reader import ArchiveReader, CommittedReadings, committed_count, read_readings
from sensors.schema import (
    PAYLOAD_JSON_SCHEMA,
    Readings,
    decode_payload,
    encode_batch,
    encode_reading,
)
from sensors.units import from_si, to_si
from sensors.validation import REASONS, DeadLetter, SeenSequences, Validator

__all__ = [
    "Archive",
    "ArchiveBatch",
    "ArchiveError",
    "ArchiveReader",
    "BrokerError",
    "BrokerSettings",
    "Catalogue",
    "CatalogueError",
    "CommittedReadings",
    "DeadLetter",
    "DeadLetterBatch",
    "DurableHookError",
    "EmbeddedBroker",
    "Faults",
    "IngestStats",
    "Ingester",
    "MosquittoBroker",
    "PAYLOAD_JSON_SCHEMA",
    "PayloadError",
    "PublishStats",
    "REASONS",
    "Readings",
    "SeenSequences",
    "Sensor",
    "SensorsError",
    "UnitError",
    "Validator",
    "apply_faults",
    "archive_info",
    "committed_count",
    "deadletter_topic",
    "decode_payload",
    "encode_batch",
    "encode_reading",
    "free_port",
    "from_si",
    "load_catalogue",
    "make_client",
    "open_archive",
    "parse_broker_url",
    "parse_catalogue",
    "publish_readings",
    "read_readings",
    "synthetic_readings",
    "timeline_start",
    "to_si",
]
