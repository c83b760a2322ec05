"""The evaluator's state as JSON-ready data, and back: what lets a restart resume mid-episode.

`dump` gives, for ``json.dumps(..., allow_nan=False)``::

    {"version": 5,
     "devices": {"<device>": {
         "last_valid_s": F, "last_fire_s": F,
         "recent": [[t_s, ln_rmssd, hr_bpm], ...],       # valid windows of the last before_s
         "history": {"<exercise id>": [delta_ln_rmssd, ...]},
         "pending": [{"trigger": TRIGGER, "before_ln_rmssd": F, "before_hr_bpm": F,
                      "n_before": N, "after_ln_rmssd": [F, ...], "after_hr_bpm": [F, ...]}],
         "rules": {"<rule>": {"state": "idle|holding|fired|cooldown",
                              "hold_start_s": F, "hold_windows": N, "exit_start_s": F,
                              "last_fire_s": F, "fires_s": [F, ...], "escalation": N,
                              "cusum": {"s_z_min": F, "reference": F, "t_s": F},
                              "raise_level": [F, F], "raise_evidence": [F, F]}},
         "activity": {"recent_hr": [[t_s, hr_bpm], ...], "active": B, "since_s": F,
                      "calm_since_s": F, "state": "rest|rising|active",
                      "fast_s": F, "rest_ln_lf": F, "lf_t_s": F,
                      "rest_breath_hz": F, "breath_t_s": F, "above_s": F,
                      "breath_fast": B, "breath_calm": B},
         "snooze_until_s": F,
         "raise_activity": [F, F],
         "reference": {"hr_bpm": F, "ln_rmssd": F, "weight_s": F, "t_s": F,
                       "rest_hr_bpm": F, "frozen_since_s": F},
         "issued": [{"trigger_id": S, "t_s": F, "rule": S, "exercise_id": S,
                     "level": B, "evidence": B, "answer": S}],
         "feedback": [{"t_s": F, "trigger_id": S, "rule": S, "verdict": S}],
         "feedback_counts": {"<status>": N}}}}

(``raise_*`` are [value 0-1, time it was set]; ``answer`` is "" until the
trigger is answered.)

    TRIGGER = {"id": S, "device": S, "t_s": F, "rule": S, "severity": S, "escalation": N,
               "reason": {"<term>": F},
               "exercise": {"id": S, "name": S, "duration_s": F,
                            "phases": [{"kind": "inhale|hold|exhale", "duration_s": F}]}}

``F`` is a JSON number, or one of the strings ``"nan"``, ``"inf"``, ``"-inf"``
for the non-finite floats the evaluator uses as "not set" (a hold not open:
NaN; never fired: -inf). Strings rather than null, so each of the three comes
back as itself. Times, windows and exercise durations must be finite.

Versions 1 (before sustained evidence, activity and feedback), 2 (before
the personal reference and the "did exercise" raise), 3 (before the
activity detector's settling clock and resting LF) and 4 (before its resting
breathing and excursion) are still read: the keys they lack start at their
defaults (nothing accumulated, no raise, no feedback, a reference, a resting
LF and a resting breathing learnt afresh from the next windows, no excursion
judged yet).

`load` is strict about what it reads and tolerant of what it does not: a
wrong type, a missing key, an unknown state name or another version raises
`RuleStateError` naming the place (``snapshot.devices['a'].rules['x'].state``);
keys it does not know are ignored, and so are rules the config no longer
has. Rules new in the config start idle.
"""

from __future__ import annotations

import enum
import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from recommender._activity import ActivityState, ActivityTrack
from recommender._errors import RuleStateError
from recommender._evidence import CusumState
from recommender._exercises import Exercise, Phase, PhaseKind
from recommender._learning import FeedbackVerdict
from recommender._records import Trigger
from recommender._reference import ReferenceTrack
from recommender._rules import RecommenderConfig, Severity
from recommender._states import RuleState
from recommender._tracks import (
    DeviceTrack,
    FeedbackEntry,
    Issued,
    Pending,
    RuleTrack,
    new_device,
)

SNAPSHOT_VERSION = 5
READABLE_VERSIONS = (1, 2, 3, 4, 5)

_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}

E = TypeVar("E", bound=enum.Enum)


def dump(devices: Mapping[str, DeviceTrack]) -> dict[str, Any]:
    """The snapshot of ``devices`` (format in the module doc); shares nothing with them."""
    return {
        "version": SNAPSHOT_VERSION,
        "devices": {name: _dump_device(device) for name, device in devices.items()},
    }


def load(data: Mapping[str, Any], config: RecommenderConfig) -> dict[str, DeviceTrack]:
    """Device tracks from a snapshot, for ``config``'s rules; `RuleStateError` when malformed."""
    root = _Node(data, "snapshot")
    version = root["version"].value
    if (
        isinstance(version, bool)
        or not isinstance(version, int)
        or version not in READABLE_VERSIONS
    ):
        raise root["version"].error(
            f"unsupported version {_show(version)}; this build reads"
            f" {', '.join(map(str, READABLE_VERSIONS))}"
        )
    return {name: _load_device(node, config, version) for name, node in root["devices"].items()}


def _num(x: float) -> float | str:
    if math.isfinite(x):
        return float(x)
    if math.isnan(x):
        return "nan"
    return "inf" if x > 0 else "-inf"


def _dump_device(device: DeviceTrack) -> dict[str, Any]:
    return {
        "last_valid_s": _num(device.last_valid_s),
        "last_fire_s": _num(device.last_fire_s),
        "recent": [[_num(t), _num(ln), _num(hr)] for t, ln, hr in device.recent],
        "history": {ex: [_num(d) for d in deltas] for ex, deltas in device.history.items()},
        "pending": [_dump_pending(p) for p in device.pending],
        "rules": {name: _dump_rule(rule) for name, rule in device.rules.items()},
        "activity": {
            "recent_hr": [[_num(t), _num(hr)] for t, hr in device.activity.recent_hr],
            "active": device.activity.active,
            "since_s": _num(device.activity.since_s),
            "calm_since_s": _num(device.activity.calm_since_s),
            "state": device.activity.state.value,
            "fast_s": _num(device.activity.fast_s),
            "rest_ln_lf": _num(device.activity.rest_ln_lf),
            "lf_t_s": _num(device.activity.lf_t_s),
            "rest_breath_hz": _num(device.activity.rest_breath_hz),
            "breath_t_s": _num(device.activity.breath_t_s),
            "above_s": _num(device.activity.above_s),
            "breath_fast": device.activity.breath_fast,
            "breath_calm": device.activity.breath_calm,
        },
        "snooze_until_s": _num(device.snooze_until_s),
        "raise_activity": [_num(x) for x in device.raise_activity],
        "reference": {
            "hr_bpm": _num(device.reference.hr_bpm),
            "ln_rmssd": _num(device.reference.ln_rmssd),
            "weight_s": _num(device.reference.weight_s),
            "t_s": _num(device.reference.t_s),
            "rest_hr_bpm": _num(device.reference.rest_hr_bpm),
            "frozen_since_s": _num(device.reference.frozen_since_s),
        },
        "issued": [
            {
                "trigger_id": i.trigger_id,
                "t_s": _num(i.t_s),
                "rule": i.rule,
                "exercise_id": i.exercise_id,
                "level": i.level,
                "evidence": i.evidence,
                "answer": i.answer,
            }
            for i in device.issued
        ],
        "feedback": [
            {"t_s": _num(f.t_s), "trigger_id": f.trigger_id, "rule": f.rule, "verdict": f.verdict}
            for f in device.feedback
        ],
        "feedback_counts": dict(device.feedback_counts),
    }


def _dump_rule(rule: RuleTrack) -> dict[str, Any]:
    return {
        "state": rule.state.value,
        "hold_start_s": _num(rule.hold_start_s),
        "hold_windows": rule.hold_windows,
        "exit_start_s": _num(rule.exit_start_s),
        "last_fire_s": _num(rule.last_fire_s),
        "fires_s": [_num(t) for t in rule.fires_s],
        "escalation": rule.escalation,
        "cusum": {
            "s_z_min": _num(rule.cusum.s_z_min),
            "reference": _num(rule.cusum.reference),
            "t_s": _num(rule.cusum.t_s),
        },
        "raise_level": [_num(x) for x in rule.raise_level],
        "raise_evidence": [_num(x) for x in rule.raise_evidence],
    }


def _dump_pending(pending: Pending) -> dict[str, Any]:
    trigger = pending.trigger
    exercise = trigger.exercise
    return {
        "trigger": {
            "id": trigger.id,
            "device": trigger.device,
            "t_s": _num(trigger.t_s),
            "rule": trigger.rule,
            "severity": trigger.severity.value,
            "escalation": trigger.escalation,
            "reason": {term: _num(v) for term, v in trigger.reason.items()},
            "exercise": {
                "id": exercise.id,
                "name": exercise.name,
                "duration_s": _num(exercise.duration_s),
                "phases": [
                    {"kind": p.kind.value, "duration_s": _num(p.duration_s)}
                    for p in exercise.phases
                ],
            },
        },
        "before_ln_rmssd": _num(pending.before_ln_rmssd),
        "before_hr_bpm": _num(pending.before_hr_bpm),
        "n_before": pending.n_before,
        "after_ln_rmssd": [_num(x) for x in pending.after_ln_rmssd],
        "after_hr_bpm": [_num(x) for x in pending.after_hr_bpm],
    }


def _load_device(node: _Node, config: RecommenderConfig, version: int) -> DeviceTrack:
    device = new_device(config)
    device.last_valid_s = node["last_valid_s"].number()
    device.last_fire_s = node["last_fire_s"].number()
    for entry in node["recent"].elements():
        fields = entry.elements()
        if len(fields) != 3:
            raise entry.error(f"expected [t_s, ln_rmssd, hr_bpm], got {len(fields)} items")
        t_s, ln, hr = (f.finite() for f in fields)
        device.recent.append((t_s, ln, hr))
    keep = config.outcome.history
    for exercise_id, deltas in node["history"].items():
        device.history[exercise_id] = deque((d.number() for d in deltas.elements()), keep)
    device.pending = [_load_pending(p) for p in node["pending"].elements()]
    for name, rule in node["rules"].items():
        if name in device.rules:  # a rule since removed from the config is ignored
            device.rules[name] = _load_rule(rule, version)
    if version >= 2:
        device.activity = _load_activity(node["activity"], version)
        device.snooze_until_s = node["snooze_until_s"].number()
        device.issued = deque(_load_issued(i) for i in node["issued"].elements())
        device.feedback = deque(
            FeedbackEntry(
                t_s=f["t_s"].finite(),
                trigger_id=f["trigger_id"].text(),
                rule=f["rule"].text(),
                verdict=f["verdict"].choice(FeedbackVerdict).value,
            )
            for f in node["feedback"].elements()
        )
        device.feedback_counts = {k: v.count() for k, v in node["feedback_counts"].items()}
    if version >= 3:
        device.raise_activity = _load_pair(node["raise_activity"])
        device.reference = _load_reference(node["reference"])
    return device


def _load_reference(node: _Node) -> ReferenceTrack:
    return ReferenceTrack(
        hr_bpm=node["hr_bpm"].number(),
        ln_rmssd=node["ln_rmssd"].number(),
        weight_s=node["weight_s"].finite(),
        t_s=node["t_s"].number(),
        rest_hr_bpm=node["rest_hr_bpm"].number(),
        frozen_since_s=node["frozen_since_s"].number(),
    )


def _load_activity(node: _Node, version: int) -> ActivityTrack:
    recent: deque[tuple[float, float]] = deque()
    for entry in node["recent_hr"].elements():
        fields = entry.elements()
        if len(fields) != 2:
            raise entry.error(f"expected [t_s, hr_bpm], got {len(fields)} items")
        t_s, hr = (f.finite() for f in fields)
        recent.append((t_s, hr))
    track = ActivityTrack(
        recent_hr=recent,
        active=node["active"].flag(),
        since_s=node["since_s"].number(),
        calm_since_s=node["calm_since_s"].number(),
        state=node["state"].choice(ActivityState),
    )
    if version >= 4:
        track.fast_s = node["fast_s"].number()
        track.rest_ln_lf = node["rest_ln_lf"].number()
        track.lf_t_s = node["lf_t_s"].number()
    if version >= 5:
        track.rest_breath_hz = node["rest_breath_hz"].number()
        track.breath_t_s = node["breath_t_s"].number()
        track.above_s = node["above_s"].number()
        track.breath_fast = node["breath_fast"].flag()
        track.breath_calm = node["breath_calm"].flag()
    return track


def _load_issued(node: _Node) -> Issued:
    answer = node["answer"]
    if answer.text():
        answer.choice(FeedbackVerdict)
    return Issued(
        trigger_id=node["trigger_id"].text(),
        t_s=node["t_s"].finite(),
        rule=node["rule"].text(),
        exercise_id=node["exercise_id"].text(),
        level=node["level"].flag(),
        evidence=node["evidence"].flag(),
        answer=answer.text(),
    )


def _load_pair(node: _Node) -> tuple[float, float]:
    fields = node.elements()
    if len(fields) != 2:
        raise node.error(f"expected [value, since_s], got {len(fields)} items")
    value = fields[0].finite()
    if not 0.0 <= value <= 1.0:
        raise fields[0].error(f"expected a raise within [0, 1], got {value}")
    return value, fields[1].number()


def _load_rule(node: _Node, version: int) -> RuleTrack:
    if version < 2:
        return _load_rule_v1(node)
    cusum = node["cusum"]
    track = _load_rule_v1(node)
    track.cusum = CusumState(
        s_z_min=cusum["s_z_min"].finite(),
        reference=cusum["reference"].finite(),
        t_s=cusum["t_s"].number(),
    )
    track.raise_level = _load_pair(node["raise_level"])
    track.raise_evidence = _load_pair(node["raise_evidence"])
    return track


def _load_rule_v1(node: _Node) -> RuleTrack:
    return RuleTrack(
        state=node["state"].choice(RuleState),
        hold_start_s=node["hold_start_s"].number(),
        hold_windows=node["hold_windows"].count(),
        exit_start_s=node["exit_start_s"].number(),
        last_fire_s=node["last_fire_s"].number(),
        fires_s=deque(t.finite() for t in node["fires_s"].elements()),
        escalation=node["escalation"].count(),
    )


def _load_pending(node: _Node) -> Pending:
    return Pending(
        trigger=_load_trigger(node["trigger"]),
        before_ln_rmssd=node["before_ln_rmssd"].number(),
        before_hr_bpm=node["before_hr_bpm"].number(),
        n_before=node["n_before"].count(),
        after_ln_rmssd=[x.finite() for x in node["after_ln_rmssd"].elements()],
        after_hr_bpm=[x.finite() for x in node["after_hr_bpm"].elements()],
    )


def _load_trigger(node: _Node) -> Trigger:
    return Trigger(
        id=node["id"].text(),
        device=node["device"].text(),
        t_s=node["t_s"].finite(),
        rule=node["rule"].text(),
        exercise=_load_exercise(node["exercise"]),
        reason={term: v.number() for term, v in node["reason"].items()},
        severity=node["severity"].choice(Severity),
        escalation=node["escalation"].count(),
    )


def _load_exercise(node: _Node) -> Exercise:
    phases = [(p["kind"].choice(PhaseKind), p["duration_s"]) for p in node["phases"].elements()]
    try:
        return Exercise(
            id=node["id"].text(),
            name=node["name"].text(),
            phases=tuple(Phase(kind=kind, duration_s=d.finite()) for kind, d in phases),
            duration_s=node["duration_s"].finite(),
        )
    except ValueError as exc:  # Phase / Exercise validation: no phases, a duration <= 0
        raise node.error(str(exc)) from exc


@dataclass(frozen=True, slots=True)
class _Node:
    """One value of the snapshot and where it sits; its readers raise `RuleStateError`."""

    value: object
    where: str

    def error(self, reason: str) -> RuleStateError:
        return RuleStateError(where=self.where, reason=reason)

    def _mapping(self) -> Mapping[object, object]:
        if not isinstance(self.value, Mapping):
            raise self.error(f"expected an object, got {_kind(self.value)}")
        return self.value

    def __getitem__(self, key: str) -> _Node:
        """The value of a fixed key (``where.key``)."""
        where = f"{self.where}.{key}"
        try:
            return _Node(self._mapping()[key], where)
        except KeyError as exc:
            raise RuleStateError(where=where, reason="missing") from exc

    def items(self) -> list[tuple[str, _Node]]:
        """The entries of an object keyed by name (``where['name']``)."""
        entries: list[tuple[str, _Node]] = []
        for key, value in self._mapping().items():
            if not isinstance(key, str):
                raise self.error(f"key {_show(key)} is not a string")
            entries.append((key, _Node(value, f"{self.where}[{key!r}]")))
        return entries

    def elements(self) -> list[_Node]:
        """The items of an array (``where[i]``)."""
        if not isinstance(self.value, list | tuple):
            raise self.error(f"expected an array, got {_kind(self.value)}")
        return [_Node(v, f"{self.where}[{i}]") for i, v in enumerate(self.value)]

    def number(self) -> float:
        """A float: a JSON number or "nan" / "inf" / "-inf"."""
        value = self.value
        if isinstance(value, str) and value in _NON_FINITE:
            return _NON_FINITE[value]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(f'expected a number or "nan", "inf", "-inf", got {_kind(value)}')
        try:
            return float(value)
        except OverflowError as exc:  # an integer beyond float range
            raise self.error("number out of range") from exc

    def finite(self) -> float:
        """A finite float (a time, a window's figure, a duration)."""
        value = self.number()
        if not math.isfinite(value):
            raise self.error(f"expected a finite number, got {value}")
        return value

    def count(self) -> int:
        """A non-negative integer."""
        value = self.value
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.error(f"expected an integer >= 0, got {_show(value)}")
        return value

    def flag(self) -> bool:
        """A boolean."""
        if not isinstance(self.value, bool):
            raise self.error(f"expected a boolean, got {_kind(self.value)}")
        return self.value

    def text(self) -> str:
        """A string."""
        if not isinstance(self.value, str):
            raise self.error(f"expected a string, got {_kind(self.value)}")
        return self.value

    def choice(self, kind: type[E]) -> E:
        """A member of the string enum ``kind`` by value."""
        value = self.text()
        try:
            return kind(value)
        except ValueError as exc:
            known = ", ".join(str(m.value) for m in kind)
            raise self.error(f"unknown {kind.__name__} {_show(value)}; known: {known}") from exc


def _kind(value: object) -> str:
    """The JSON name of ``value``'s type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _show(value: object) -> str:
    """A short repr of a scalar ``value`` for a message; the JSON type of anything else."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**30:
        return "a huge integer"
    if value is not None and not isinstance(value, str | int | float):
        return _kind(value)
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
