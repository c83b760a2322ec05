"""Which BLE link failures are worth another attempt (pure); the delay is `ingest.backoff`."""

from __future__ import annotations

from ingest.errors import (
    BluetoothUnavailableError,
    ConnectError,
    DeviceNotFoundError,
    MissingCharacteristicError,
)

__all__ = ["is_retryable"]


def is_retryable(exc: BaseException) -> bool:
    """True for failures a later attempt can cure: timeouts, lost links, a strap out of range.

    Missing Bluetooth (adapter, permission, BlueZ) and a device without the
    Heart Rate Measurement characteristic are final; so is anything else
    (a bug must surface, not loop).
    """
    if isinstance(exc, BluetoothUnavailableError | MissingCharacteristicError):
        return False
    return isinstance(exc, TimeoutError | ConnectError | DeviceNotFoundError)
