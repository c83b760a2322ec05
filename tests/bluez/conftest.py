"""Fixtures for the fake-BlueZ tests: bleak pointed at the private bus, a fake with straps on it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from simulators.bluez import FakeBluez, VirtualPeripheral

STRAP = "C0:FF:EE:00:00:01"
DECOY = "C0:FF:EE:00:00:02"
ABSENT = "C0:FF:EE:99:99:99"
# Flags 0x10 (uint8 HR, RR present): HR 60 + one RR of 1024/1024 s, and so on.
PAYLOADS = [bytes([0x10, 60 + i, 0x00, 0x04]) for i in range(8)]


@pytest.fixture
def strap() -> VirtualPeripheral:
    """A Polar-like strap playing PAYLOADS 50 ms apart once subscribed."""
    return VirtualPeripheral(
        address=STRAP, notifications=[(i * 0.05, p) for i, p in enumerate(PAYLOADS)]
    )


@pytest.fixture
async def fake(bleak_bus: str, strap: VirtualPeripheral) -> AsyncIterator[FakeBluez]:
    """A running fake BlueZ hosting ``strap`` and a decoy that does not advertise 0x180D."""
    decoy = VirtualPeripheral(
        address=DECOY, name="Kettle", advertised_uuids=["0000fe95-0000-1000-8000-00805f9b34fb"]
    )
    async with FakeBluez(bleak_bus, peripherals=[strap, decoy]) as bluez:
        yield bluez
