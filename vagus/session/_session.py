"""`DeviceSession`: everything one device's session holds, as read back or replayed."""

from __future__ import annotations

from dataclasses import dataclass

from hrv import BeatBatch, WindowMetrics
from recommender import Outcome, Trigger
from vagus.biofeedback import LiveFigures
from vagus.session._feedback_table import FeedbackRecord


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class DeviceSession:
    """One device's beats (columnar), windows, triggers, outcomes, feedback and breathing-session
    updates, oldest first."""

    device: str
    beats: BeatBatch
    windows: tuple[WindowMetrics, ...]
    triggers: tuple[Trigger, ...]
    outcomes: tuple[Outcome, ...]
    feedback: tuple[FeedbackRecord, ...] = ()
    breathing: tuple[LiveFigures, ...] = ()
