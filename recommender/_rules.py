"""Rule model and its validation from the user's TOML (``[[rules]]`` and ``[recommender]``)."""

from __future__ import annotations

import datetime as dt
import enum
import tomllib
from collections.abc import Mapping
from importlib import resources
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from recommender._activity import ActivitySettings
from recommender._conditions import Condition, ConditionSyntaxError, parse_condition
from recommender._errors import RuleConfigError
from recommender._evidence import Evidence
from recommender._exercises import EXERCISE_IDS, RESONANCE_MAX_BPM, RESONANCE_MIN_BPM
from recommender._learning import LearningSettings
from recommender._reference import ReferenceSettings


class Severity(enum.StrEnum):
    """How urgently a subscriber should surface a suggestion."""

    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"

    def raised(self) -> Severity:
        """One step more urgent (HIGH stays HIGH): used when a rule escalates."""
        order = list(Severity)
        return order[min(order.index(self) + 1, len(order) - 1)]


def _condition(value: object) -> object:
    if isinstance(value, str):
        try:
            return parse_condition(value)
        except ConditionSyntaxError as exc:
            raise ValueError(str(exc)) from exc
    return value


ConditionField = Annotated[Condition, BeforeValidator(_condition)]


def _exercise_id(value: object) -> object:
    if isinstance(value, str) and value not in EXERCISE_IDS:
        raise ValueError(f"unknown exercise; known: {', '.join(EXERCISE_IDS)}")
    return value


ExerciseId = Annotated[str, BeforeValidator(_exercise_id)]


class Rule(BaseModel):
    """One rule: enter/exit conditions (hysteresis), hold, cooldown, cap, exercises to suggest.

    All ``enter`` conditions must hold to start (and keep counting) a hold;
    any ``exit`` condition held for ``exit_hold_s`` ends an episode (time
    hysteresis on top of the thresholds). Between the two the rule keeps
    its state. Any ``unless`` condition vetoes a window (e.g. physical
    activity); a NaN figure never vetoes. ``repeat_after_s`` (off by
    default) fires again, escalated, while an episode goes on that long.
    ``exercises`` is the ladder escalation walks and outcome history
    reorders (see `recommender.rank_exercises`).

    ``evidence`` (optional, ``[rules.evidence]``) adds a second way in: a
    one-sided CUSUM of the person's deviation from their baseline
    (`recommender.Evidence`) that fires the rule once it reaches its decision
    interval, even when the level conditions never hold. ``veto_activity``
    holds the rule while the activity detector (`recommender.ActivitySettings`)
    sees physical activity, or a heart-rate rise it cannot yet tell apart.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)
    enter: tuple[ConditionField, ...] = Field(min_length=1)
    exit: tuple[ConditionField, ...] = Field(min_length=1)
    exit_hold_s: float = Field(default=60.0, ge=0, le=3600)
    unless: tuple[ConditionField, ...] = ()
    hold_s: float = Field(default=30.0, ge=0, le=3600)
    hold_windows: int = Field(default=3, ge=1, le=1000)
    cooldown_s: float = Field(default=900.0, ge=0, le=86400)
    repeat_after_s: float | None = Field(default=None, gt=0, le=86400)
    max_per_hour: int = Field(default=2, ge=1, le=60)
    exercises: tuple[ExerciseId, ...] = Field(default=("resonance",), min_length=1)
    severity: Severity = Severity.MODERATE
    evidence: Evidence | None = None
    veto_activity: bool = False


class QuietHours(BaseModel):
    """Local-time span with no triggers; ``start`` > ``end`` wraps past midnight."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: dt.time
    end: dt.time

    def contains(self, local_time: dt.time) -> bool:
        """True when ``local_time`` lies in [start, end), across midnight if need be."""
        if self.start <= self.end:
            return self.start <= local_time < self.end
        return local_time >= self.start or local_time < self.end


class OutcomeSettings(BaseModel):
    """How outcomes are measured: minutes before vs after a trigger, and the history kept."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    before_s: float = Field(default=60.0, gt=0, le=3600)
    after_s: float = Field(default=300.0, gt=0, le=3600)
    min_windows: int = Field(default=3, ge=1)
    history: int = Field(default=5, ge=1, le=100)
    policy: Literal["thompson", "greedy"] = "thompson"


class RecommenderConfig(BaseModel):
    """Everything the evaluator needs: rules plus per-device settings."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rules: tuple[Rule, ...] = Field(min_length=1)
    min_gap_s: float = Field(default=600.0, ge=0, le=86400)
    max_invalid_s: float = Field(default=120.0, gt=0, le=3600)
    quiet_hours: QuietHours | None = None
    resonance_rate_bpm: float = Field(
        default=60.0 / 11.0, ge=RESONANCE_MIN_BPM, le=RESONANCE_MAX_BPM
    )
    outcome: OutcomeSettings = OutcomeSettings()
    activity: ActivitySettings = ActivitySettings()
    learning: LearningSettings = LearningSettings()
    reference: ReferenceSettings = ReferenceSettings()

    @model_validator(mode="after")
    def _unique_names(self) -> Self:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.name in seen:
                raise ValueError(f"duplicate rule name {rule.name!r}")
            seen.add(rule.name)
        return self


def _default_rules() -> list[Any]:
    text = resources.files("recommender").joinpath("defaults.toml").read_text()
    rules: list[Any] = tomllib.loads(text)["rules"]
    return rules


def parse_config(data: Mapping[str, Any]) -> RecommenderConfig:
    """Validate a parsed config: ``rules`` (``[[rules]]``, default set when absent) and the
    optional ``recommender`` table; raise `RuleConfigError` naming rule, field and value."""
    raw_rules = data.get("rules", _default_rules())
    settings = dict(data.get("recommender", {}))
    try:
        return RecommenderConfig.model_validate({**settings, "rules": raw_rules})
    except ValidationError as exc:
        raise _config_error(exc, raw_rules) from exc


def load_config(toml_text: str) -> RecommenderConfig:
    """Parse TOML text and validate it with `parse_config`."""
    try:
        data = tomllib.loads(toml_text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleConfigError(rule=None, field="toml", value="...", reason=str(exc)) from exc
    return parse_config(data)


def default_config() -> RecommenderConfig:
    """The shipped default rule set with default settings."""
    return parse_config({})


def _config_error(exc: ValidationError, raw_rules: object) -> RuleConfigError:
    first = exc.errors()[0]
    loc = list(first["loc"])
    rule: str | None = None
    if loc[:1] == ["rules"] and len(loc) >= 2 and isinstance(loc[1], int):
        index = loc[1]
        raw = raw_rules[index] if isinstance(raw_rules, list) else None
        name = raw.get("name") if isinstance(raw, dict) else None
        rule = name if isinstance(name, str) else f"#{index + 1}"
        loc = loc[2:]
    elif loc[:1] == ["rules"]:
        rule, loc = "*", loc[1:]
    field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
    reason = first["msg"].removeprefix("Value error, ")
    return RuleConfigError(rule=rule, field=field or "(rule)", value=first["input"], reason=reason)
