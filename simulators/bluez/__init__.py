"""A fake BlueZ (``org.bluez`` over D-Bus) hosting virtual heart-rate straps for unpatched bleak.

Start a D-Bus daemon (the tests' ``system_bus`` fixture), open
``FakeBluez(address)`` on it with some :class:`VirtualPeripheral` straps,
and point ``DBUS_SYSTEM_BUS_ADDRESS`` at the same address before bleak's
first call in the event loop: ``BleakScanner`` and ``BleakClient`` then
scan, connect, read and subscribe through bleak's real BlueZ backend.
"""

from simulators.bluez._gatt import (
    BATTERY_LEVEL,
    BATTERY_SERVICE,
    BODY_SENSOR_LOCATION,
    DEVICE_INFORMATION_SERVICE,
    HEART_RATE_MEASUREMENT,
    HEART_RATE_SERVICE,
    MANUFACTURER_NAME,
    MODEL_NUMBER,
    sig_uuid,
)
from simulators.bluez._peripheral import VirtualPeripheral
from simulators.bluez._playback import NotificationSource, Timeline, play
from simulators.bluez._runner import ScenarioStrap, run_straps, scenario_straps, strap_address
from simulators.bluez._service import FakeBluez
from simulators.bluez.errors import (
    AlreadyHostedError,
    DuplicateAddressError,
    FakeBluezError,
    PeripheralConfigError,
)

__all__ = [
    "BATTERY_LEVEL",
    "BATTERY_SERVICE",
    "BODY_SENSOR_LOCATION",
    "DEVICE_INFORMATION_SERVICE",
    "HEART_RATE_MEASUREMENT",
    "HEART_RATE_SERVICE",
    "MANUFACTURER_NAME",
    "MODEL_NUMBER",
    "AlreadyHostedError",
    "DuplicateAddressError",
    "FakeBluez",
    "FakeBluezError",
    "NotificationSource",
    "PeripheralConfigError",
    "ScenarioStrap",
    "Timeline",
    "VirtualPeripheral",
    "play",
    "run_straps",
    "scenario_straps",
    "sig_uuid",
    "strap_address",
]
