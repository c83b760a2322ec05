"""A person's stress level as a word (calm / elevated / high) for the retained state topic."""

from __future__ import annotations

import enum
import math

# Bands of the default 0-100 `stress` score of `hrv` (calm < 40, clear stress > 70).
CALM_BELOW = 40.0
HIGH_FROM = 70.0


class StressLevel(enum.StrEnum):
    """Coarse level of the 0-100 stress score."""

    CALM = "calm"
    ELEVATED = "elevated"
    HIGH = "high"


def stress_level(stress: float) -> StressLevel | None:
    """Level of a stress score; None for NaN (no verdict: keep the last one)."""
    if math.isnan(stress):
        return None
    if stress < CALM_BELOW:
        return StressLevel.CALM
    if stress >= HIGH_FROM:
        return StressLevel.HIGH
    return StressLevel.ELEVATED
