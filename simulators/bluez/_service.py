"""FakeBluez: an ``org.bluez`` service on a D-Bus bus, one adapter hosting virtual peripherals."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Coroutine, Iterable
from types import TracebackType
from typing import Any, Self

from dbus_fast import DBusError, ErrorType, Message, MessageType, Variant
from dbus_fast.aio import MessageBus

from simulators.bluez._gatt import sig_uuid
from simulators.bluez._objects import OBJECT_MANAGER, PROPERTIES, ObjectTree, Properties
from simulators.bluez._peripheral import DEVICE, ERROR_FAILED, Reply, VirtualPeripheral
from simulators.bluez.errors import AlreadyHostedError, DuplicateAddressError

BLUEZ_SERVICE = "org.bluez"
ADAPTER = "org.bluez.Adapter1"
ERROR_DOES_NOT_EXIST = "org.bluez.Error.DoesNotExist"

# Properties a client may Set (the rest are read-only in BlueZ's doc/org.bluez.*.rst).
_WRITABLE = {
    ADAPTER: {"Alias", "Powered", "Pairable", "Discoverable"},
    DEVICE: {"Alias", "Trusted"},
}


def _full_uuid(uuid: str) -> str:
    """A discovery-filter UUID in the 128-bit lower-case form BlueZ compares."""
    return sig_uuid(int(uuid, 16)) if len(uuid) in (4, 8) else uuid.lower()


class FakeBluez:
    """A fake bluetoothd: adapter ``/org/bluez/<adapter>`` and its peripherals, served on a bus.

    Use as an async context manager; it owns the well-known name
    ``org.bluez`` on the bus at ``bus_address`` while open, and answers what
    bleak's BlueZ backend calls: ``GetManagedObjects``, ``Properties``,
    ``Adapter1`` discovery (per-client sessions and UUID filters, as
    bluetoothd keeps them), ``RemoveDevice``, and each peripheral's
    ``Device1`` and GATT methods. Peripherals appear as ``Device1`` objects
    when discovery starts and they are reachable. On exit every object is
    removed with ``InterfacesRemoved`` first, so a bleak manager that
    outlives this fake in the same event loop keeps a true picture. With
    ``powered=False`` the adapter is off: bleak raises
    ``BleakBluetoothNotAvailableError`` (reason ``POWERED_OFF``).
    """

    def __init__(
        self,
        bus_address: str,
        *,
        adapter: str = "hci0",
        adapter_address: str = "00:1A:7D:DA:71:13",
        advertising_interval_s: float = 0.1,
        powered: bool = True,
        peripherals: Iterable[VirtualPeripheral] = (),
    ) -> None:
        self.bus_address = bus_address
        self._adapter_path = f"/org/bluez/{adapter}"
        self._adapter_address = adapter_address
        self._bus: MessageBus | None = None
        self._tree = ObjectTree(self._send)
        self._peripherals: dict[str, VirtualPeripheral] = {}
        self._pending_filters: dict[str, frozenset[str] | None] = {}
        self._discovery: dict[str, frozenset[str] | None] = {}  # sender -> UUID filter
        self._task_group: asyncio.TaskGroup | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._advertising_interval_s = advertising_interval_s
        self._powered = powered
        self._advertising: asyncio.Task[None] | None = None
        self._adverts = 0
        for peripheral in peripherals:
            self.add(peripheral)

    # -- Host protocol ---------------------------------------------------------------

    @property
    def tree(self) -> ObjectTree:
        """All objects the fake serves."""
        return self._tree

    @property
    def adapter_path(self) -> str:
        """Object path of the adapter, e.g. ``/org/bluez/hci0``."""
        return self._adapter_path

    def spawn(self, coro: Coroutine[Any, Any, None], *, name: str) -> None:
        """Run ``coro`` as a named task of this fake; it is cancelled when the fake closes."""
        assert self._task_group is not None, "tasks only run while the fake is open"
        self._start(coro, name=name)

    def _start(self, coro: Coroutine[Any, Any, None], *, name: str) -> asyncio.Task[None]:
        assert self._task_group is not None, "tasks only run while the fake is open"
        task = self._task_group.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def announce(self, peripheral: VirtualPeripheral) -> None:
        """Report an advertisement of ``peripheral`` if it is reachable and discovery wants it.

        A device already known gets a ``PropertiesChanged`` of its RSSI, which
        alternates by 1 dB between adverts: bluetoothd only signals changed
        values, and over the air RSSI always wobbles.
        """
        if self._bus is None or not peripheral.reachable or not self._wanted(peripheral):
            return
        path = peripheral.device_path
        if path in self._tree:
            rssi = peripheral.rssi_dbm - self._adverts % 2
            self._tree.update(path, DEVICE, {"RSSI": Variant("n", rssi)})
        else:
            self._tree.add(path, {DEVICE: peripheral.device_properties()})

    # -- public API ------------------------------------------------------------------

    @property
    def discovering(self) -> bool:
        """Whether some client has a discovery session running."""
        return bool(self._discovery)

    @property
    def peripherals(self) -> list[VirtualPeripheral]:
        """The hosted peripherals, in the order they were added."""
        return list(self._peripherals.values())

    def add(self, peripheral: VirtualPeripheral) -> None:
        """Host ``peripheral``; it is announced at once if discovery is running."""
        if peripheral.address in self._peripherals:
            raise DuplicateAddressError(peripheral.address)
        if peripheral.host is not None:
            raise AlreadyHostedError(peripheral.address)
        self._peripherals[peripheral.address] = peripheral
        peripheral.attach(self)
        if self._bus is not None:
            peripheral.opened()
            self.announce(peripheral)

    def remove(self, peripheral: VirtualPeripheral) -> None:
        """Stop hosting ``peripheral``: its link drops and its device object is removed."""
        if self._peripherals.pop(peripheral.address, None) is not None:
            peripheral.detach()

    async def __aenter__(self) -> Self:
        bus = MessageBus(bus_address=self.bus_address)
        await bus.connect()
        try:
            bus.add_message_handler(self._on_message)
            await self._call_bus(
                bus,
                "AddMatch",
                "s",
                ["type='signal',sender='org.freedesktop.DBus',member='NameOwnerChanged'"],
            )
            self._bus = bus
            self._task_group = asyncio.TaskGroup()
            await self._task_group.__aenter__()
            self._tree.add(self._adapter_path, {ADAPTER: self._adapter_properties()})
            await bus.request_name(BLUEZ_SERVICE)
            for peripheral in self._peripherals.values():
                peripheral.opened()
        except BaseException:
            bus.disconnect()
            self._bus = None
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for peripheral in list(self._peripherals.values()):
            peripheral.link_loss()
            self._tree.remove(peripheral.device_path)
        self._tree.remove(self._adapter_path)
        self._discovery.clear()
        self._advertising = None
        for task in self._tasks:
            task.cancel()
        bus, self._bus = self._bus, None
        try:
            if self._task_group is not None:
                await self._task_group.__aexit__(exc_type, exc, tb)
        finally:
            self._task_group = None
            if bus is not None:
                await self._call_bus(bus, "ReleaseName", "s", [BLUEZ_SERVICE])
                bus.disconnect()

    # -- D-Bus plumbing ----------------------------------------------------------------

    def _send(self, message: Message) -> None:
        if self._bus is not None:
            self._bus.send(message)

    @staticmethod
    async def _call_bus(bus: MessageBus, member: str, signature: str, body: list[Any]) -> None:
        reply = await bus.call(
            Message(
                destination="org.freedesktop.DBus",
                path="/org/freedesktop/DBus",
                interface="org.freedesktop.DBus",
                member=member,
                signature=signature,
                body=body,
            )
        )
        assert reply is not None
        assert reply.message_type is MessageType.METHOD_RETURN, reply

    def _on_message(self, msg: Message) -> Message | bool:
        """Answer method calls on org.bluez objects; track clients leaving the bus."""
        if msg.message_type is MessageType.SIGNAL:
            if msg.member == "NameOwnerChanged" and msg.body[0].startswith(":") and not msg.body[2]:
                self._forget_sender(msg.body[0])
            return False
        if msg.message_type is not MessageType.METHOD_CALL or msg.path is None:
            return False
        if (
            msg.interface == OBJECT_MANAGER
            and msg.member == "GetManagedObjects"
            and msg.path == "/"
        ):
            return Message.new_method_return(msg, "a{oa{sa{sv}}}", [self._tree.managed_objects()])
        interfaces = self._tree.interfaces(msg.path)
        if interfaces is None:
            if msg.path.startswith("/org/bluez/"):
                raise DBusError(ErrorType.UNKNOWN_OBJECT, f"Object {msg.path} does not exist")
            return False
        if msg.interface == PROPERTIES:
            return Message.new_method_return(msg, *self._properties_call(msg, interfaces))
        if msg.interface not in interfaces or msg.member is None or msg.sender is None:
            return False
        reply = self._route(msg.path, msg.interface, msg.member, msg.sender, msg.body)
        if inspect.iscoroutine(reply):
            self.spawn(self._reply_later(msg, reply), name=f"{msg.member}[{msg.path}]")
            return True
        assert isinstance(reply, tuple)
        return Message.new_method_return(msg, *reply)

    async def _reply_later(self, msg: Message, pending: Coroutine[Any, Any, Reply]) -> None:
        try:
            signature, body = await pending
        except DBusError as exc:
            self._send(Message.new_error(msg, exc.type, exc.text))
        else:
            self._send(Message.new_method_return(msg, signature, body))

    def _route(
        self, path: str, interface: str, member: str, sender: str, body: list[Any]
    ) -> Reply | Coroutine[Any, Any, Reply]:
        if interface == ADAPTER:
            return self._adapter_call(member, sender, body)
        for peripheral in self._peripherals.values():
            if peripheral.owns(path):
                return peripheral.call(path, interface, member, sender)
        raise DBusError(ErrorType.UNKNOWN_OBJECT, f"Object {path} does not exist")

    def _properties_call(self, msg: Message, interfaces: dict[str, Properties]) -> Reply:
        name = msg.body[0] if msg.body else ""
        props = interfaces.get(name)
        if props is None:
            raise DBusError(ErrorType.INVALID_ARGS, f"No such interface '{name}'")
        if msg.member == "GetAll":
            return ("a{sv}", [props])
        prop = msg.body[1]
        if prop not in props:
            raise DBusError(ErrorType.INVALID_ARGS, f"No such property '{prop}'")
        if msg.member == "Get":
            return ("v", [props[prop]])
        if msg.member == "Set":
            if prop not in _WRITABLE.get(name, set()):
                raise DBusError(ErrorType.PROPERTY_READ_ONLY, f"Property '{prop}' is not writable")
            value: Variant = msg.body[2]
            assert msg.path is not None
            self._tree.update(msg.path, name, {prop: value})
            return ("", [])
        raise DBusError(ErrorType.UNKNOWN_METHOD, f"Unknown method {msg.member}")

    # -- Adapter1 ----------------------------------------------------------------------

    def _adapter_properties(self) -> Properties:
        return {
            "Address": Variant("s", self._adapter_address),
            "AddressType": Variant("s", "public"),
            "Name": Variant("s", "vagus-fake"),
            "Alias": Variant("s", "vagus-fake"),
            "Class": Variant("u", 0),
            "Powered": Variant("b", self._powered),
            "Discoverable": Variant("b", False),
            "DiscoverableTimeout": Variant("u", 180),
            "Pairable": Variant("b", False),
            "PairableTimeout": Variant("u", 0),
            "Discovering": Variant("b", False),
            "UUIDs": Variant("as", []),
            "Modalias": Variant("s", "usb:v1D6Bp0246d0542"),
            "Roles": Variant("as", ["central", "peripheral"]),
        }

    def _adapter_call(self, member: str, sender: str, body: list[Any]) -> Reply:
        if member == "SetDiscoveryFilter":
            uuids = body[0].get("UUIDs")
            self._pending_filters[sender] = (
                None if uuids is None else frozenset(_full_uuid(u) for u in uuids.value)
            )
            return ("", [])
        if member == "StartDiscovery":
            self._discovery[sender] = self._pending_filters.get(sender)
            self._set_discovering()
            return ("", [])
        if member == "StopDiscovery":
            if sender not in self._discovery:
                raise DBusError(ERROR_FAILED, "No discovery started")
            del self._discovery[sender]
            self._set_discovering()
            return ("", [])
        if member == "RemoveDevice":
            return self._remove_device(body[0])
        raise DBusError(ErrorType.UNKNOWN_METHOD, f"Adapter1.{member} is not served by the fake")

    def _remove_device(self, path: str) -> Reply:
        for peripheral in self._peripherals.values():
            if peripheral.device_path == path and path in self._tree:
                peripheral.link_loss()
                self._tree.remove(path)
                return ("", [])
        raise DBusError(ERROR_DOES_NOT_EXIST, "Does Not Exist")

    def _set_discovering(self) -> None:
        discovering = bool(self._discovery)
        if self._tree.value(self._adapter_path, ADAPTER, "Discovering") == discovering:
            return
        self._tree.update(self._adapter_path, ADAPTER, {"Discovering": Variant("b", discovering)})
        if discovering:
            self._advertising = self._start(self._advertise(), name="advertising")
        elif self._advertising is not None:
            self._advertising.cancel()
            self._advertising = None

    async def _advertise(self) -> None:
        """While discovering, report each wanted peripheral's advert every advertising interval."""
        while True:
            self._adverts += 1
            for peripheral in self._peripherals.values():
                self.announce(peripheral)
            await asyncio.sleep(self._advertising_interval_s)

    def _wanted(self, peripheral: VirtualPeripheral) -> bool:
        return any(
            uuids is None or not uuids.isdisjoint(peripheral.advertised_uuids)
            for uuids in self._discovery.values()
        )

    def _forget_sender(self, sender: str) -> None:
        self._pending_filters.pop(sender, None)
        if self._discovery.pop(sender, ...) is not ...:
            self._set_discovering()
        for peripheral in self._peripherals.values():
            peripheral.forget_sender(sender)
