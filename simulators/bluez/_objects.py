"""The org.bluez object tree as data, announcing every change as the D-Bus signals BlueZ sends.

Objects are ``path -> interface -> property -> Variant``. Adding or removing
an object emits ``org.freedesktop.DBus.ObjectManager.InterfacesAdded`` /
``InterfacesRemoved`` from ``/`` (where bluetoothd's ObjectManager lives);
changing properties emits ``org.freedesktop.DBus.Properties.PropertiesChanged``
on the object. Signals go to ``send``; the tree itself does no IO.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from dbus_fast import Message, Variant

OBJECT_MANAGER = "org.freedesktop.DBus.ObjectManager"
PROPERTIES = "org.freedesktop.DBus.Properties"

Properties = dict[str, Variant]
Interfaces = dict[str, Properties]


class ObjectTree:
    """Every exported object's properties, in one place."""

    def __init__(self, send: Callable[[Message], object]) -> None:
        self._send = send
        self._objects: dict[str, Interfaces] = {}

    def __contains__(self, path: object) -> bool:
        return path in self._objects

    def interfaces(self, path: str) -> Interfaces | None:
        """The interfaces and properties of ``path``, or None when there is no such object."""
        return self._objects.get(path)

    def value(self, path: str, interface: str, name: str) -> object:
        """The plain value of one property (KeyError when absent)."""
        return self._objects[path][interface][name].value

    def managed_objects(self) -> dict[str, Interfaces]:
        """The answer to ``GetManagedObjects``: a snapshot of every object."""
        return {
            path: {i: dict(p) for i, p in ifaces.items()} for path, ifaces in self._objects.items()
        }

    def add(self, path: str, interfaces: Mapping[str, Properties]) -> None:
        """Export a new object with all its interfaces in one ``InterfacesAdded``."""
        if path in self._objects:
            raise KeyError(f"object {path} already exists")
        self._objects[path] = {name: dict(props) for name, props in interfaces.items()}
        self._send(
            Message.new_signal(
                path="/",
                interface=OBJECT_MANAGER,
                member="InterfacesAdded",
                signature="oa{sa{sv}}",
                body=[path, self._objects[path]],
            )
        )

    def remove(self, path: str) -> None:
        """Remove an object (if present) with one ``InterfacesRemoved``."""
        interfaces = self._objects.pop(path, None)
        if interfaces is None:
            return
        self._send(
            Message.new_signal(
                path="/",
                interface=OBJECT_MANAGER,
                member="InterfacesRemoved",
                signature="oas",
                body=[path, list(interfaces)],
            )
        )

    def remove_children(self, parent: str) -> None:
        """Remove every object below ``parent``, deepest first (as bluetoothd does)."""
        children = [path for path in self._objects if path.startswith(parent + "/")]
        for path in sorted(children, key=len, reverse=True):
            self.remove(path)

    def update(self, path: str, interface: str, changes: Mapping[str, Variant]) -> None:
        """Set properties of an existing object and emit ``PropertiesChanged`` for them."""
        self._objects[path][interface].update(changes)
        self._send(
            Message.new_signal(
                path=path,
                interface=PROPERTIES,
                member="PropertiesChanged",
                signature="sa{sv}as",
                body=[interface, dict(changes), []],
            )
        )
