"""Fixtures for the fake-BlueZ tests: bleak pointed at the private bus, a fake with straps on it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from bleak.backends.bluezdbus import manager as bluez_manager

from simulators.bluez import FakeBluez, VirtualPeripheral
from tests.servers import SystemBus

STRAP = "C0:FF:EE:00:00:01"
DECOY = "C0:FF:EE:00:00:02"
ABSENT = "C0:FF:EE:99:99:99"
# Flags 0x10 (uint8 HR, RR present): HR 60 + one RR of 1024/1024 s, and so on.
PAYLOADS = [bytes([0x10, 60 + i, 0x00, 0x04]) for i in range(8)]


@pytest.fixture
def bleak_bus(system_bus: SystemBus, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point bleak's BlueZ backend (BusType.SYSTEM) at the private bus; return its address.

    bleak keeps one BlueZ manager (and its bus connection) per event loop,
    made on first use and reading DBUS_SYSTEM_BUS_ADDRESS then. Each test
    runs in its own loop, so setting the variable before the test body
    reaches every manager the test makes.
    """
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", system_bus.address)
    return system_bus.address


@pytest.fixture
async def no_manager_yet(bleak_bus: str) -> str:
    """The bus address, checked to be set before bleak made a manager for this loop."""
    assert asyncio.get_running_loop() not in bluez_manager._global_instances
    return bleak_bus


@pytest.fixture
def strap() -> VirtualPeripheral:
    """A Polar-like strap playing PAYLOADS 50 ms apart once subscribed."""
    return VirtualPeripheral(
        address=STRAP, notifications=[(i * 0.05, p) for i, p in enumerate(PAYLOADS)]
    )


@pytest.fixture
async def fake(no_manager_yet: str, strap: VirtualPeripheral) -> AsyncIterator[FakeBluez]:
    """A running fake BlueZ hosting ``strap`` and a decoy that does not advertise 0x180D."""
    decoy = VirtualPeripheral(
        address=DECOY, name="Kettle", advertised_uuids=["0000fe95-0000-1000-8000-00805f9b34fb"]
    )
    async with FakeBluez(no_manager_yet, peripherals=[strap, decoy]) as bluez:
        yield bluez


@pytest.fixture(autouse=True)
async def close_bleak_manager() -> AsyncIterator[None]:
    """After each test, close the bus of the BlueZ manager bleak made for the test's loop.

    bleak only releases managers of closed loops when a later loop asks for
    one, so the last test's socket would otherwise leak into interpreter exit.
    """
    yield
    manager = bluez_manager._global_instances.pop(asyncio.get_running_loop(), None)
    bus = None if manager is None else manager._bus
    if bus is not None:
        bus.disconnect()
        await bus.wait_for_disconnect()  # type: ignore[no-untyped-call]
