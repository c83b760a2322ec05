"""Errors of the InfluxDB output: typed, carrying the data that explains them."""

from __future__ import annotations

from pathlib import Path

from vagus.errors import UserError
from vagus.influx.retry import is_retryable


class StorageError(Exception):
    """Root of the InfluxDB output's errors."""


class InfluxConfigError(StorageError, UserError):
    """An ``influx`` setting is wrong: names the key, the value and what is allowed."""

    def __init__(self, key: str, value: object, allowed: str) -> None:
        super().__init__(f"influx.{key} = {value!r}: {allowed}")
        self.key = key
        self.value = value
        self.allowed = allowed


class WriteError(StorageError):
    """A write did not reach storage; ``status`` is the HTTP status, None for no answer."""

    def __init__(self, status: int | None, detail: str) -> None:
        super().__init__(f"InfluxDB write failed ({status or 'no answer'}): {detail}")
        self.status = status
        self.detail = detail

    @property
    def retryable(self) -> bool:
        """True when sending the same points later may succeed (see `is_retryable`)."""
        return is_retryable(self.status)


class SpoolFullError(StorageError):
    """The on-disk spool would exceed its cap; the points were not spooled."""

    def __init__(self, path: Path, size_bytes: int, cap_bytes: int, n_lines: int) -> None:
        super().__init__(
            f"spool {path} is full ({size_bytes} of {cap_bytes} bytes): {n_lines} points dropped"
        )
        self.path = path
        self.size_bytes = size_bytes
        self.cap_bytes = cap_bytes
        self.n_lines = n_lines


class SpoolCorruptError(StorageError, UserError):
    """A spool file (``cursor`` or a segment) that the spool cannot have written; found at open.

    ``path`` is the file, ``reason`` what is wrong with it and ``remedy``
    what the user can do; the message says all three in one line.
    """

    def __init__(self, path: Path, reason: str, remedy: str) -> None:
        super().__init__(f"InfluxDB spool file {path}: {reason}; {remedy}")
        self.path = path
        self.reason = reason
        self.remedy = remedy
