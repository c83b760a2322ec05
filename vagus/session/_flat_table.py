"""CSV tables whose columns are exactly the fields of a flat record (str, int, float, enum)."""

from __future__ import annotations

import dataclasses
import enum
import typing
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Generic, TypeVar

from vagus.session._cells import float_cell, parse_float, parse_int, parse_text
from vagus.session._csv_io import read_columns

R = TypeVar("R")


_WRITERS: dict[type, Callable[[Any], str]] = {str: str, int: str, float: float_cell}


def _writer(kind: type) -> Callable[[Any], str]:
    if issubclass(kind, enum.Enum):
        return lambda member: str(member.value)
    return _WRITERS[kind]


def _reader(kind: type) -> Callable[[str], object]:
    if issubclass(kind, enum.Enum):
        return kind
    return {str: parse_text, int: parse_int, float: parse_float}[kind]


class FlatTable(Generic[R]):
    """Writes records of a flat dataclass as CSV rows and reads them back exactly.

    The header is the dataclass's fields in order; strings must not be empty.
    """

    def __init__(self, record: type[R]) -> None:
        self.record = record
        types = typing.get_type_hints(record)
        self.header = tuple(field.name for field in dataclasses.fields(record))  # type: ignore[arg-type]
        self._writers = [(name, _writer(types[name])) for name in self.header]
        self._readers = {name: _reader(types[name]) for name in self.header}

    def rows(self, records: Iterable[R]) -> Iterator[list[str]]:
        """One row per record."""
        for record in records:
            yield [write(getattr(record, name)) for name, write in self._writers]

    def read(self, path: Path) -> list[R]:
        """Every record of the file, in file order."""
        table = read_columns(path, self.header)
        columns = [table.parsed(name, parse) for name, parse in self._readers.items()]
        return [
            self.record(**dict(zip(self.header, values, strict=True)))
            for values in zip(*columns, strict=True)
        ]
