"""The sans-IO pipeline both `vagus run` and `vagus replay` drive: guard, engine, rules."""

from vagus.pipeline._guard import (
    GAP_TOLERANCE_S,
    MAX_FUTURE_S,
    MAX_JUMP_S,
    MAX_TIME_S,
    MIN_SPACING_S,
    Guarded,
    InputGuard,
    Reject,
    Segment,
)
from vagus.pipeline._pipeline import (
    QUARANTINE_S,
    Emissions,
    LocalTime,
    Notice,
    NoticeKind,
    Pipeline,
    Totals,
)

__all__ = [
    "GAP_TOLERANCE_S",
    "MAX_FUTURE_S",
    "MAX_JUMP_S",
    "MAX_TIME_S",
    "MIN_SPACING_S",
    "QUARANTINE_S",
    "Emissions",
    "Guarded",
    "InputGuard",
    "LocalTime",
    "Notice",
    "NoticeKind",
    "Pipeline",
    "Reject",
    "Segment",
    "Totals",
]
