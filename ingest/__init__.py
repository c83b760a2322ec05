"""BLE heart-rate ingest: 0x2A37 codec, beat timing, bleak client, recording importers."""

from ingest.backoff import backoff_delay
from ingest.beats_message import (
    MAX_BEATS_PER_MESSAGE,
    MAX_PAYLOAD_BYTES,
    beats_subscription,
    beats_topic,
    decode_beats,
    device_of_topic,
    encode_beats,
)
from ingest.ble_backend import (
    HEART_RATE_MEASUREMENT,
    HEART_RATE_SERVICE,
    BleakBackend,
    BleBackend,
    FoundDevice,
    GattClient,
    Target,
)
from ingest.ble_link import DeviceInfo, LinkChange, StrapLink
from ingest.ble_queue import Closed, LinkDown, Notification, NotificationQueue
from ingest.ble_retry import is_retryable
from ingest.ble_scan import scan
from ingest.ble_state import LinkEvent, LinkState, transition
from ingest.ble_stream import StreamCounters, timed_notifications
from ingest.errors import (
    BeatsMessageError,
    BeatsRejection,
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
    "MAX_BEATS_PER_MESSAGE",
    "MAX_PAYLOAD_BYTES",
    "NO_RR_MESSAGE",
    "RR_UNIT_MS",
    "BeatClock",
    "BeatsMessageError",
    "BeatsRejection",
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
    "beats_subscription",
    "beats_topic",
    "concat_beats",
    "decode",
    "decode_beats",
    "detect_format",
    "device_of_topic",
    "encode",
    "encode_beats",
    "is_retryable",
    "read_recording",
    "scan",
    "time_notifications",
    "timed_notifications",
    "transition",
]
