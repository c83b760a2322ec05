"""Errors of session files: each names the file, the line and what is wrong with it."""

from __future__ import annotations

from pathlib import Path

from vagus.errors import UserError


class SessionFileError(UserError):
    """A session or recording file that cannot be read or written as asked.

    ``line`` is the 1-based line of the file (the header is line 1), or None
    when the problem is the file as a whole.
    """

    def __init__(self, path: Path, line: int | None, reason: str) -> None:
        self.path = path
        self.line = line
        self.reason = reason
        where = f"{path}" if line is None else f"{path}, line {line}"
        super().__init__(f"{where}: {reason}")
