"""Errors of the simulators: typed, carrying the data that says what went wrong."""

from __future__ import annotations


class SimulatorError(Exception):
    """Root of every error the simulators raise."""


class ScenarioError(SimulatorError):
    """A scenario file that cannot be used: names the file, the segment and the field."""

    def __init__(self, *, file: str, reason: str, segment: int | None = None, field: str = ""):
        self.file = file
        self.segment = segment
        self.field = field
        self.reason = reason
        where = file
        if segment is not None:
            where += f", segment {segment}"
        if field:
            where += f", field {field!r}"
        super().__init__(f"{where}: {reason}")
