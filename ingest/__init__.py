"""BLE heart-rate ingest: 0x2A37 codec, beat timing, bleak client, recording importers."""

from ingest.errors import DecodeError, IngestError
from ingest.hrm import RR_UNIT_MS, HeartRateMeasurement, decode, encode
from ingest.timing import (
    NO_RR_MESSAGE,
    BeatClock,
    HrSamples,
    Timed,
    concat_beats,
    time_notifications,
)

__all__ = [
    "NO_RR_MESSAGE",
    "RR_UNIT_MS",
    "BeatClock",
    "DecodeError",
    "HeartRateMeasurement",
    "HrSamples",
    "IngestError",
    "Timed",
    "concat_beats",
    "decode",
    "encode",
    "time_notifications",
]
