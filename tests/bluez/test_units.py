"""The fake BlueZ's pure parts: object tree signals, GATT layout, playback timing, config checks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from dbus_fast import Message, Variant

from simulators.bluez import (
    HEART_RATE_MEASUREMENT,
    DuplicateAddressError,
    FakeBluez,
    PeripheralConfigError,
    VirtualPeripheral,
    play,
    sig_uuid,
)
from simulators.bluez._gatt import StrapInfo, gatt_objects, gatt_paths
from simulators.bluez._objects import ObjectTree

DEVICE = "/org/bluez/hci0/dev_C0_FF_EE_00_00_01"


def test_tree_announces_adds_changes_and_removals_like_bluetoothd() -> None:
    """Adds, changes and removals (deepest first) emit the ObjectManager/Properties signals."""
    sent: list[Message] = []
    tree = ObjectTree(sent.append)
    tree.add(DEVICE, {"org.bluez.Device1": {"RSSI": Variant("n", -60)}})
    tree.add(DEVICE + "/service000c", {"org.bluez.GattService1": {}})
    tree.update(DEVICE, "org.bluez.Device1", {"RSSI": Variant("n", -61)})
    tree.remove_children(DEVICE)
    tree.remove(DEVICE)
    assert [(m.path, m.member, m.body[0]) for m in sent] == [
        ("/", "InterfacesAdded", DEVICE),
        ("/", "InterfacesAdded", DEVICE + "/service000c"),
        (DEVICE, "PropertiesChanged", "org.bluez.Device1"),
        ("/", "InterfacesRemoved", DEVICE + "/service000c"),
        ("/", "InterfacesRemoved", DEVICE),
    ]
    assert tree.managed_objects() == {}


def test_gatt_layout_matches_bleaks_path_conventions() -> None:
    """Characteristic paths end in /serviceXXXX/charYYYY (bleak strips 21 chars to the device)."""
    objects = dict(
        gatt_objects(
            DEVICE, StrapInfo(battery_pct=80, manufacturer="M", model="X", body_sensor_location=1)
        )
    )
    hrm = gatt_paths(DEVICE).heart_rate_measurement
    assert hrm[:-21] == DEVICE
    props = objects[hrm]["org.bluez.GattCharacteristic1"]
    assert props["UUID"].value == HEART_RATE_MEASUREMENT
    assert props["Flags"].value == ["notify"]
    level = objects[gatt_paths(DEVICE).battery_level]["org.bluez.GattCharacteristic1"]
    assert level["Value"].value == bytes([80])
    parents = [path for path in objects if path.count("/") == DEVICE.count("/") + 1]
    assert len(parents) == 3  # Heart Rate, Battery, Device Information


def test_sig_uuid_expands_with_the_bluetooth_base_uuid() -> None:
    """0x180D becomes 0000180d-0000-1000-8000-00805f9b34fb."""
    assert sig_uuid(0x180D) == "0000180d-0000-1000-8000-00805f9b34fb"


async def test_play_keeps_the_schedule_without_drift() -> None:
    """Items fall due at (t - origin) / speed on the given clock, sync and async sources alike."""
    loop = asyncio.get_running_loop()
    times: list[float] = []

    async def source() -> AsyncIterator[tuple[float, bytes]]:
        for i in range(5):
            yield (10.0 + i, bytes([i]))

    start = loop.time()
    count = await play(
        source(), speed=50.0, emit=lambda _p: times.append(loop.time()), clock=loop.time
    )
    assert count == 5
    offsets = [t - start for t in times]
    assert offsets == pytest.approx([0.0, 0.02, 0.04, 0.06, 0.08], abs=0.01)
    times.clear()
    start = loop.time()
    await play(
        [(1.0, b"a")],
        speed=100.0,
        emit=lambda _p: times.append(loop.time()),
        clock=loop.time,
        origin_t_s=0.0,
    )
    assert times[0] - start == pytest.approx(0.01, abs=0.008)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"address": "c0:ff:ee:00:00:01"}, "address"),
        ({"address": "C0:FF:EE:00:00:01", "speed": 0.0}, "speed"),
        ({"address": "C0:FF:EE:00:00:01", "battery_pct": 101}, "battery_pct"),
        ({"address": "C0:FF:EE:00:00:01", "rssi_dbm": -200}, "rssi_dbm"),
        ({"address": "C0:FF:EE:00:00:01", "connect_delay_s": -1.0}, "connect_delay_s"),
    ],
)
def test_peripheral_rejects_bad_settings(kwargs: dict[str, object], field: str) -> None:
    """Each bad setting raises PeripheralConfigError naming the field."""
    with pytest.raises(PeripheralConfigError) as info:
        VirtualPeripheral(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


def test_two_straps_with_one_address_are_refused() -> None:
    """A fake adapter cannot host two peripherals with the same address."""
    bluez = FakeBluez(
        "unix:path=/nonexistent", peripherals=[VirtualPeripheral(address="C0:FF:EE:00:00:01")]
    )
    with pytest.raises(DuplicateAddressError):
        bluez.add(VirtualPeripheral(address="C0:FF:EE:00:00:01"))


def test_unhosted_peripheral_state_changes_need_no_bus() -> None:
    """Battery and reachability can be set before hosting; link_loss reports no link."""
    strap = VirtualPeripheral(address="C0:FF:EE:00:00:01")
    strap.set_battery(50)
    strap.set_reachable(False)
    assert (strap.battery_pct, strap.reachable, strap.link_loss()) == (50, False, False)
