"""Errors of the ingest package: typed, carrying the data that failed."""

from __future__ import annotations

from enum import StrEnum


class IngestError(Exception):
    """Root of every error raised by `ingest`."""


class DecodeError(IngestError, ValueError):
    """A Heart Rate Measurement (0x2A37) payload that breaks the GATT specification."""

    def __init__(self, reason: str, data: bytes) -> None:
        super().__init__(f"{reason} (payload {data.hex() or 'empty'})")
        self.reason = reason
        self.data = data


class BluetoothUnavailableError(IngestError):
    """No usable Bluetooth: no adapter, no permission, or no system D-Bus / BlueZ."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"Bluetooth unavailable: {reason}")
        self.reason = reason


class DeviceNotFoundError(IngestError):
    """No heart-rate device matching ``target`` advertised within ``timeout_s``."""

    def __init__(self, target: str, timeout_s: float) -> None:
        super().__init__(f"no heart-rate device {target} found within {timeout_s:g} s")
        self.target = target
        self.timeout_s = timeout_s


class ConnectError(IngestError):
    """Connecting to ``address`` failed (the link may come back: retried)."""

    def __init__(self, address: str, reason: str) -> None:
        super().__init__(f"connecting to {address} failed: {reason}")
        self.address = address
        self.reason = reason


class MissingCharacteristicError(IngestError):
    """The device at ``address`` does not offer characteristic ``uuid`` (not retried)."""

    def __init__(self, address: str, uuid: str) -> None:
        super().__init__(f"{address} does not offer characteristic {uuid}")
        self.address = address
        self.uuid = uuid


class StateError(IngestError):
    """An event that the link state table does not allow in ``state``: a bug, not a user error."""

    def __init__(self, state: str, event: str) -> None:
        super().__init__(f"event {event!r} is not allowed in link state {state!r}")
        self.state = state
        self.event = event


class RecordingError(IngestError, ValueError):
    """A recording that cannot be imported: ``file``, 1-based ``line`` (0: whole file), reason."""

    def __init__(self, file: str, line: int, reason: str) -> None:
        where = f"{file}, line {line}" if line else file
        super().__init__(f"{where}: {reason}")
        self.file = file
        self.line = line
        self.reason = reason


class BeatsRejection(StrEnum):
    """Why a beats message (``<prefix>/<device>/beats``) was refused: a fixed phrase, safe to
    log and to count by (it never carries the message's content)."""

    TOO_LARGE = "too_large"
    """The payload exceeds `ingest.beats_message.MAX_PAYLOAD_BYTES`."""
    NOT_UTF8 = "not_utf8"
    """The payload is not UTF-8 text."""
    TOO_DEEP = "too_deep"
    """JSON nested deeper than `ingest.beats_message.MAX_JSON_DEPTH` (a beats message has 2)."""
    NOT_JSON = "not_json"
    """The text is not JSON."""
    WRONG_SCHEMA = "wrong_schema"
    """JSON, but not a ``schema: 1`` beats object (keys, types, duplicate keys)."""
    DEVICE_MISMATCH = "device_mismatch"
    """The payload's ``device`` differs from the topic's: the topic is the identity."""
    TOO_MANY_BEATS = "too_many_beats"
    """A column holds more than `ingest.beats_message.MAX_BEATS_PER_MESSAGE` values."""
    BAD_COLUMNS = "bad_columns"
    """Columns of different lengths, or values of the wrong type (a string, a bool in t_s)."""
    BAD_TOPIC = "bad_topic"
    """The topic is not ``<prefix>/<device>/beats``."""
    BAD_DEVICE = "bad_device"
    """The topic's device is not a valid device id (`ingest.device_ids.device_id_problem`)."""


class BeatsMessageError(IngestError, ValueError):
    """A beats message refused for ``reason``; ``detail`` (may be empty) adds sizes or limits,
    never the message's content."""

    def __init__(self, reason: BeatsRejection, detail: str = "") -> None:
        super().__init__(f"beats message refused: {reason}" + (f" ({detail})" if detail else ""))
        self.reason = reason
        self.detail = detail


class FeedbackRejection(StrEnum):
    """Why a feedback message (``<prefix>/<device>/feedback``) was refused: a fixed phrase,
    safe to log and to count by (it never carries the message's content)."""

    TOO_LARGE = "too_large"
    """The payload exceeds `ingest.feedback_message.MAX_FEEDBACK_BYTES`."""
    NOT_UTF8 = "not_utf8"
    """The payload is not UTF-8 text."""
    NOT_JSON = "not_json"
    """The text is not JSON (or nests too deep to parse)."""
    WRONG_SCHEMA = "wrong_schema"
    """JSON, but not a ``schema: 1`` feedback object (keys, types, duplicate keys)."""
    BAD_VERDICT = "bad_verdict"
    """``verdict`` is not one of `ingest.feedback_message.VERDICTS`."""
    BAD_TRIGGER_ID = "bad_trigger_id"
    """``trigger_id`` is empty, longer than 64 characters or not printable ASCII."""
    BAD_TIME = "bad_time"
    """``t_s`` is not a finite number."""
    BAD_TOPIC = "bad_topic"
    """The topic is not ``<prefix>/<device>/feedback``."""
    BAD_DEVICE = "bad_device"
    """The topic's device is not a valid device id (`ingest.device_ids.device_id_problem`)."""


class FeedbackMessageError(IngestError, ValueError):
    """A feedback message refused for ``reason``; ``detail`` (may be empty) adds limits,
    never the message's content."""

    def __init__(self, reason: FeedbackRejection, detail: str = "") -> None:
        super().__init__(f"feedback message refused: {reason}" + (f" ({detail})" if detail else ""))
        self.reason = reason
        self.detail = detail
