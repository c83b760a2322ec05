"""The Bluetooth surface the adapter uses, as Protocols, and its bleak implementation.

`GattClient` is the part of `bleak.BleakClient` the link uses; `BleBackend`
finds and connects heart-rate devices. `BleakBackend` implements it with
unpatched bleak and bleak-retry-connector (real BlueZ, or a fake BlueZ on a
private D-Bus); tests inject a replaying fake instead. Library errors are
wrapped here into `ingest.errors` types.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from bleak import BleakClient, BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import BleakBluetoothNotAvailableError, BleakDBusError, BleakError
from bleak_retry_connector import establish_connection

from ingest.errors import BluetoothUnavailableError, ConnectError

__all__ = [
    "BATTERY_LEVEL",
    "HEART_RATE_MEASUREMENT",
    "HEART_RATE_SERVICE",
    "MANUFACTURER_NAME",
    "MODEL_NUMBER",
    "BleBackend",
    "BleakBackend",
    "FoundDevice",
    "GattClient",
    "NotifyCallback",
    "Target",
]


def _sig_uuid(short: int) -> str:
    """The 128-bit form of a Bluetooth SIG 16-bit UUID (Core Spec Vol 3, Part B, 2.5.1)."""
    return f"0000{short:04x}-0000-1000-8000-00805f9b34fb"


HEART_RATE_SERVICE: Final = _sig_uuid(0x180D)
HEART_RATE_MEASUREMENT: Final = _sig_uuid(0x2A37)
BATTERY_LEVEL: Final = _sig_uuid(0x2A19)
MANUFACTURER_NAME: Final = _sig_uuid(0x2A29)
MODEL_NUMBER: Final = _sig_uuid(0x2A24)

_ADDRESS: Final = re.compile(r"^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f-]{36}$")

NotifyCallback = Callable[[Any, bytearray], None]
"""bleak's notification callback: (characteristic, data)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FoundDevice:
    """A device advertising the Heart Rate service; ``handle`` is the backend's own object."""

    name: str
    address: str
    rssi_dbm: int
    handle: object = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """Which strap: by ``address`` (MAC, or a UUID on macOS) or by advertised ``name``."""

    address: str | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        if (self.address is None) == (self.name is None):
            raise ValueError("Target needs exactly one of address or name")

    @classmethod
    def parse(cls, text: str) -> Target:
        """An address when ``text`` looks like one, otherwise a name."""
        text = text.strip()
        if not text:
            raise ValueError("empty device: give an address (C0:FF:EE:..) or a name")
        return cls(address=text.upper()) if _ADDRESS.match(text) else cls(name=text)

    @property
    def label(self) -> str:
        """The address or name, for task names and messages."""
        return self.address or self.name or ""

    def matches(self, device: FoundDevice) -> bool:
        """True when ``device`` is this target (addresses compare case-insensitively)."""
        if self.address is not None:
            return device.address.upper() == self.address
        return device.name == self.name


class GattServices(Protocol):
    """The part of `bleak.BleakGATTServiceCollection` the link uses."""

    def get_characteristic(self, specifier: str) -> object | None: ...


class GattClient(Protocol):
    """The part of `bleak.BleakClient` the link uses."""

    @property
    def address(self) -> str: ...

    @property
    def is_connected(self) -> bool: ...

    @property
    def services(self) -> GattServices: ...

    async def start_notify(self, char_specifier: str, callback: NotifyCallback) -> None: ...

    async def stop_notify(self, char_specifier: str) -> None: ...

    async def read_gatt_char(self, char_specifier: str) -> bytearray: ...

    async def disconnect(self) -> None: ...


class BleBackend(Protocol):
    """Finds heart-rate devices and connects to them."""

    async def discover(self, timeout_s: float) -> list[FoundDevice]:
        """Every device advertising 0x180D seen within ``timeout_s``."""
        ...

    async def find(self, target: Target, timeout_s: float) -> FoundDevice | None:
        """The first advertisement of ``target`` within ``timeout_s``, or None."""
        ...

    async def connect(
        self, device: FoundDevice, on_disconnect: Callable[[], None], timeout_s: float
    ) -> GattClient:
        """A connected client; ``on_disconnect`` runs when the link drops."""
        ...


class BleakBackend:
    """`BleBackend` on unpatched bleak; the adapter is BlueZ's default unless ``adapter``.

    Scans are serialised: bleak's BlueZ backend shares one D-Bus connection per
    process, and BlueZ keeps one discovery session per connection, so two
    overlapping scans (several straps searching at once) would stop each
    other's discovery ("No discovery started"). Share one backend between links.
    """

    def __init__(self, *, adapter: str | None = None) -> None:
        self._scan_lock = asyncio.Lock()
        self._scanner_args: dict[str, Any] = {"service_uuids": [HEART_RATE_SERVICE]}
        if adapter is not None:
            self._scanner_args["bluez"] = {"adapter": adapter}

    async def discover(self, timeout_s: float) -> list[FoundDevice]:
        try:
            async with self._scan_lock:
                seen = await BleakScanner.discover(timeout_s, return_adv=True, **self._scanner_args)
        except (BleakError, OSError) as exc:
            raise _unavailable(exc) from exc
        found = [_found(device, adv) for device, adv in seen.values() if _offers_hr(adv)]
        return sorted(found, key=lambda d: -d.rssi_dbm)

    async def find(self, target: Target, timeout_s: float) -> FoundDevice | None:
        hits: list[FoundDevice] = []

        def wanted(device: BLEDevice, adv: AdvertisementData) -> bool:
            candidate = _found(device, adv)
            if _offers_hr(adv) and target.matches(candidate):
                hits.append(candidate)
                return True
            return False

        try:
            async with self._scan_lock:
                await BleakScanner.find_device_by_filter(wanted, timeout_s, **self._scanner_args)
        except (BleakError, OSError) as exc:
            raise _unavailable(exc) from exc
        return hits[0] if hits else None

    async def connect(
        self, device: FoundDevice, on_disconnect: Callable[[], None], timeout_s: float
    ) -> GattClient:
        if not isinstance(device.handle, BLEDevice):
            raise TypeError(f"{device.address}: handle is not a bleak BLEDevice")
        try:
            client = await establish_connection(
                BleakClient,
                device.handle,
                device.name or device.address,
                disconnected_callback=lambda _client: on_disconnect(),
                max_attempts=1,
                timeout=timeout_s,
            )
        except BleakBluetoothNotAvailableError as exc:
            raise _unavailable(exc) from exc
        except BleakError as exc:
            raise ConnectError(device.address, str(exc) or type(exc).__name__) from exc
        return client


def _found(device: BLEDevice, adv: AdvertisementData) -> FoundDevice:
    return FoundDevice(
        name=adv.local_name or device.name or "",
        address=device.address,
        rssi_dbm=adv.rssi,
        handle=device,
    )


def _offers_hr(adv: AdvertisementData) -> bool:
    return HEART_RATE_SERVICE in (u.lower() for u in adv.service_uuids)


def _unavailable(exc: BaseException) -> BluetoothUnavailableError:
    """A one-line reason from bleak's or the OS's error (no adapter, no permission, no D-Bus)."""
    if isinstance(exc, BleakBluetoothNotAvailableError):
        return BluetoothUnavailableError(f"{exc.reason.name.lower().replace('_', ' ')}: {exc}")
    if isinstance(exc, PermissionError):
        return BluetoothUnavailableError("permission denied on the system D-Bus")
    if isinstance(exc, FileNotFoundError | ConnectionRefusedError):
        return BluetoothUnavailableError("no system D-Bus (is BlueZ installed and running?)")
    if isinstance(exc, BleakDBusError):
        return BluetoothUnavailableError(f"BlueZ answered {exc.dbus_error}")
    return BluetoothUnavailableError(str(exc) or type(exc).__name__)
