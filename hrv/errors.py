"""Errors of the HRV engine: bad input arrays or settings, and unreadable baseline state."""

from __future__ import annotations


class HrvError(Exception):
    """Root of every error the `hrv` package raises."""


class InputError(HrvError, ValueError):
    """An argument the engine cannot work with; ``name`` is the argument, ``reason`` why."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason


class UnknownDeviceError(HrvError, KeyError):
    """A device the stream engine has never seen was asked for."""

    def __init__(self, device: str) -> None:
        super().__init__(device)
        self.device = device
