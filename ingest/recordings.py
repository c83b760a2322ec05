"""Import RR recordings from files people actually have, as `hrv.BeatBatch`.

Formats, detected from the first non-empty line:

- ``plain``: CSV with a header holding ``rr_ms`` and optionally ``t_s``
  (seconds) and ``device``; this project's own format (tests/data).
- ``polar_sensor_logger``: Polar Sensor Logger's RR file, ``;``-separated,
  header ``Phone timestamp;RR-interval [ms]``, one beat per row with the
  phone's local ISO time (e.g. ``2026-06-01T21:17:07.832;1111``).
- ``hrv_logger``: HRV Logger (Marco Altini) RR export, header
  ``date,rr,since start``: clock time per beat, RR in ms, ms since start
  (RRational documentation, "Supported Data Formats").
- ``openhrv``: OpenHRV's recording, header ``event,value,timestamp``; beats
  are the ``InterBeatInterval`` rows (ms), other events are skipped
  (OpenHRV ``openhrv/logger.py`` and ``model.py``). Their timestamps are
  write times, not beat times, so beats are placed by summed RR from the
  first one.
- ``elite_hrv``: Elite HRV text export, one RR in ms per line, no header.

Beat times: a format with per-beat times uses them (ISO times without a
zone are taken as UTC); a recording without times starts at t = 0 and each
beat's time is the sum of the RR up to and including it, as
`hrv.sliding_windows` places beats given without times. Unknown formats
and bad rows raise `RecordingError` naming the file, the line and the
reason.
"""

from __future__ import annotations

import csv
import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from hrv import BeatBatch, FloatArray
from ingest.errors import RecordingError

__all__ = ["RecordingError", "RecordingFormat", "detect_format", "read_recording"]

RR_MAX_MS = 60_000.0
"""Longest RR interval accepted from a file (a minute); anything longer is a bad row."""


class RecordingFormat(enum.StrEnum):
    """The recording formats `read_recording` understands."""

    PLAIN = "plain"
    POLAR_SENSOR_LOGGER = "polar_sensor_logger"
    HRV_LOGGER = "hrv_logger"
    OPENHRV = "openhrv"
    ELITE_HRV = "elite_hrv"


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    cells: list[str]


def _split(header: str, delimiter: str) -> list[str]:
    """The cells of a header line, lower case; none when it is not CSV (not a known header)."""
    try:
        cells = next(csv.reader([header], delimiter=delimiter))
    except csv.Error:  # e.g. a field past csv's size limit: binary data, not a header
        return []
    return [c.strip().lower() for c in cells]


def detect_format(first_line: str) -> RecordingFormat | None:
    """The format whose header (or first value) ``first_line`` is, or None."""
    line = first_line.strip().lstrip("\ufeff")
    if _split(line, ";")[:2] == ["phone timestamp", "rr-interval [ms]"]:
        return RecordingFormat.POLAR_SENSOR_LOGGER
    cols = _split(line, ",")
    if cols[:3] == ["date", "rr", "since start"]:
        return RecordingFormat.HRV_LOGGER
    if cols == ["event", "value", "timestamp"]:
        return RecordingFormat.OPENHRV
    if "rr_ms" in cols:
        return RecordingFormat.PLAIN
    try:
        float(line)
    except ValueError:
        return None
    return RecordingFormat.ELITE_HRV


def _number(row: _Row, col: int, what: str, file: str) -> float:
    try:
        value = float(row.cells[col])
    except (IndexError, ValueError):
        cell = row.cells[col] if col < len(row.cells) else ""
        raise RecordingError(file, row.line, f"{what} {cell!r} is not a number") from None
    if not math.isfinite(value):
        raise RecordingError(file, row.line, f"{what} {value} is not finite")
    return value


def _rr(row: _Row, col: int, file: str) -> float:
    rr = _number(row, col, "RR", file)
    if not 0 < rr <= RR_MAX_MS:
        raise RecordingError(file, row.line, f"RR {rr:g} ms is outside (0, {RR_MAX_MS:g}]")
    return rr


def _epoch_s(row: _Row, col: int, file: str) -> float:
    text = row.cells[col].strip() if col < len(row.cells) else ""
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        raise RecordingError(file, row.line, f"time {text!r} is not an ISO 8601 time") from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.timestamp()


def _rows(lines: Sequence[str], start: int, delimiter: str, file: str) -> list[_Row]:
    """Non-empty rows after line index ``start`` (0-based), with 1-based line numbers."""
    out: list[_Row] = []
    for i in range(start, len(lines)):
        if lines[i].strip():
            try:
                cells = next(csv.reader([lines[i]], delimiter=delimiter))
            except csv.Error as exc:
                raise RecordingError(file, i + 1, f"not a CSV row: {exc}") from None
            out.append(_Row(i + 1, [c.strip() for c in cells]))
    return out


def _check_columns(rows: Sequence[_Row], n: int, file: str) -> None:
    for row in rows:
        if len(row.cells) < n:
            raise RecordingError(file, row.line, f"expected {n} columns, found {len(row.cells)}")


def _summed(rr_ms: Sequence[float], first_beat_t_s: float | None = None) -> FloatArray:
    """Beat times from RR (s): each beat one RR after the one before it.

    Without ``first_beat_t_s`` the recording starts at t = 0 with the beat
    that opens the first interval, so beat ``i`` is at ``sum(rr[:i+1])``,
    as `hrv.sliding_windows` places beats it is given without times.
    """
    rr = np.asarray(rr_ms, dtype=np.float64)
    t_s = np.cumsum(rr) / 1000.0
    if first_beat_t_s is not None and rr.size:
        t_s += first_beat_t_s - t_s[0]
    return np.asarray(t_s, dtype=np.float64)


def _plain(
    lines: Sequence[str], header: int, file: str, device: str | None
) -> tuple[str | None, list[_Row], list[float], FloatArray | None]:
    """Device, rows, RR and (when the file has them) times of a plain CSV."""
    cols = _split(lines[header], ",")
    rows = _rows(lines, header + 1, ",", file)
    _check_columns(rows, len(cols), file)
    if "device" in cols:
        col = cols.index("device")
        seen = sorted({r.cells[col] for r in rows})
        if device is None and len(seen) > 1:
            raise RecordingError(file, 0, f"several devices ({', '.join(seen)}): choose one")
        device = device or (seen[0] if seen else None)
        rows = [r for r in rows if r.cells[col] == device]
        if not rows:
            raise RecordingError(file, 0, f"no beats of device {device!r} (has {', '.join(seen)})")
    rr = [_rr(r, cols.index("rr_ms"), file) for r in rows]
    if "t_s" not in cols:
        return device, rows, rr, None
    t_s = np.array([_number(r, cols.index("t_s"), "t_s", file) for r in rows])
    return device, rows, rr, t_s


def _parse(
    lines: Sequence[str], header: int, file: str, device: str | None
) -> tuple[str | None, list[_Row], list[float], FloatArray]:
    """Device (when the file names it), the beat rows, their RR (ms) and times (s)."""
    fmt = detect_format(lines[header])
    if fmt is RecordingFormat.PLAIN:
        device, rows, rr, t_s = _plain(lines, header, file, device)
        return device, rows, rr, _summed(rr) if t_s is None else t_s
    if fmt is RecordingFormat.POLAR_SENSOR_LOGGER or fmt is RecordingFormat.HRV_LOGGER:
        delimiter = ";" if fmt is RecordingFormat.POLAR_SENSOR_LOGGER else ","
        rows = _rows(lines, header + 1, delimiter, file)
        _check_columns(rows, 2, file)
        rr = [_rr(r, 1, file) for r in rows]
        return device, rows, rr, np.array([_epoch_s(r, 0, file) for r in rows])
    if fmt is RecordingFormat.OPENHRV:
        rows = [r for r in _rows(lines, header + 1, ",", file) if r.cells[0] == "InterBeatInterval"]
        _check_columns(rows, 3, file)
        rr = [_rr(r, 1, file) for r in rows]
        return device, rows, rr, _summed(rr, _epoch_s(rows[0], 2, file)) if rows else _summed(rr)
    if fmt is RecordingFormat.ELITE_HRV:
        rows = _rows(lines, header, ",", file)
        rr = [_rr(r, 0, file) for r in rows]
        return device, rows, rr, _summed(rr)
    raise RecordingError(
        file,
        header + 1,
        f"unknown format: header {lines[header].strip()[:60]!r}; expected one of "
        f"{', '.join(f.value for f in RecordingFormat)}",
    )


def read_recording(path: str | Path, *, device: str | None = None) -> BeatBatch:
    """Import the RR recording at ``path`` as one device's beats.

    The device is ``device``, else the file's ``device`` column (a plain CSV
    with several devices needs ``device`` to pick one), else the file stem.
    """
    path = Path(path)
    file = str(path)
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        raise RecordingError(file, 0, f"cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        reason = f"not a text recording: byte {exc.start} is not UTF-8"
        raise RecordingError(file, 0, reason) from exc
    header = next((i for i, line in enumerate(lines) if line.strip()), None)
    if header is None:
        raise RecordingError(file, 0, "empty file: no header and no beats")
    named, rows, rr, t_s = _parse(lines, header, file, device)
    if not rr:
        raise RecordingError(file, 0, "no beats")
    bad = np.flatnonzero(np.diff(t_s) <= 0)
    if bad.size:
        raise RecordingError(file, rows[int(bad[0]) + 1].line, "beat time does not increase")
    return BeatBatch(device=named or path.stem, t_s=t_s, rr_ms=np.asarray(rr, dtype=np.float64))
