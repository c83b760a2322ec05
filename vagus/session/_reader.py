"""Whole-session helpers: read a session directory back, or write one in one go."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from hrv import BeatBatch
from vagus.session._beats_table import read_beats
from vagus.session._breathing_table import BREATHING_FILE, read_breathing
from vagus.session._feedback_table import FEEDBACK
from vagus.session._metrics_table import read_metrics
from vagus.session._outcomes_table import OUTCOMES
from vagus.session._session import DeviceSession
from vagus.session._triggers_table import read_triggers
from vagus.session._writer import (
    BEATS_FILE,
    FEEDBACK_FILE,
    METRICS_FILE,
    OUTCOMES_FILE,
    TRIGGERS_FILE,
    SessionWriter,
)
from vagus.session.errors import SessionFileError


def read_session(directory: Path) -> tuple[DeviceSession, ...]:
    """Every device of a session directory, in order of first appearance (beats first).

    ``beats.csv`` and ``metrics.csv`` are required; a missing ``triggers.csv``,
    ``outcomes.csv``, ``feedback.csv`` or ``breathing.csv`` reads as none.
    """
    if not directory.is_dir():
        raise SessionFileError(directory, None, "not a session directory")
    beats = read_beats(directory / BEATS_FILE)
    windows = read_metrics(directory / METRICS_FILE)
    triggers = (
        read_triggers(directory / TRIGGERS_FILE) if (directory / TRIGGERS_FILE).exists() else []
    )
    outcomes = (
        OUTCOMES.read(directory / OUTCOMES_FILE) if (directory / OUTCOMES_FILE).exists() else []
    )
    feedback = (
        FEEDBACK.read(directory / FEEDBACK_FILE) if (directory / FEEDBACK_FILE).exists() else []
    )
    breathing = (
        read_breathing(directory / BREATHING_FILE) if (directory / BREATHING_FILE).exists() else {}
    )
    named = [
        *beats,
        *windows,
        *(t.device for t in triggers),
        *(o.device for o in outcomes),
        *(f.device for f in feedback),
        *breathing,
    ]
    devices = list(dict.fromkeys(named))
    return tuple(
        DeviceSession(
            device=device,
            beats=beats.get(device) or _no_beats(device),
            windows=tuple(windows.get(device, ())),
            triggers=tuple(t for t in triggers if t.device == device),
            outcomes=tuple(o for o in outcomes if o.device == device),
            feedback=tuple(f for f in feedback if f.device == device),
            breathing=tuple(breathing.get(device, ())),
        )
        for device in devices
    )


def _no_beats(device: str) -> BeatBatch:
    empty = np.zeros(0, dtype=np.float64)
    return BeatBatch(device=device, t_s=empty, rr_ms=empty)


def write_session(directory: Path, sessions: Sequence[DeviceSession]) -> None:
    """Write whole sessions into a directory, replacing any files there."""
    with SessionWriter(directory, truncate=True) as writer:
        for session in sessions:
            writer.write_beats(session.beats)
            writer.write_metrics(session.windows)
            writer.write_triggers(session.triggers)
            writer.write_outcomes(session.outcomes)
            writer.write_feedback_records(session.feedback)
