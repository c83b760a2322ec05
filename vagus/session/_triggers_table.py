"""``triggers.csv``: one row per `recommender.Trigger`, its exercise and reason flattened.

The exercise becomes ``exercise_id``, ``exercise_name``, ``exercise_pattern``
(phases as ``kind:seconds`` separated by spaces, e.g. ``inhale:4 hold:7
exhale:8``), ``exercise_breaths_per_min`` (derived, for readers of the file)
and ``exercise_duration_s``; ``reason`` (the figures that fired the rule)
is a JSON object, whose floats are repr-exact like every other cell.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from recommender import Exercise, Phase, PhaseKind, Severity, Trigger
from vagus.session._cells import float_cell, parse_float, parse_int, parse_text
from vagus.session._csv_io import read_columns

TRIGGERS_HEADER = (
    "id",
    "device",
    "t_s",
    "rule",
    "severity",
    "escalation",
    "exercise_id",
    "exercise_name",
    "exercise_pattern",
    "exercise_breaths_per_min",
    "exercise_duration_s",
    "reason",
)


def pattern_cell(phases: Iterable[Phase]) -> str:
    """Phases as ``kind:seconds`` words, e.g. ``inhale:5.5 exhale:5.5``."""
    return " ".join(f"{phase.kind.value}:{float_cell(phase.duration_s)}" for phase in phases)


def parse_pattern(text: str) -> tuple[Phase, ...]:
    """The phases of a ``kind:seconds ...`` cell."""
    phases = []
    for word in text.split():
        kind, _, seconds = word.partition(":")
        phases.append(Phase(kind=PhaseKind(kind), duration_s=parse_float(seconds)))
    if not phases:
        raise ValueError("no phases")
    return tuple(phases)


def parse_positive(text: str) -> float:
    """A number above zero (an exercise's duration)."""
    value = parse_float(text)
    if not value > 0:
        raise ValueError(f"{text!r} is not above zero")
    return value


def parse_reason(text: str) -> Mapping[str, float]:
    """The JSON object of a reason cell: names to numbers."""
    try:
        reason = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc.msg}") from exc
    if not isinstance(reason, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in reason.values()
    ):
        raise ValueError("expected a JSON object of numbers")
    return {str(k): float(v) for k, v in reason.items()}


def trigger_rows(triggers: Iterable[Trigger]) -> Iterator[list[str]]:
    """One row per trigger."""
    for trigger in triggers:
        exercise = trigger.exercise
        yield [
            trigger.id,
            trigger.device,
            float_cell(trigger.t_s),
            trigger.rule,
            trigger.severity.value,
            str(trigger.escalation),
            exercise.id,
            exercise.name,
            pattern_cell(exercise.phases),
            float_cell(exercise.breaths_per_min),
            float_cell(exercise.duration_s),
            json.dumps(dict(trigger.reason), separators=(",", ":")),
        ]


def read_triggers(path: Path) -> list[Trigger]:
    """Every trigger of a ``triggers.csv``, in file order."""
    table = read_columns(path, TRIGGERS_HEADER)
    exercises = [
        Exercise(id=ex_id, name=name, phases=phases, duration_s=duration_s)
        for ex_id, name, phases, duration_s in zip(
            table.parsed("exercise_id", parse_text),
            table.parsed("exercise_name", parse_text),
            table.parsed("exercise_pattern", parse_pattern),
            table.parsed("exercise_duration_s", parse_positive),
            strict=True,
        )
    ]
    return [
        Trigger(
            id=trigger_id,
            device=device,
            t_s=t_s,
            rule=rule,
            exercise=exercise,
            reason=reason,
            severity=severity,
            escalation=escalation,
        )
        for trigger_id, device, t_s, rule, severity, escalation, exercise, reason in zip(
            table.parsed("id", parse_text),
            table.parsed("device", parse_text),
            table.parsed("t_s", parse_float),
            table.parsed("rule", parse_text),
            table.parsed("severity", Severity),
            table.parsed("escalation", parse_int),
            exercises,
            table.parsed("reason", parse_reason),
            strict=True,
        )
    ]
