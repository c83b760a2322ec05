"""InfluxDB output: line protocol for beats, windows, triggers and device status; batched
writes through influxdb-client's v2 write API; an on-disk spool so outages lose nothing."""

from vagus.influx.errors import InfluxConfigError, SpoolFullError, StorageError, WriteError
from vagus.influx.lines import (
    DeviceStatusLike,
    beat_lines,
    device_status_line,
    outcome_line,
    trigger_line,
    window_line,
    window_lines,
)
from vagus.influx.retry import is_retryable
from vagus.influx.sender import InfluxSender, LineSender
from vagus.influx.settings import InfluxSettings
from vagus.influx.spool import Spool, SpoolChunk
from vagus.influx.writer import InfluxWriter, WriterStats

__all__ = [
    "DeviceStatusLike",
    "InfluxConfigError",
    "InfluxSender",
    "InfluxSettings",
    "InfluxWriter",
    "LineSender",
    "Spool",
    "SpoolChunk",
    "SpoolFullError",
    "StorageError",
    "WriteError",
    "WriterStats",
    "beat_lines",
    "device_status_line",
    "is_retryable",
    "outcome_line",
    "trigger_line",
    "window_line",
    "window_lines",
]
