"""A virtual heart-rate strap as BlueZ shows it: a Device1 that connects, serves GATT, notifies."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Coroutine, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol

from dbus_fast import DBusError, Variant

from simulators.bluez._gatt import (
    BATTERY_SERVICE,
    CLIENT_CHARACTERISTIC_CONFIGURATION,
    DEVICE_INFORMATION_SERVICE,
    GATT_CHARACTERISTIC,
    GATT_DESCRIPTOR,
    HEART_RATE_SERVICE,
    GattPaths,
    StrapInfo,
    gatt_objects,
    gatt_paths,
)
from simulators.bluez._objects import ObjectTree, Properties
from simulators.bluez._playback import NotificationSource, play
from simulators.bluez.errors import PeripheralConfigError

if TYPE_CHECKING:
    from simulators.bluez._objects import Interfaces

DEVICE = "org.bluez.Device1"

# Error names and texts as bluetoothd sends them (src/error.c, src/device.c, src/gatt-client.c).
ERROR_FAILED = "org.bluez.Error.Failed"
ERROR_ALREADY_CONNECTED = "org.bluez.Error.AlreadyConnected"
ERROR_IN_PROGRESS = "org.bluez.Error.InProgress"
ERROR_NOT_CONNECTED = "org.bluez.Error.NotConnected"
ERROR_NOT_PERMITTED = "org.bluez.Error.NotPermitted"
ERROR_NOT_SUPPORTED = "org.bluez.Error.NotSupported"
UNREACHABLE_TEXT = "Software caused connection abort"

# Appearance 0x0341: "Heart Rate Sensor: Heart Rate Belt" (Assigned Numbers 2.6.3).
APPEARANCE_HEART_RATE_BELT = 0x0341
# Company identifier 0x006B: Polar Electro Oy (Assigned Numbers 7, company identifiers).
POLAR_COMPANY_ID = 0x006B

_ADDRESS = re.compile(r"[0-9A-F]{2}(:[0-9A-F]{2}){5}")

Reply = tuple[str, list[Any]]
"""A method's D-Bus reply: its signature and body."""


class Host(Protocol):
    """What a hosting FakeBluez offers its peripherals."""

    @property
    def tree(self) -> ObjectTree: ...

    @property
    def adapter_path(self) -> str: ...

    def spawn(self, coro: Coroutine[Any, Any, None], *, name: str) -> None: ...

    def announce(self, peripheral: VirtualPeripheral) -> None: ...


class VirtualPeripheral:
    """A heart-rate strap hosted by a :class:`FakeBluez`.

    It advertises ``advertised_uuids`` (the Heart Rate service by default)
    while the adapter discovers, accepts ``Connect`` when reachable, then
    serves Heart Rate (0x180D), Battery (0x180F) and Device Information
    (0x180A). ``notifications`` are played at ``speed`` times real time:
    with ``clock_starts="first_subscribe"`` the first payload goes out when a
    central first subscribes to Heart Rate Measurement (a strap just put
    on); with ``"hosted"`` the source's ``t_s = 0`` is the moment a running
    FakeBluez hosts the strap (a strap worn all along, as in a scenario).
    Payloads falling due while the link is down or nobody is subscribed are
    lost (counted in ``notifications_lost``), as they would be over the air.
    """

    def __init__(
        self,
        *,
        address: str,
        name: str = "Polar H10 0A1B2C3D",
        notifications: NotificationSource = (),
        speed: float = 1.0,
        battery_pct: int = 100,
        rssi_dbm: int = -60,
        manufacturer: str = "Polar Electro Oy",
        model: str = "H10",
        advertised_uuids: Sequence[str] = (HEART_RATE_SERVICE,),
        manufacturer_data: Mapping[int, bytes] | None = None,
        connect_delay_s: float = 0.05,
        reachable: bool = True,
        clock_starts: Literal["first_subscribe", "hosted"] = "first_subscribe",
    ) -> None:
        if not _ADDRESS.fullmatch(address):
            raise PeripheralConfigError(
                field="address", value=address, allowed="six upper-case hex pairs, AA:BB:..."
            )
        if not speed > 0:
            raise PeripheralConfigError(field="speed", value=speed, allowed="> 0")
        if not -127 <= rssi_dbm <= 20:
            raise PeripheralConfigError(field="rssi_dbm", value=rssi_dbm, allowed="-127..20")
        if connect_delay_s < 0:
            raise PeripheralConfigError(
                field="connect_delay_s", value=connect_delay_s, allowed=">= 0"
            )
        _check_battery(battery_pct)
        self.address = address
        self.name = name
        self.speed = speed
        self.rssi_dbm = rssi_dbm
        self.advertised_uuids = tuple(u.lower() for u in advertised_uuids)
        self.manufacturer_data = (
            {POLAR_COMPANY_ID: b"\x3f\x00\x00"} if manufacturer_data is None else manufacturer_data
        )
        self.notifications_sent = 0
        self.notifications_lost = 0
        self._source = notifications
        self._connect_delay_s = connect_delay_s
        self._reachable = reachable
        self._battery_pct = battery_pct
        self._manufacturer = manufacturer
        self._model = model
        self._host: Host | None = None
        self._connected = False
        self._connecting = False
        self._sessions: dict[str, set[str]] = {}  # characteristic path -> subscribed senders
        self._clock_starts = clock_starts
        self._playing = False
        self._played = asyncio.Event()

    # -- state and control -------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """Whether a central holds a link to the strap."""
        return self._connected

    @property
    def reachable(self) -> bool:
        """Whether the strap is in range (advertising, accepting connections)."""
        return self._reachable

    @property
    def battery_pct(self) -> int:
        """Battery level served by 0x2A19, in percent."""
        return self._battery_pct

    @property
    def device_path(self) -> str:
        """The strap's object path on the hosting adapter (``/org/bluez/hci0/dev_AA_BB_...``)."""
        adapter = "/org/bluez/hci0" if self._host is None else self._host.adapter_path
        return f"{adapter}/dev_{self.address.replace(':', '_')}"

    @property
    def notifying(self) -> bool:
        """Whether some central is subscribed to Heart Rate Measurement."""
        return bool(self._sessions.get(self._paths.heart_rate_measurement))

    def link_loss(self) -> bool:
        """Drop the link from the strap's side, as when it goes out of range.

        BlueZ then sets ``Connected`` false and removes the GATT objects.
        Returns whether there was a link to lose.
        """
        if not self._connected:
            return False
        self._drop_link()
        return True

    def set_reachable(self, reachable: bool) -> None:
        """Move the strap out of range (link lost, ``Connect`` fails) or back into it."""
        self._reachable = reachable
        if not reachable:
            self.link_loss()
        elif self._host is not None:
            self._host.announce(self)

    def set_battery(self, pct: int) -> None:
        """Set the battery level; subscribers to 0x2A19 get a notification."""
        _check_battery(pct)
        self._battery_pct = pct
        if self._connected:
            path = self._paths.battery_level
            self._tree.update(path, GATT_CHARACTERISTIC, {"Value": Variant("ay", bytes([pct]))})

    async def wait_played(self) -> None:
        """Wait until every notification of the source has fallen due (sent or lost)."""
        await self._played.wait()

    # -- what the hosting FakeBluez calls ---------------------------------------------

    def attach(self, host: Host) -> None:
        """Start being hosted by ``host``."""
        self._host = host

    def opened(self) -> None:
        """The hosting FakeBluez is running: start a ``clock_starts="hosted"`` playback."""
        if self._clock_starts == "hosted":
            self._start_playback(origin_t_s=0.0)

    def detach(self) -> None:
        """Stop being hosted: the link drops and the device object goes away."""
        self.link_loss()
        self._tree.remove(self.device_path)
        self._sessions.clear()
        self._host = None

    @property
    def host(self) -> Host | None:
        """The FakeBluez hosting the strap, if any."""
        return self._host

    def device_properties(self) -> Properties:
        """``org.bluez.Device1`` properties of the strap as discovery first reports them."""
        return {
            "Address": Variant("s", self.address),
            "AddressType": Variant("s", "public"),
            "Name": Variant("s", self.name),
            "Alias": Variant("s", self.name),
            "Adapter": Variant("o", self.device_path.rsplit("/", 1)[0]),
            "Appearance": Variant("q", APPEARANCE_HEART_RATE_BELT),
            "Paired": Variant("b", False),
            "Bonded": Variant("b", False),
            "Trusted": Variant("b", False),
            "Blocked": Variant("b", False),
            "LegacyPairing": Variant("b", False),
            "Connected": Variant("b", False),
            "ServicesResolved": Variant("b", False),
            "UUIDs": Variant("as", list(self.advertised_uuids)),
            "RSSI": Variant("n", self.rssi_dbm),
            "ManufacturerData": Variant(
                "a{qv}", {k: Variant("ay", v) for k, v in self.manufacturer_data.items()}
            ),
            "ServiceData": Variant("a{sv}", {}),
        }

    def owns(self, path: str) -> bool:
        """Whether ``path`` is the strap's device object or one of its GATT objects."""
        return path == self.device_path or path.startswith(self.device_path + "/")

    def call(
        self, path: str, interface: str, member: str, sender: str
    ) -> Reply | Coroutine[Any, Any, Reply]:
        """Answer a method call on one of the strap's objects; errors are ``DBusError``s."""
        if interface == DEVICE and member == "Connect":
            return self._connect()
        if interface == DEVICE and member == "Disconnect":
            if not self._connected:
                raise DBusError(ERROR_NOT_CONNECTED, "Not Connected")
            self._drop_link()
            return ("", [])
        if interface == GATT_CHARACTERISTIC and member == "ReadValue":
            return self._read_characteristic(path)
        if interface == GATT_DESCRIPTOR and member == "ReadValue":
            return self._read_descriptor(path)
        if interface == GATT_CHARACTERISTIC and member == "StartNotify":
            return self._start_notify(path, sender)
        if interface == GATT_CHARACTERISTIC and member == "StopNotify":
            return self._stop_notify(path, sender)
        if member == "WriteValue":
            raise DBusError(ERROR_NOT_PERMITTED, "Write not permitted")
        raise DBusError(ERROR_NOT_SUPPORTED, "Operation is not supported")

    def forget_sender(self, sender: str) -> None:
        """Drop the notification sessions of a bus client that went away (as bluetoothd does)."""
        for path in list(self._sessions):
            self._unsubscribe(path, sender)

    # -- internals ----------------------------------------------------------------------

    @property
    def _tree(self) -> ObjectTree:
        assert self._host is not None, "only hosted peripherals touch the object tree"
        return self._host.tree

    @property
    def _paths(self) -> GattPaths:
        return gatt_paths(self.device_path)

    def _objects(self) -> list[tuple[str, Interfaces]]:
        info = StrapInfo(
            battery_pct=self._battery_pct,
            manufacturer=self._manufacturer,
            model=self._model,
            body_sensor_location=1,
        )
        return gatt_objects(self.device_path, info)

    async def _connect(self) -> Reply:
        if self._connected:
            raise DBusError(ERROR_ALREADY_CONNECTED, "Already Connected")
        if self._connecting:
            raise DBusError(ERROR_IN_PROGRESS, "In Progress")
        self._connecting = True
        try:
            await asyncio.sleep(self._connect_delay_s)
        finally:
            self._connecting = False
        if not self._reachable or self._host is None:
            raise DBusError(ERROR_FAILED, UNREACHABLE_TEXT)
        device = self.device_path
        self._connected = True
        self._tree.update(device, DEVICE, {"Connected": Variant("b", True)})
        for path, interfaces in self._objects():
            self._tree.add(path, interfaces)
        services = [HEART_RATE_SERVICE, BATTERY_SERVICE, DEVICE_INFORMATION_SERVICE]
        self._tree.update(
            device,
            DEVICE,
            {"UUIDs": Variant("as", services), "ServicesResolved": Variant("b", True)},
        )
        return ("", [])

    def _drop_link(self) -> None:
        device = self.device_path
        self._connected = False
        self._sessions.clear()
        self._tree.remove_children(device)
        self._tree.update(device, DEVICE, {"ServicesResolved": Variant("b", False)})
        self._tree.update(device, DEVICE, {"Connected": Variant("b", False)})

    def _flags(self, path: str) -> list[str]:
        flags = self._tree.value(path, GATT_CHARACTERISTIC, "Flags")
        assert isinstance(flags, list)
        return flags

    def _read_characteristic(self, path: str) -> Reply:
        if "read" not in self._flags(path):
            raise DBusError(ERROR_NOT_PERMITTED, "Read not permitted")
        return ("ay", [self._tree.value(path, GATT_CHARACTERISTIC, "Value")])

    def _read_descriptor(self, path: str) -> Reply:
        uuid = self._tree.value(path, GATT_DESCRIPTOR, "UUID")
        if uuid != CLIENT_CHARACTERISTIC_CONFIGURATION:
            raise DBusError(ERROR_NOT_PERMITTED, "Read not permitted")
        char_path = path.rsplit("/", 1)[0]
        return ("ay", [b"\x01\x00" if self._sessions.get(char_path) else b"\x00\x00"])

    def _start_notify(self, path: str, sender: str) -> Reply:
        if "notify" not in self._flags(path):
            raise DBusError(ERROR_NOT_SUPPORTED, "Operation is not supported")
        senders = self._sessions.setdefault(path, set())
        if not senders:
            self._tree.update(path, GATT_CHARACTERISTIC, {"Notifying": Variant("b", True)})
        senders.add(sender)
        if path == self._paths.heart_rate_measurement:
            self._start_playback(origin_t_s=None)
        return ("", [])

    def _stop_notify(self, path: str, sender: str) -> Reply:
        if sender not in self._sessions.get(path, set()):
            raise DBusError(ERROR_FAILED, "No notify session started")
        self._unsubscribe(path, sender)
        return ("", [])

    def _unsubscribe(self, path: str, sender: str) -> None:
        senders = self._sessions.get(path)
        if senders is None or sender not in senders:
            return
        senders.discard(sender)
        if not senders:
            del self._sessions[path]
            if path in self._tree:
                self._tree.update(path, GATT_CHARACTERISTIC, {"Notifying": Variant("b", False)})

    def _start_playback(self, *, origin_t_s: float | None) -> None:
        if self._playing:
            return
        self._playing = True
        assert self._host is not None
        self._host.spawn(self._play(origin_t_s), name=f"notifications[{self.address}]")

    async def _play(self, origin_t_s: float | None) -> None:
        loop = asyncio.get_running_loop()
        await play(
            self._source,
            speed=self.speed,
            emit=self._notify,
            clock=loop.time,
            origin_t_s=origin_t_s,
        )
        self._played.set()

    def _notify(self, payload: bytes) -> None:
        path = self._paths.heart_rate_measurement
        if self._host is None or not self._sessions.get(path):
            self.notifications_lost += 1
            return
        self._tree.update(path, GATT_CHARACTERISTIC, {"Value": Variant("ay", payload)})
        self.notifications_sent += 1


def _check_battery(pct: int) -> None:
    if not 0 <= pct <= 100:
        raise PeripheralConfigError(field="battery_pct", value=pct, allowed="0..100")
