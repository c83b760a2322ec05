"""BLE heart-rate ingest: 0x2A37 codec, beat timing, bleak client, recording importers."""

from ingest.ble_backend import (
    HEART_RATE_MEASUREMENT,
    HEART_RATE_SERVICE,
    BleakBackend,
    BleBackend,
    FoundDevice,
    GattClient,
    Target,
)
from ingest.ble_link import DeviceInfo, LinkChange, StrapLink, run_links
from ingest.ble_queue import Closed, LinkDown, Notification, NotificationQueue
from ingest.ble_retry import backoff_delay, is_retryable
from ingest.ble_scan import scan
from ingest.ble_state import LinkEvent, LinkState, transition
from ingest.ble_stream import StreamCounters, timed_notifications
from ingest.errors import (
    BluetoothUnavailableError,
    ConnectError,
    DecodeError,
    DeviceNotFoundError,
    IngestError,
    MissingCharacteristicError,
    StateError,
)
from ingest.hrm import RR_UNIT_MS, HeartRateMeasurement, decode, encode
from ingest.recordings import RecordingError, RecordingFormat, detect_format, read_recording
from ingest.timing import (
    NO_RR_MESSAGE,
    BeatClock,
    HrSamples,
    Timed,
    concat_beats,
    time_notifications,
)

__all__ = [
    "HEART_RATE_MEASUREMENT",
    "HEART_RATE_SERVICE",
    "NO_RR_MESSAGE",
    "RR_UNIT_MS",
    "BeatClock",
    "BleBackend",
    "BleakBackend",
    "BluetoothUnavailableError",
    "Closed",
    "ConnectError",
    "DecodeError",
    "DeviceInfo",
    "DeviceNotFoundError",
    "FoundDevice",
    "GattClient",
    "HeartRateMeasurement",
    "HrSamples",
    "IngestError",
    "LinkChange",
    "LinkDown",
    "LinkEvent",
    "LinkState",
    "MissingCharacteristicError",
    "Notification",
    "NotificationQueue",
    "RecordingError",
    "RecordingFormat",
    "StateError",
    "StrapLink",
    "StreamCounters",
    "Target",
    "Timed",
    "backoff_delay",
    "concat_beats",
    "decode",
    "detect_format",
    "encode",
    "is_retryable",
    "read_recording",
    "run_links",
    "scan",
    "time_notifications",
    "timed_notifications",
    "transition",
]
