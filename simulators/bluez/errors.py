"""Errors of the fake BlueZ: a peripheral set up wrongly, or controlled while not hosted.

Failures that bleak must see (unreachable device, read not permitted, ...)
are not raised here: they go over D-Bus as the ``org.bluez.Error.*`` replies
real BlueZ sends, so bleak turns them into its own exceptions.
"""

from __future__ import annotations

from simulators.errors import SimulatorError


class FakeBluezError(SimulatorError):
    """Root of the fake BlueZ's errors."""


class PeripheralConfigError(FakeBluezError, ValueError):
    """A virtual peripheral was given a value outside what it accepts."""

    def __init__(self, *, field: str, value: object, allowed: str) -> None:
        super().__init__(f"{field}={value!r} is not allowed: {allowed}")
        self.field = field
        self.value = value
        self.allowed = allowed


class DuplicateAddressError(FakeBluezError):
    """Two peripherals on one fake adapter share a Bluetooth address."""

    def __init__(self, address: str) -> None:
        super().__init__(f"a peripheral with address {address} is already hosted")
        self.address = address


class AlreadyHostedError(FakeBluezError):
    """A peripheral was added to a FakeBluez while another one still hosts it."""

    def __init__(self, address: str) -> None:
        super().__init__(f"peripheral {address} is already hosted by another FakeBluez")
        self.address = address
