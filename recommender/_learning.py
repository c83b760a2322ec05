"""Learning from the person: feedback on suggestions, personal thresholds, exercise ranking.

- **False alarms** raise that person's thresholds for the paths that fired
  (the level conditions, the sustained-evidence CUSUM, or both). A raise is a
  number in [0, 1] per device, rule and path; each false alarm adds
  ``false_alarm_step`` (bounded by 1), each "helpful" takes one step off, and
  it decays back toward 0 with a half-life of ``half_life_days`` (14 days by
  default: after a false alarm the thresholds are about half-way back in two
  weeks, nearly back in two months). At raise r, level thresholds move by
  ``r * level_max_rel`` of their value away from firing (``stress >= 60`` at
  r = 1 with 0.3: ``stress >= 78``) and the CUSUM's k and h grow by the factor
  ``1 + r * evidence_max_rel``.
- **Did exercise** (the suggestion came during physical activity) teaches the
  activity veto instead (`recommender._activity`): a raise in [0, 1] per
  device, stepped and decaying like the others, at which the detector's
  coupling limits grow and its heart-rate limits shrink by up to
  ``activity_max_rel`` (30 %), so that person's bouts are recognised sooner.
- **Not now** snoozes every rule of the device for ``snooze_s`` (1 h).
- **Exercise ranking** by Thompson sampling (Thompson, Biometrika 25:285,
  1933; Russo et al., "A Tutorial on Thompson Sampling", Found. Trends Mach.
  Learn. 11:1, 2018) on the outcome Δln RMSSD: each exercise's mean effect has a
  normal prior N(0, prior_sd²) and observations with noise ``noise_sd``
  (conjugate normal posterior); a trigger draws one effect per exercise from
  its posterior and ranks by the draws. Observations are the measured
  outcomes and, for "helpful", a pseudo-outcome of ``helpful_delta``. The
  draw comes from a generator seeded by (seed, device, trigger time): the
  same inputs give the same choice, and a restart does not change it.
"""

from __future__ import annotations

import enum
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field


class FeedbackVerdict(enum.StrEnum):
    """What the person said about a suggestion."""

    HELPFUL = "helpful"
    NOT_NOW = "not_now"
    FALSE_ALARM = "false_alarm"
    DID_EXERCISE = "did_exercise"


class FeedbackStatus(enum.StrEnum):
    """What `Evaluator.feedback` did with a `Feedback`."""

    APPLIED = "applied"
    UNKNOWN_TRIGGER = "unknown_trigger"  # not a trigger of this device (or forgotten)
    DUPLICATE = "duplicate"  # this trigger was answered already; the first answer stands


@dataclass(frozen=True, slots=True, kw_only=True)
class Feedback:
    """The person's answer to one suggestion, at ``t_s`` (same clock as the windows)."""

    trigger_id: str
    verdict: FeedbackVerdict
    t_s: float

    def __post_init__(self) -> None:
        if not self.trigger_id:
            raise ValueError("Feedback.trigger_id must not be empty")
        if not math.isfinite(self.t_s):
            raise ValueError(f"Feedback.t_s must be finite, got {self.t_s}")
        object.__setattr__(self, "verdict", FeedbackVerdict(self.verdict))


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedbackResult:
    """The outcome of one `Evaluator.feedback` call; ``changes`` names what moved (path ->
    new raise, ``"snooze_until_s"``, ``"exercise:<id>"`` -> posterior mean)."""

    device: str
    trigger_id: str
    verdict: FeedbackVerdict
    status: FeedbackStatus
    changes: Mapping[str, float]

    @property
    def accepted(self) -> bool:
        """True when the feedback was applied."""
        return self.status is FeedbackStatus.APPLIED


class LearningSettings(BaseModel):
    """How feedback and outcomes move a person's thresholds and ranking
    (``[recommender.learning]``); see the module doc."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    false_alarm_step: float = Field(default=0.34, gt=0, le=1)
    half_life_days: float = Field(default=14.0, gt=0, le=365)
    level_max_rel: float = Field(default=0.3, ge=0, le=2)
    evidence_max_rel: float = Field(default=2.0, ge=0, le=10)
    activity_max_rel: float = Field(default=0.3, ge=0, le=0.9)
    snooze_s: float = Field(default=3600.0, ge=0, le=86400)
    remember_triggers: int = Field(default=50, ge=1, le=1000)
    seed: int = 0
    prior_sd: float = Field(default=0.1, gt=0, le=10)
    noise_sd: float = Field(default=0.15, gt=0, le=10)
    helpful_delta: float = Field(default=0.1, ge=-1, le=1)


def decayed(value: float, since_s: float, t_s: float, half_life_days: float) -> float:
    """A raise of ``value`` set at ``since_s``, seen at ``t_s`` (never grows back up)."""
    if value == 0.0 or not math.isfinite(since_s):
        return value
    age_s = max(t_s - since_s, 0.0)
    return float(value * 0.5 ** (age_s / (half_life_days * 86400.0)))


def posterior(observations: Sequence[float], settings: LearningSettings) -> tuple[float, float]:
    """Mean and SD of an exercise's mean Δln RMSSD given its observations (conjugate normal)."""
    precision = 1.0 / settings.prior_sd**2 + len(observations) / settings.noise_sd**2
    mean = math.fsum(observations) / settings.noise_sd**2 / precision
    return mean, math.sqrt(1.0 / precision)


def thompson_rank(
    ladder: Sequence[str],
    history: Mapping[str, Sequence[float]],
    rng: random.Random,
    settings: LearningSettings,
) -> tuple[str, ...]:
    """``ladder`` ordered by one posterior draw per exercise, best first (ties: ladder order)."""
    draws = []
    for i, exercise in enumerate(ladder):
        mean, sd = posterior(history.get(exercise, ()), settings)
        draws.append((-rng.gauss(mean, sd), i))
    return tuple(ladder[i] for _, i in sorted(draws))


def draw_rng(seed: int, device: str, t_s: float) -> random.Random:
    """The generator of one trigger's draw: a function of (seed, device, time) only."""
    return random.Random(f"{seed}|{device}|{t_s:.3f}")
