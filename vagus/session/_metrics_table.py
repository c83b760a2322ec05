"""``metrics.csv``: one row per window, columns exactly the fields of `hrv.WindowMetrics`."""

from __future__ import annotations

from pathlib import Path

from hrv import WindowMetrics
from vagus.session._flat_table import FlatTable

METRICS = FlatTable(WindowMetrics)


def read_metrics(path: Path) -> dict[str, list[WindowMetrics]]:
    """Every device's windows of a ``metrics.csv``, in file order."""
    by_device: dict[str, list[WindowMetrics]] = {}
    for window in METRICS.read(path):
        by_device.setdefault(window.device, []).append(window)
    return by_device
