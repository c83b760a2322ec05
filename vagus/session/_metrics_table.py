"""``metrics.csv``: one row per window, columns exactly the fields of `hrv.WindowMetrics`."""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from hrv import Quality, WindowMetrics
from vagus.session._cells import float_cell, parse_device, parse_float, parse_int
from vagus.session._csv_io import read_columns

METRICS_HEADER = tuple(field.name for field in dataclasses.fields(WindowMetrics))

_TYPES = typing.get_type_hints(WindowMetrics)
_WRITE: dict[type, Callable[[typing.Any], str]] = {
    str: str,
    int: str,
    float: float_cell,
    Quality: lambda quality: str(quality.value),
}
_READ: dict[type, Callable[[str], object]] = {
    str: parse_device,
    int: parse_int,
    float: parse_float,
    Quality: Quality,
}
_WRITERS = [(name, _WRITE[_TYPES[name]]) for name in METRICS_HEADER]


def metric_rows(windows: Iterable[WindowMetrics]) -> Iterator[list[str]]:
    """Rows of ``metrics.csv``, one per window."""
    for window in windows:
        yield [write(getattr(window, name)) for name, write in _WRITERS]


def read_metrics(path: Path) -> dict[str, list[WindowMetrics]]:
    """Every device's windows of a ``metrics.csv``, in file order."""
    table = read_columns(path, METRICS_HEADER)
    columns = {name: table.parsed(name, _READ[_TYPES[name]]) for name in METRICS_HEADER}
    by_device: dict[str, list[WindowMetrics]] = {}
    for values in zip(*columns.values(), strict=True):
        window = WindowMetrics(**dict(zip(METRICS_HEADER, values, strict=True)))
        by_device.setdefault(window.device, []).append(window)
    return by_device
