"""The GATT database of a virtual heart-rate strap, as org.bluez D-Bus objects (pure).

Services and characteristics follow the Bluetooth SIG assigned numbers
(Assigned Numbers, section 3.4 "GATT Services" and 3.8 "Characteristics"):
Heart Rate 0x180D with Heart Rate Measurement 0x2A37 (notify, with its Client
Characteristic Configuration descriptor 0x2902) and Body Sensor Location
0x2A38 (read); Battery 0x180F with Battery Level 0x2A19 (read, notify);
Device Information 0x180A with Manufacturer Name 0x2A29 and Model Number
0x2A24 (read). Object paths and properties follow BlueZ's
doc/org.bluez.GattService.rst, GattCharacteristic.rst and GattDescriptor.rst:
``<device>/serviceXXXX/charYYYY/descZZZZ`` with the attribute handle in hex.
"""

from __future__ import annotations

from dataclasses import dataclass

from dbus_fast import Variant

from simulators.bluez._objects import Interfaces

GATT_SERVICE = "org.bluez.GattService1"
GATT_CHARACTERISTIC = "org.bluez.GattCharacteristic1"
GATT_DESCRIPTOR = "org.bluez.GattDescriptor1"


def sig_uuid(short: int) -> str:
    """The 128-bit form of a 16-bit SIG UUID (Core spec Vol 3 Part B 2.5.1: Bluetooth Base UUID)."""
    return f"0000{short:04x}-0000-1000-8000-00805f9b34fb"


HEART_RATE_SERVICE = sig_uuid(0x180D)
HEART_RATE_MEASUREMENT = sig_uuid(0x2A37)
BODY_SENSOR_LOCATION = sig_uuid(0x2A38)
BATTERY_SERVICE = sig_uuid(0x180F)
BATTERY_LEVEL = sig_uuid(0x2A19)
DEVICE_INFORMATION_SERVICE = sig_uuid(0x180A)
MANUFACTURER_NAME = sig_uuid(0x2A29)
MODEL_NUMBER = sig_uuid(0x2A24)
CLIENT_CHARACTERISTIC_CONFIGURATION = sig_uuid(0x2902)

# ATT MTU the fake reports (GattCharacteristic1.MTU, BlueZ >= 5.62); 247 is a common LE value.
ATT_MTU = 247


@dataclass(frozen=True, slots=True, kw_only=True)
class StrapInfo:
    """What the strap's readable characteristics hold when a central connects."""

    battery_pct: int
    manufacturer: str
    model: str
    body_sensor_location: int  # 0x2A38 value: 1 = chest


@dataclass(frozen=True, slots=True, kw_only=True)
class GattPaths:
    """Object paths of the characteristics the fake serves specially."""

    heart_rate_measurement: str
    battery_level: str


def gatt_paths(device_path: str) -> GattPaths:
    """Where the notifying characteristics of the strap at ``device_path`` live."""
    return GattPaths(
        heart_rate_measurement=f"{device_path}/service000c/char000d",
        battery_level=f"{device_path}/service0012/char0013",
    )


def _service(device_path: str, handle: int, uuid: str) -> tuple[str, Interfaces]:
    path = f"{device_path}/service{handle:04x}"
    props = {
        "UUID": Variant("s", uuid),
        "Device": Variant("o", device_path),
        "Primary": Variant("b", True),
        "Includes": Variant("ao", []),
        "Handle": Variant("q", handle),
    }
    return path, {GATT_SERVICE: props}


def _characteristic(
    service_path: str, handle: int, uuid: str, flags: list[str], value: bytes
) -> tuple[str, Interfaces]:
    path = f"{service_path}/char{handle:04x}"
    props = {
        "UUID": Variant("s", uuid),
        "Service": Variant("o", service_path),
        "Value": Variant("ay", value),
        "Flags": Variant("as", flags),
        "Handle": Variant("q", handle),
        "MTU": Variant("q", ATT_MTU),
    }
    if "notify" in flags:
        props["Notifying"] = Variant("b", False)
    return path, {GATT_CHARACTERISTIC: props}


def _cccd(char_path: str, handle: int) -> tuple[str, Interfaces]:
    path = f"{char_path}/desc{handle:04x}"
    props = {
        "UUID": Variant("s", CLIENT_CHARACTERISTIC_CONFIGURATION),
        "Characteristic": Variant("o", char_path),
        "Value": Variant("ay", b""),
        "Flags": Variant("as", ["read", "write"]),
        "Handle": Variant("q", handle),
    }
    return path, {GATT_DESCRIPTOR: props}


def gatt_objects(device_path: str, info: StrapInfo) -> list[tuple[str, Interfaces]]:
    """The strap's services, characteristics and descriptors, parents before children."""
    hr_path, hr = _service(device_path, 0x000C, HEART_RATE_SERVICE)
    bat_path, bat = _service(device_path, 0x0012, BATTERY_SERVICE)
    dis_path, dis = _service(device_path, 0x0016, DEVICE_INFORMATION_SERVICE)
    hrm = _characteristic(hr_path, 0x000D, HEART_RATE_MEASUREMENT, ["notify"], b"")
    level = _characteristic(
        bat_path, 0x0013, BATTERY_LEVEL, ["read", "notify"], bytes([info.battery_pct])
    )
    return [
        (hr_path, hr),
        hrm,
        _cccd(hrm[0], 0x000F),
        _characteristic(
            hr_path, 0x0010, BODY_SENSOR_LOCATION, ["read"], bytes([info.body_sensor_location])
        ),
        (bat_path, bat),
        level,
        _cccd(level[0], 0x0015),
        (dis_path, dis),
        _characteristic(dis_path, 0x0017, MANUFACTURER_NAME, ["read"], info.manufacturer.encode()),
        _characteristic(dis_path, 0x0019, MODEL_NUMBER, ["read"], info.model.encode()),
    ]
