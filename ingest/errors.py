"""Errors of the ingest package: typed, carrying the data that failed."""

from __future__ import annotations


class IngestError(Exception):
    """Root of every error raised by `ingest`."""


class DecodeError(IngestError, ValueError):
    """A Heart Rate Measurement (0x2A37) payload that breaks the GATT specification."""

    def __init__(self, reason: str, data: bytes) -> None:
        super().__init__(f"{reason} (payload {data.hex() or 'empty'})")
        self.reason = reason
        self.data = data
