"""Breathing exercises a subscriber can pace: phase patterns, rate and duration.

Sources of the patterns:

- Resonance (coherent) breathing at about 6 breaths/min, equal inhale and
  exhale, personal rate 4.5-7/min: Lehrer & Gevirtz, "Heart rate variability
  biofeedback: how and why does it work?", Front. Psychol. 5:756 (2014);
  Vaschillo et al., Appl. Psychophysiol. Biofeedback 31:129 (2006).
- Box breathing 4-4-4-4 ("tactical breathing"): Röttger et al., "The
  effectiveness of combat tactical breathing...", Mil. Psychol. 33:1 (2021).
- 4-7-8 breathing: A. Weil, "Breathing: The Master Key to Self Healing"
  (1999); four cycles per session.
- Physiological (cyclic) sigh, a double inhale then a long exhale: Balban et
  al., "Brief structured respiration practices enhance mood and reduce
  physiological arousal", Cell Rep. Med. 4:100895 (2023).
"""

from __future__ import annotations

import dataclasses
import enum
import math
from dataclasses import dataclass

RESONANCE_MIN_BPM = 4.5
RESONANCE_MAX_BPM = 7.0


class PhaseKind(enum.StrEnum):
    """What the lungs do during one phase."""

    INHALE = "inhale"
    HOLD = "hold"
    EXHALE = "exhale"


@dataclass(frozen=True, slots=True, kw_only=True)
class Phase:
    """One phase of a breath cycle, e.g. inhale for 5.5 s."""

    kind: PhaseKind
    duration_s: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.duration_s) and self.duration_s > 0):
            raise ValueError(f"Phase.duration_s must be > 0, got {self.duration_s}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Exercise:
    """A paced breathing exercise: the cycle of phases repeated for ``duration_s``."""

    id: str
    name: str
    phases: tuple[Phase, ...]
    duration_s: float

    def __post_init__(self) -> None:
        if not self.phases:
            raise ValueError(f"exercise {self.id!r} has no phases")
        if not self.duration_s > 0:
            raise ValueError(f"exercise {self.id!r}: duration_s must be > 0")

    @property
    def cycle_s(self) -> float:
        """Seconds of one breath cycle (sum of the phases)."""
        return sum(p.duration_s for p in self.phases)

    @property
    def breaths_per_min(self) -> float:
        """Breath cycles per minute: 60 / cycle length."""
        return 60.0 / self.cycle_s

    def lengthened(self, factor: float) -> Exercise:
        """The same exercise run ``factor`` times as long (escalation)."""
        return dataclasses.replace(self, duration_s=self.duration_s * factor)


def _phases(*pairs: tuple[PhaseKind, float]) -> tuple[Phase, ...]:
    return tuple(Phase(kind=k, duration_s=s) for k, s in pairs)


def resonance(rate_bpm: float = 6.0, *, duration_s: float = 300.0) -> Exercise:
    """Resonance breathing at a personal rate (4.5-7/min), inhale = exhale = 30 / rate s.

    At the default 6/min that is 5 s in / 5 s out; the issue's 5.5 s / 5.5 s
    is ``resonance(60 / 11)`` ≈ 5.45/min (Lehrer & Gevirtz 2014).
    """
    if not RESONANCE_MIN_BPM <= rate_bpm <= RESONANCE_MAX_BPM:
        raise ValueError(
            f"resonance rate must be within {RESONANCE_MIN_BPM}-{RESONANCE_MAX_BPM}"
            f" breaths/min, got {rate_bpm}"
        )
    half_s = 30.0 / rate_bpm
    return Exercise(
        id="resonance",
        name="Resonance breathing",
        phases=_phases((PhaseKind.INHALE, half_s), (PhaseKind.EXHALE, half_s)),
        duration_s=duration_s,
    )


BOX = Exercise(
    id="box",
    name="Box breathing 4-4-4-4",
    phases=_phases(
        (PhaseKind.INHALE, 4.0),
        (PhaseKind.HOLD, 4.0),
        (PhaseKind.EXHALE, 4.0),
        (PhaseKind.HOLD, 4.0),
    ),
    duration_s=240.0,
)

FOUR_SEVEN_EIGHT = Exercise(
    id="4-7-8",
    name="4-7-8 breathing",
    phases=_phases((PhaseKind.INHALE, 4.0), (PhaseKind.HOLD, 7.0), (PhaseKind.EXHALE, 8.0)),
    duration_s=76.0,
)

PHYSIOLOGICAL_SIGH = Exercise(
    id="sigh",
    name="Physiological sigh",
    phases=_phases((PhaseKind.INHALE, 2.0), (PhaseKind.INHALE, 1.0), (PhaseKind.EXHALE, 6.0)),
    duration_s=180.0,
)

EXERCISE_IDS = ("resonance", "box", "4-7-8", "sigh")


def catalog(resonance_rate_bpm: float = 60.0 / 11.0) -> dict[str, Exercise]:
    """Every exercise by id; resonance paced at the person's rate (default 5.5 s / 5.5 s)."""
    return {
        "resonance": resonance(resonance_rate_bpm),
        "box": BOX,
        "4-7-8": FOUR_SEVEN_EIGHT,
        "sigh": PHYSIOLOGICAL_SIGH,
    }
