"""Unpatched bleak (BlueZ backend) against the fake BlueZ: scan, connect, read, notify, loss."""

from __future__ import annotations

import asyncio

import pytest
from bleak import BleakClient, BleakScanner
from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakBluetoothNotAvailableReason,
    BleakDBusError,
    BleakDeviceNotFoundError,
    BleakGATTProtocolError,
    BleakGATTProtocolErrorCode,
)

from simulators.bluez import (
    BATTERY_LEVEL,
    BODY_SENSOR_LOCATION,
    HEART_RATE_MEASUREMENT,
    HEART_RATE_SERVICE,
    MANUFACTURER_NAME,
    MODEL_NUMBER,
    FakeBluez,
    VirtualPeripheral,
)
from tests.bluez.conftest import ABSENT, DECOY, PAYLOADS, STRAP

pytestmark = [pytest.mark.bluez, pytest.mark.integration]


async def test_filtered_scan_finds_the_strap_only(fake: FakeBluez) -> None:
    """A scan filtered on 0x180D sees the strap with its advert data and not the decoy."""
    found = await BleakScanner.discover(
        timeout=0.4, return_adv=True, service_uuids=[HEART_RATE_SERVICE]
    )
    assert set(found) == {STRAP}
    device, adv = found[STRAP]
    assert device.name == "Polar H10 0A1B2C3D"
    assert adv.service_uuids == [HEART_RATE_SERVICE]
    assert adv.manufacturer_data == {0x006B: b"\x3f\x00\x00"}
    assert adv.rssi in (-60, -61)


async def test_unfiltered_scan_sees_the_decoy_too(fake: FakeBluez) -> None:
    """Without a filter both devices are discovered: the filter test above is not vacuous."""
    found = await BleakScanner.discover(timeout=0.4, return_adv=True)
    assert set(found) == {STRAP, DECOY}


async def test_connect_reads_battery_and_device_information(fake: FakeBluez) -> None:
    """Connecting by address resolves the GATT database; reads return the strap's values."""
    async with BleakClient(STRAP, timeout=5) as client:
        assert client.is_connected
        services = {s.uuid for s in client.services}
        assert HEART_RATE_SERVICE in services
        assert await client.read_gatt_char(BATTERY_LEVEL) == bytearray([100])
        assert await client.read_gatt_char(MANUFACTURER_NAME) == b"Polar Electro Oy"
        assert await client.read_gatt_char(MODEL_NUMBER) == b"H10"
        assert await client.read_gatt_char(BODY_SENSOR_LOCATION) == b"\x01"


async def test_heart_rate_measurement_is_notify_only(fake: FakeBluez) -> None:
    """Reading 0x2A37 fails as on a real strap: bleak maps BlueZ's NotPermitted to a GATT error."""
    async with BleakClient(STRAP, timeout=5) as client:
        with pytest.raises(BleakGATTProtocolError) as info:
            await client.read_gatt_char(HEART_RATE_MEASUREMENT)
    assert info.value.code is BleakGATTProtocolErrorCode.READ_NOT_PERMITTED


async def test_notifications_arrive_byte_exact_and_in_order(
    fake: FakeBluez, strap: VirtualPeripheral
) -> None:
    """Every payload of the source reaches bleak's notify callback unchanged, in order."""
    received: list[bytes] = []
    async with BleakClient(STRAP, timeout=5) as client:
        await client.start_notify(
            HEART_RATE_MEASUREMENT, lambda _c, data: received.append(bytes(data))
        )
        await asyncio.wait_for(strap.wait_played(), 5)
        await asyncio.sleep(0.05)
        await client.stop_notify(HEART_RATE_MEASUREMENT)
    assert received == PAYLOADS
    assert (strap.notifications_sent, strap.notifications_lost) == (len(PAYLOADS), 0)


async def test_battery_change_is_read_and_notified(
    fake: FakeBluez, strap: VirtualPeripheral
) -> None:
    """set_battery updates 0x2A19 for reads and notifies its subscribers."""
    levels: list[bytes] = []
    async with BleakClient(STRAP, timeout=5) as client:
        await client.start_notify(BATTERY_LEVEL, lambda _c, data: levels.append(bytes(data)))
        strap.set_battery(42)
        assert await client.read_gatt_char(BATTERY_LEVEL) == b"\x2a"
    assert levels == [b"\x2a"]


async def test_link_loss_reaches_disconnected_callback(
    fake: FakeBluez, strap: VirtualPeripheral
) -> None:
    """A link loss sets Connected false: bleak calls disconnected_callback and drops services."""
    lost = asyncio.Event()
    client = BleakClient(STRAP, timeout=5, disconnected_callback=lambda _c: lost.set())
    await client.connect()
    assert strap.link_loss()
    await asyncio.wait_for(lost.wait(), 2)
    assert not client.is_connected
    assert not strap.connected
    assert [p for p in fake.tree.managed_objects() if p.startswith(strap.device_path + "/")] == []
    await client.disconnect()


async def test_reconnect_after_link_loss_resumes_notifications(fake: FakeBluez) -> None:
    """After a link loss the same client reconnects, resubscribes and gets notifications again.

    Payloads falling due while the link is down are lost, as over the air.
    """
    source = [(i * 0.05, bytes([0x10, 70, i, 0x04])) for i in range(40)]
    strap = VirtualPeripheral(address="C0:FF:EE:00:00:03", notifications=source)
    fake.add(strap)
    received: list[bytes] = []
    five = asyncio.Event()
    lost = asyncio.Event()

    def on_data(_c: object, data: bytearray) -> None:
        received.append(bytes(data))
        if len(received) >= 5:
            five.set()

    client = BleakClient(strap.address, timeout=5, disconnected_callback=lambda _c: lost.set())
    await client.connect()
    await client.start_notify(HEART_RATE_MEASUREMENT, on_data)
    await asyncio.wait_for(five.wait(), 5)
    strap.link_loss()
    await asyncio.wait_for(lost.wait(), 2)
    before = len(received)
    await asyncio.sleep(0.2)
    # bleak 3.1 keeps the lost connection's D-Bus socket until disconnect() releases it;
    # connecting again without it leaks that socket.
    await client.disconnect()
    await client.connect()
    await client.start_notify(HEART_RATE_MEASUREMENT, on_data)
    await asyncio.wait_for(strap.wait_played(), 5)
    await client.disconnect()
    assert len(received) > before
    assert strap.notifications_lost > 0
    assert strap.notifications_sent + strap.notifications_lost == len(source)
    assert received == sorted(received, key=lambda p: p[2])  # never reordered or repeated


async def test_connect_to_unreachable_device_fails_with_bluez_error(
    fake: FakeBluez, strap: VirtualPeripheral
) -> None:
    """A strap seen in a scan and then out of range: Connect fails with org.bluez.Error.Failed."""
    device = await BleakScanner.find_device_by_address(STRAP, timeout=2)
    assert device is not None
    strap.set_reachable(False)
    with pytest.raises(BleakDBusError) as info:
        await BleakClient(device, timeout=5).connect()
    assert info.value.dbus_error == "org.bluez.Error.Failed"
    assert not strap.connected


async def test_unknown_address_is_not_found(fake: FakeBluez) -> None:
    """Connecting to an address nobody advertises raises BleakDeviceNotFoundError."""
    with pytest.raises(BleakDeviceNotFoundError) as info:
        await BleakClient(ABSENT, timeout=0.5).connect()
    assert info.value.identifier == ABSENT


async def test_unreachable_strap_is_not_discovered(
    fake: FakeBluez, strap: VirtualPeripheral
) -> None:
    """An out-of-range strap does not advertise, so connecting by its address finds nothing."""
    strap.set_reachable(False)
    with pytest.raises(BleakDeviceNotFoundError):
        await BleakClient(STRAP, timeout=0.5).connect()


async def test_closing_the_fake_removes_its_objects_from_bleaks_cache(
    bleak_bus: str,
) -> None:
    """A bleak manager outliving a fake in one loop sees its objects removed, not stale ones."""
    strap = VirtualPeripheral(address=STRAP)
    async with FakeBluez(bleak_bus, peripherals=[strap]):
        assert await BleakScanner.find_device_by_address(STRAP, timeout=2) is not None
    async with FakeBluez(bleak_bus):
        assert await BleakScanner.discover(timeout=0.3) == []


async def test_powered_off_adapter_is_reported_by_bleak(bleak_bus: str) -> None:
    """An adapter that is off makes bleak raise BleakBluetoothNotAvailableError(POWERED_OFF)."""
    async with FakeBluez(bleak_bus, powered=False):
        with pytest.raises(BleakBluetoothNotAvailableError) as info:
            await BleakScanner.discover(timeout=0.2)
    assert info.value.reason is BleakBluetoothNotAvailableReason.POWERED_OFF
