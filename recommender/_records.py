"""Records the evaluator emits: triggers, outcomes, and the rule transitions behind them."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from recommender._exercises import Exercise
from recommender._rules import Severity
from recommender._states import Event, RuleState

# Namespace of trigger ids: uuid5(TRIGGER_NAMESPACE, "device|rule|t_s with ms").
TRIGGER_NAMESPACE = uuid.UUID("6f0b8a52-5c8e-4d8e-9a1e-7a6775732d31")


def trigger_id(device: str, rule: str, t_s: float) -> str:
    """Deterministic id of a trigger: the same replay gives the same ids (UUID 5, RFC 4122)."""
    return str(uuid.uuid5(TRIGGER_NAMESPACE, f"{device}|{rule}|{t_s:.3f}"))


@dataclass(frozen=True, slots=True, kw_only=True)
class Trigger:
    """A breathing-exercise suggestion for one device.

    ``reason`` holds the figures that fired it (the rule's terms, stress,
    HR, ln RMSSD, seconds held); ``escalation`` counts earlier suggestions of
    this rule that did not help (0: first try).
    """

    id: str
    device: str
    t_s: float
    rule: str
    exercise: Exercise
    reason: Mapping[str, float]
    severity: Severity
    escalation: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason", MappingProxyType(dict(self.reason)))


class Verdict(enum.StrEnum):
    """What an exercise did to ln(RMSSD) and HR, see `recommender.judge`."""

    IMPROVED = "improved"
    NO_CHANGE = "no_change"
    WORSE = "worse"
    INSUFFICIENT_DATA = "insufficient_data"


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """Mean ln(RMSSD) and HR over valid windows before vs after one trigger."""

    trigger_id: str
    device: str
    rule: str
    exercise_id: str
    trigger_t_s: float
    t_s: float
    before_ln_rmssd: float
    after_ln_rmssd: float
    before_hr_bpm: float
    after_hr_bpm: float
    n_before: int
    n_after: int
    verdict: Verdict

    @property
    def delta_ln_rmssd(self) -> float:
        """after - before mean ln(RMSSD) (positive: more vagal activity)."""
        return self.after_ln_rmssd - self.before_ln_rmssd

    @property
    def delta_hr_bpm(self) -> float:
        """after - before mean HR in bpm (negative: calmer)."""
        return self.after_hr_bpm - self.before_hr_bpm


@dataclass(frozen=True, slots=True, kw_only=True)
class Transition:
    """One rule's state change (or a suppressed firing) on one device, for logs and tests."""

    device: str
    rule: str
    t_s: float
    old: RuleState
    new: RuleState
    event: Event
    cause: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """What feeding windows produced, oldest first."""

    triggers: tuple[Trigger, ...] = field(default=())
    outcomes: tuple[Outcome, ...] = field(default=())
    transitions: tuple[Transition, ...] = field(default=())

    def __add__(self, other: Step) -> Step:
        return Step(
            triggers=self.triggers + other.triggers,
            outcomes=self.outcomes + other.outcomes,
            transitions=self.transitions + other.transitions,
        )
