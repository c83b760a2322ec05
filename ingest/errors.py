"""Errors of the ingest package: typed, carrying the data that failed."""

from __future__ import annotations


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
