"""Scanning for heart-rate devices (those advertising the 0x180D service)."""

from __future__ import annotations

from ingest.ble_backend import BleakBackend, BleBackend, FoundDevice

__all__ = ["scan"]


async def scan(timeout_s: float, backend: BleBackend | None = None) -> list[FoundDevice]:
    """Heart-rate devices seen within ``timeout_s``, strongest signal first.

    Raises `ingest.errors.BluetoothUnavailableError` when there is no
    adapter, no permission, or no system D-Bus.
    """
    if not timeout_s > 0:
        raise ValueError(f"scan timeout_s={timeout_s} must be positive")
    found = await (backend or BleakBackend()).discover(timeout_s)
    return sorted(found, key=lambda d: -d.rssi_dbm)
