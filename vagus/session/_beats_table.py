"""``beats.csv``: one row per beat, columns device, t_s, rr_ms, gap."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import repeat
from pathlib import Path

import numpy as np

from hrv import BeatBatch
from vagus.session._cells import bool_cell, float_cell, parse_text
from vagus.session._csv_io import read_columns

BEATS_HEADER = ("device", "t_s", "rr_ms", "gap")


def beat_rows(batch: BeatBatch) -> Iterator[tuple[str, str, str, str]]:
    """Rows of ``beats.csv`` for one batch, in beat order."""
    return zip(
        repeat(batch.device),
        map(float_cell, batch.t_s.tolist()),
        map(float_cell, batch.rr_ms.tolist()),
        map(bool_cell, batch.gap.tolist()),
        strict=False,
    )


def read_beats(path: Path) -> dict[str, BeatBatch]:
    """Every device's beats of a ``beats.csv``, one `BeatBatch` each, in order of appearance."""
    table = read_columns(path, BEATS_HEADER)
    names = table.parsed("device", parse_text)
    devices = np.array(names, dtype=np.str_)
    t_s, rr_ms, gap = table.floats("t_s"), table.floats("rr_ms"), table.bools("gap")
    return {
        str(device): BeatBatch(device=str(device), t_s=t_s[mine], rr_ms=rr_ms[mine], gap=gap[mine])
        for device in dict.fromkeys(names)
        for mine in [devices == device]
    }
