"""BLE heart-rate ingest: 0x2A37 codec, beat timing, bleak client, recording importers."""

from ingest.errors import DecodeError, IngestError
from ingest.hrm import RR_UNIT_MS, HeartRateMeasurement, decode, encode

__all__ = [
    "RR_UNIT_MS",
    "DecodeError",
    "HeartRateMeasurement",
    "IngestError",
    "decode",
    "encode",
]
