"""``breathing.csv``: a breathing session's updates, columns are `vagus.biofeedback.LiveFigures`.

Written by ``vagus breathe`` as the session goes (`BreathingWriter`, one row
per update, flushed each time); read back with the rest of the session
(`vagus.session.read_session`) for ``vagus report``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from vagus.biofeedback import LiveFigures
from vagus.session._csv_io import TableAppender
from vagus.session._flat_table import FlatTable

BREATHING_FILE = "breathing.csv"
BREATHING = FlatTable(LiveFigures)


def read_breathing(path: Path) -> dict[str, list[LiveFigures]]:
    """Every device's updates of a ``breathing.csv``, in file order."""
    by_device: dict[str, list[LiveFigures]] = {}
    for row in BREATHING.read(path):
        by_device.setdefault(row.device, []).append(row)
    return by_device


class BreathingWriter:
    """Appends updates to ``<directory>/breathing.csv`` (started afresh; mode 0600)."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / BREATHING_FILE
        self._table = TableAppender(self.path, BREATHING.header, truncate=True)

    def write(self, updates: Iterable[LiveFigures]) -> None:
        """Append updates and flush."""
        self._table.append(BREATHING.rows(updates))

    def close(self) -> None:
        """Close the file."""
        self._table.close()
