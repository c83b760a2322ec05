"""Reading and appending CSV tables with a fixed header (stdlib ``csv``)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from hrv import BoolArray, FloatArray
from vagus.private_files import append_whole, private_dir, private_opener
from vagus.session._cells import parse_bool, parse_float, parse_int
from vagus.session.errors import SessionFileError

T = TypeVar("T")


class TableAppender:
    """Appends rows to one CSV file, each batch written whole (or, on a full disk, not at all).

    A new (or empty) file gets the header first; an existing file must carry
    the same header, so a daemon restarted on the same session directory
    carries on where it stopped. ``truncate=True`` starts the file afresh. The file is
    mode 0600 (see `vagus.private_files`).
    """

    def __init__(self, path: Path, header: Sequence[str], *, truncate: bool = False) -> None:
        self.path = path
        self.header = tuple(header)
        if not truncate and path.exists() and path.stat().st_size > 0:
            found = _read_header(path)
            if found != self.header:
                raise SessionFileError(
                    path, 1, f"header {','.join(found)} differs from {','.join(self.header)}"
                )
            self._file = open(path, "ab", buffering=0, opener=private_opener)  # noqa: SIM115
        else:
            private_dir(path.parent)
            self._file = open(path, "wb", buffering=0, opener=private_opener)  # noqa: SIM115
            self.append([self.header])

    def append(self, rows: Iterable[Sequence[str]]) -> None:
        """Write rows (cells already text) whole or not at all (`append_whole`)."""
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerows(rows)
        append_whole(self._file, text.getvalue().encode())

    def close(self) -> None:
        """Close the file."""
        self._file.close()


def _read_header(path: Path) -> tuple[str, ...]:
    with path.open(newline="", encoding="utf-8") as file:
        return tuple(next(csv.reader(file), []))


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class TextColumns:
    """The cells of a CSV file as text, one list per wanted column, and each row's line."""

    path: Path
    cells: dict[str, list[str]]
    lines: list[int]

    def __len__(self) -> int:
        return len(self.lines)

    def text(self, name: str) -> list[str]:
        """A column as it stands in the file."""
        return self.cells[name]

    def floats(self, name: str) -> FloatArray:
        """A column of numbers (``nan``/``inf`` allowed), exactly as written."""
        return np.array(self._parse(name, parse_float), dtype=np.float64)

    def ints(self, name: str) -> NDArray[np.int64]:
        """A column of integers."""
        return np.array(self._parse(name, parse_int), dtype=np.int64)

    def bools(self, name: str) -> BoolArray:
        """A column of ``0``/``1`` flags."""
        return np.array(self._parse(name, parse_bool), dtype=np.bool_)

    def parsed(self, name: str, parse: Callable[[str], T]) -> list[T]:
        """A column parsed cell by cell; a ValueError becomes a `SessionFileError` at its line."""
        return self._parse(name, parse)

    def _parse(self, name: str, parse: Callable[[str], T]) -> list[T]:
        column = self.cells[name]
        try:
            return list(map(parse, column))
        except ValueError:
            pass
        for cell, line in zip(column, self.lines, strict=True):
            try:
                parse(cell)
            except ValueError as exc:
                raise SessionFileError(self.path, line, f"column {name}: {exc}") from exc
        raise AssertionError("unreachable: a cell failed once and then parsed")


def read_columns(path: Path, names: Sequence[str]) -> TextColumns:
    """The wanted columns of a CSV file, as text.

    The header must name every wanted column (any order; further columns are
    ignored). A missing file or column, or a row whose length differs from the
    header's, raises `SessionFileError` naming the file, the line and why.
    """
    try:
        file = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise SessionFileError(path, None, exc.strerror or str(exc)) from exc
    with file:
        reader = csv.reader(file)
        header = next(reader, None)
        if header is None:
            raise SessionFileError(path, None, "empty file, expected a header line")
        missing = [name for name in names if name not in header]
        if missing:
            raise SessionFileError(path, 1, f"missing column(s) {', '.join(missing)}")
        index = {name: header.index(name) for name in names}
        cells: dict[str, list[str]] = {name: [] for name in names}
        lines: list[int] = []
        for row in reader:
            if not row:
                continue
            if len(row) != len(header):
                raise SessionFileError(
                    path, reader.line_num, f"{len(row)} cells, expected {len(header)}"
                )
            lines.append(reader.line_num)
            for name, i in index.items():
                cells[name].append(row[i])
    return TextColumns(path=path, cells=cells, lines=lines)
