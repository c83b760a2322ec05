"""Evaluator snapshots: a restart mid-episode resumes exactly; malformed data is refused, typed."""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from hrv import Quality, WindowMetrics
from recommender import (
    Evaluator,
    Feedback,
    FeedbackVerdict,
    RecommenderConfig,
    RuleState,
    RuleStateError,
    Step,
    Verdict,
    default_config,
    load_config,
)
from tests.recommender.windows import episodes, series, window

# Two rules that fire often: short holds and cooldowns, a repeating "surge"
# rule, a device gap that suppresses some triggers, outcomes after 2 minutes
# and a history of 2 outcomes per exercise (so the deque's bound matters).
BUSY = load_config(
    """
[recommender]
min_gap_s = 90

[recommender.outcome]
after_s = 120
history = 2

[[rules]]
name = "stress"
enter = ["stress >= 70"]
exit = ["stress < 50"]
exit_hold_s = 20
hold_s = 20
hold_windows = 3
cooldown_s = 240
max_per_hour = 3
exercises = ["resonance", "box", "sigh"]

[[rules]]
name = "surge"
enter = ["stress >= 85"]
exit = ["stress < 60"]
exit_hold_s = 0
hold_s = 10
hold_windows = 2
cooldown_s = 60
repeat_after_s = 150
max_per_hour = 6
exercises = ["4-7-8", "box"]
severity = "high"
"""
)

GAP_600 = load_config(
    """
[recommender]
min_gap_s = 600

[[rules]]
name = "stress"
enter = ["stress >= 70"]
exit = ["stress < 50"]
exit_hold_s = 30
hold_s = 30
hold_windows = 3
cooldown_s = 0
exercises = ["resonance", "box"]
"""
)

DEVICES = ("C0:FF:EE:00:00:01", "C0:FF:EE:00:00:02", "C0:FF:EE:00:00:03")
STEP_S = 5.0

# A segment of one device's stream: (windows, stress, quality); quality None
# is a strap out of range (time passes, no windows arrive).
segments = st.lists(
    st.tuples(
        st.integers(1, 30),
        st.sampled_from([20.0, 45.0, 55.0, 65.0, 75.0, 90.0]),
        st.sampled_from([Quality.OK] * 4 + [Quality.ARTIFACTS, Quality.GAP, None]),
    ),
    min_size=1,
    max_size=20,
)
streams = st.lists(segments, min_size=1, max_size=len(DEVICES))

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | st.sampled_from(["nan", "inf", "-inf", "idle", "fired", "resonance"])
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


def merged(device_segments: list[list[tuple[int, float, Quality | None]]]) -> list[WindowMetrics]:
    """Every device's windows, interleaved in time order (devices offset by 1.25 s)."""
    windows: list[WindowMetrics] = []
    for index, segs in enumerate(device_segments):
        t_s = index * 1.25
        for count, stress, quality in segs:
            for _ in range(count):
                if quality is not None:
                    windows.append(window(t_s, stress, device=DEVICES[index], quality=quality))
                t_s += STEP_S
    return sorted(windows, key=lambda w: w.t_end_s)


def round_trip(evaluator: Evaluator) -> dict[str, Any]:
    """The evaluator's snapshot as it comes back from disk."""
    loaded: dict[str, Any] = json.loads(json.dumps(evaluator.snapshot(), allow_nan=False))
    return loaded


def restored(config: RecommenderConfig, data: dict[str, Any]) -> Evaluator:
    evaluator = Evaluator(config)
    evaluator.restore(data)
    return evaluator


def rich_snapshot() -> dict[str, Any]:
    """Two devices mid-stream: rules fired and cooling, a pending outcome, exercise history."""
    evaluator = Evaluator(BUSY)
    one = series(episodes((0, 200), (400, 520)), until_s=520, device=DEVICES[0])
    two = series(episodes((100, 300), high=95.0), until_s=380, device=DEVICES[1])
    step = evaluator.feed_many(sorted(one + two, key=lambda w: w.t_end_s))
    assert step.outcomes
    data = round_trip(evaluator)
    assert all(data["devices"][d]["pending"] for d in DEVICES[:2])
    assert all(data["devices"][d]["history"] for d in DEVICES[:2])
    return data


RICH = rich_snapshot()

# Objects keyed by free names (devices, rules, exercise ids, reason terms):
# dropping one of their entries leaves a valid, smaller snapshot.
FREE_KEYS = frozenset({"devices", "rules", "history", "reason", "feedback_counts"})


def record_keys(node: object, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Paths to every key of every fixed-shape object in ``node``."""
    if isinstance(node, dict):
        free = bool(path) and path[-1] in FREE_KEYS
        for key, value in node.items():
            if not free:
                yield (*path, key)
            yield from record_keys(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from record_keys(value, (*path, i))


def every_path(node: object, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Paths to every value in ``node`` (the root included)."""
    yield path
    children: list[tuple[Any, object]] = []
    if isinstance(node, dict):
        children = list(node.items())
    elif isinstance(node, list):
        children = list(enumerate(node))
    for key, value in children:
        yield from every_path(value, (*path, key))


def replaced(data: dict[str, Any], path: tuple[Any, ...], value: object) -> Any:
    """A deep copy of ``data`` with the value at ``path`` replaced (deleted for ``...``)."""
    if not path:
        return value
    out = copy.deepcopy(data)
    parent: Any = out
    for key in path[:-1]:
        parent = parent[key]
    if value is ...:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return out


@settings(max_examples=60, deadline=None)
@given(
    config=st.sampled_from([BUSY, default_config()]),
    device_segments=streams,
    data=st.data(),
)
def test_restart_anywhere_changes_nothing(
    config: RecommenderConfig,
    device_segments: list[list[tuple[int, float, Quality | None]]],
    data: st.DataObject,
) -> None:
    """Feed A, snapshot through JSON, restore into a fresh evaluator, feed B == feed A+B."""
    windows = merged(device_segments)
    split = data.draw(st.integers(0, len(windows)), label="split")
    whole = Evaluator(config)
    expected = whole.feed_many(windows)

    before = Evaluator(config)
    head = before.feed_many(windows[:split])
    after = restored(config, round_trip(before))
    assert round_trip(after) == round_trip(before)
    got = head + after.feed_many(windows[split:])

    assert got.triggers == expected.triggers
    assert got.outcomes == expected.outcomes
    assert got.transitions == expected.transitions
    assert round_trip(after) == round_trip(whole)


def test_restart_mid_episode_keeps_the_device_gap() -> None:
    """Restarted 70 s after a trigger (min_gap_s = 600): no trigger before 600 s have passed.

    The pending outcome of the first trigger is still measured and emitted
    by the restored evaluator; a fresh one (the old behaviour) fires again
    at once.
    """
    windows = series(episodes((0, 150), (300, 500), (700, 900)), until_s=1000)
    head, tail = windows[:20], windows[20:]  # restart at t = 100 s, in the first episode
    before = Evaluator(GAP_600)
    (first,) = before.feed_many(head).triggers
    assert (first.t_s, before.state(first.device, "stress")) == (30, RuleState.FIRED)

    after = restored(GAP_600, round_trip(before))
    step = after.feed_many(tail)
    assert [t.t_s for t in step.triggers] == [730]
    assert all(t.t_s - first.t_s >= 600 for t in step.triggers)
    assert any("another trigger" in tr.cause for tr in step.transitions)
    (outcome,) = step.outcomes
    assert (outcome.trigger_id, outcome.t_s) == (first.id, 330)
    assert outcome.verdict is Verdict.IMPROVED

    naive = Evaluator(GAP_600).feed_many(tail)
    assert naive.triggers[0].t_s < first.t_s + 600


def test_snapshot_is_strict_json_with_non_finite_as_strings() -> None:
    """NaN and ±inf (unset timers, never fired) are written as "nan" / "-inf" strings."""
    evaluator = Evaluator(GAP_600)
    evaluator.feed(window(0, 80))
    data = evaluator.snapshot()
    json.dumps(data, allow_nan=False)
    assert data["version"] == 5
    device = data["devices"][DEVICES[0]]
    rule = device["rules"]["stress"]
    assert (rule["state"], rule["hold_start_s"], rule["hold_windows"]) == ("holding", 0.0, 1)
    assert (rule["exit_start_s"], rule["last_fire_s"], device["last_fire_s"]) == (
        "nan",
        "-inf",
        "-inf",
    )


def test_snapshot_keeps_pending_trigger_whole() -> None:
    """A pending outcome's trigger comes back equal, exercise and reason included."""
    evaluator = Evaluator(BUSY)
    (trigger,) = evaluator.feed_many([window(t, 80) for t in range(0, 30, 5)]).triggers
    again = restored(BUSY, round_trip(evaluator))
    assert again.snapshot() == evaluator.snapshot()
    (pending,) = again.snapshot()["devices"][DEVICES[0]]["pending"]
    assert pending["trigger"]["id"] == trigger.id
    assert pending["trigger"]["exercise"]["duration_s"] == trigger.exercise.duration_s


def test_rules_removed_are_ignored_and_new_rules_start_idle() -> None:
    """Restoring into a config with one rule dropped and one added keeps the shared rule."""
    evaluator = Evaluator(BUSY)
    evaluator.feed_many([window(t, 95) for t in range(0, 60, 5)])
    assert evaluator.state(DEVICES[0], "surge") is RuleState.FIRED
    changed = BUSY.model_copy(
        update={"rules": (BUSY.rules[1], GAP_600.rules[0].model_copy(update={"name": "new"}))}
    )
    again = restored(changed, round_trip(evaluator))
    assert again.state(DEVICES[0], "surge") is RuleState.FIRED
    assert again.state(DEVICES[0], "new") is RuleState.IDLE
    assert set(again.snapshot()["devices"][DEVICES[0]]["rules"]) == {"surge", "new"}


@pytest.mark.parametrize("version", [0, 6, "1", 1.0, True, None, ...])
def test_wrong_version_is_refused(version: object) -> None:
    """Only versions 1 to 5 (integers) are read; anything else names snapshot.version."""
    with pytest.raises(RuleStateError) as info:
        Evaluator(BUSY).restore(replaced(RICH, ("version",), version))
    assert info.value.where == "snapshot.version"


def test_every_missing_key_is_refused() -> None:
    """Dropping any key of a fixed-shape object (truncation) raises RuleStateError naming it."""
    paths = list(record_keys(RICH))
    assert len(paths) > 80
    for path in paths:
        with pytest.raises(RuleStateError) as info:
            Evaluator(BUSY).restore(replaced(RICH, path, ...))
        assert info.value.where.endswith(f".{path[-1]}"), path
        assert info.value.reason == "missing"


@pytest.mark.parametrize(
    ("path", "value", "where"),
    [
        (("devices", DEVICES[0], "recent", 0), [1.0, 2.0], "recent[0]"),
        (("devices", DEVICES[0], "rules", "stress", "state"), "paused", ".state"),
        (("devices", DEVICES[0], "rules", "stress", "hold_windows"), -1, ".hold_windows"),
        (("devices", DEVICES[0], "rules", "stress", "fires_s"), ["inf"], ".fires_s[0]"),
        (("devices", DEVICES[0], "last_valid_s"), "NaN", ".last_valid_s"),
        (("devices", DEVICES[0], "last_valid_s"), 10**400, ".last_valid_s"),
        (("devices", DEVICES[0], "pending", 0, "trigger", "exercise", "phases"), [], ".exercise"),
        (("devices",), [], "snapshot.devices"),
    ],
)
def test_wrong_shapes_are_refused(path: tuple[Any, ...], value: object, where: str) -> None:
    """Wrong types, unknown states, bad numbers and invalid exercises name their place."""
    with pytest.raises(RuleStateError) as info:
        Evaluator(BUSY).restore(replaced(RICH, path, value))
    assert info.value.where.endswith(where)
    assert info.value.reason


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_random_json_is_refused(value: Any) -> None:
    """Arbitrary JSON (not even shaped like a snapshot) raises RuleStateError, nothing else."""
    assume(not (isinstance(value, dict) and "version" in value))
    with pytest.raises(RuleStateError):
        Evaluator(BUSY).restore(value)


@settings(max_examples=300, deadline=None)
@given(path=st.sampled_from(list(every_path(RICH))), value=json_values)
def test_random_json_anywhere_in_a_snapshot(path: tuple[Any, ...], value: object) -> None:
    """Any value swapped in anywhere either restores or raises RuleStateError only.

    What restores, the evaluator can run on: a failed restore keeps the old
    state, a successful one can be fed more windows without error.
    """
    evaluator = Evaluator(BUSY)
    evaluator.restore(RICH)
    try:
        evaluator.restore(replaced(RICH, path, value))
    except RuleStateError:
        assert round_trip(evaluator) == RICH
    for device in DEVICES:
        evaluator.feed_many([window(t, 90, device=device) for t in range(600, 800, 5)])


def with_z(w: WindowMetrics) -> WindowMetrics:
    """``w`` with baseline-relative figures that follow its stress (so evidence accumulates)."""
    z = (w.stress - 25.0) / 25.0
    return dataclasses.replace(w, hr_z=z, ln_rmssd_z=-z, baseline_hr_bpm=w.hr_bpm - 5.0 * z - 2.0)


@settings(max_examples=40, deadline=None)
@given(
    device_segments=streams,
    verdicts=st.lists(st.sampled_from(list(FeedbackVerdict)), max_size=4),
    data=st.data(),
)
def test_restart_keeps_evidence_activity_and_feedback(
    device_segments: list[list[tuple[int, float, Quality | None]]],
    verdicts: list[FeedbackVerdict],
    data: st.DataObject,
) -> None:
    """With the CUSUM, the activity detector and feedback in play, a restart changes nothing.

    Feedback answers the first triggers as they come (before or after the
    split); the restored evaluator ends in the same state and emits the same.
    """
    windows = [with_z(w) for w in merged(device_segments)]
    split = data.draw(st.integers(0, len(windows)), label="split")
    config = default_config()

    def run(evaluator: Evaluator, part: list[WindowMetrics], answered: list[str]) -> Step:
        step = Step()
        for w in part:
            got = evaluator.feed(w)
            step += got
            for trigger in got.triggers:
                if len(answered) < len(verdicts):
                    fb = Feedback(
                        trigger_id=trigger.id, verdict=verdicts[len(answered)], t_s=trigger.t_s
                    )
                    assert evaluator.feedback(trigger.device, fb).accepted
                    answered.append(trigger.id)
        return step

    whole = Evaluator(config)
    expected = run(whole, windows, [])
    before = Evaluator(config)
    answered: list[str] = []
    head = run(before, windows[:split], answered)
    after = restored(config, round_trip(before))
    assert round_trip(after) == round_trip(before)
    got = head + run(after, windows[split:], answered)
    assert got.triggers == expected.triggers
    assert got.transitions == expected.transitions
    assert round_trip(after) == round_trip(whole)


def test_version_1_snapshot_is_still_read() -> None:
    """A snapshot written before evidence and feedback (version 1) restores, new state at rest."""
    old = copy.deepcopy(RICH)
    old["version"] = 1
    for device in old["devices"].values():
        for key in (
            "activity",
            "snooze_until_s",
            "issued",
            "feedback",
            "feedback_counts",
            "raise_activity",
            "reference",
        ):
            del device[key]
        for rule in device["rules"].values():
            for key in ("cusum", "raise_level", "raise_evidence"):
                del rule[key]
    evaluator = restored(BUSY, old)
    again = round_trip(evaluator)
    assert again["version"] == 5
    device = again["devices"][DEVICES[0]]
    assert device["issued"] == []
    assert device["rules"]["stress"]["raise_level"] == [0.0, "-inf"]
    assert (
        device["rules"]["stress"]["state"]
        == RICH["devices"][DEVICES[0]]["rules"]["stress"]["state"]
    )


def test_version_2_snapshot_is_still_read() -> None:
    """A snapshot written before the personal reference (version 2) restores; the reference
    is learnt afresh and no "did exercise" raise is in force."""
    old = copy.deepcopy(RICH)
    old["version"] = 2
    for device in old["devices"].values():
        del device["raise_activity"], device["reference"]
    again = round_trip(restored(BUSY, old))
    device = again["devices"][DEVICES[0]]
    assert device["raise_activity"] == [0.0, "-inf"]
    assert device["reference"]["hr_bpm"] == "nan"
    assert device["issued"] == RICH["devices"][DEVICES[0]]["issued"]


def test_version_3_snapshot_is_still_read() -> None:
    """A snapshot written before the activity detector's settling clock and resting LF
    (version 3) restores; both start unset and the rest comes back as it was."""
    old = copy.deepcopy(RICH)
    old["version"] = 3
    for device in old["devices"].values():
        for key in ("fast_s", "rest_ln_lf", "lf_t_s", *BREATHING_KEYS):
            del device["activity"][key]
    again = round_trip(restored(BUSY, old))
    activity = again["devices"][DEVICES[0]]["activity"]
    assert (activity["fast_s"], activity["rest_ln_lf"], activity["lf_t_s"]) == ("nan",) * 3
    assert activity["recent_hr"] == RICH["devices"][DEVICES[0]]["activity"]["recent_hr"]


BREATHING_KEYS = ("rest_breath_hz", "breath_t_s", "above_s", "breath_fast", "breath_calm")


def test_version_4_snapshot_is_still_read() -> None:
    """A snapshot written before the activity detector's resting breathing and excursion
    (version 4) restores; they start unset (no excursion judged) and the rest comes back."""
    old = copy.deepcopy(RICH)
    old["version"] = 4
    for device in old["devices"].values():
        for key in BREATHING_KEYS:
            del device["activity"][key]
    again = round_trip(restored(BUSY, old))
    activity = again["devices"][DEVICES[0]]["activity"]
    got = tuple(activity[key] for key in BREATHING_KEYS)
    assert got == ("nan", "nan", "nan", False, False)
    assert activity["rest_ln_lf"] == RICH["devices"][DEVICES[0]]["activity"]["rest_ln_lf"]


def test_breathing_state_survives_a_restart() -> None:
    """The resting breathing and the running excursion's breathing verdict come back as
    they were, so a restart mid-walk neither forgets the walk nor judges it afresh."""
    evaluator = Evaluator(BUSY)
    rest = [dataclasses.replace(window(t, 20), breathing_hz=0.25) for t in range(0, 600, 5)]
    walk = [
        dataclasses.replace(window(t, 20, hr_bpm=95.0), breathing_hz=0.4)
        for t in range(600, 700, 5)
    ]
    evaluator.feed_many(rest + walk)
    data = round_trip(evaluator)
    activity = data["devices"][DEVICES[0]]["activity"]
    assert activity["rest_breath_hz"] == pytest.approx(0.25)
    assert activity["breath_fast"] is True
    assert round_trip(restored(BUSY, data))["devices"][DEVICES[0]]["activity"] == activity


def test_reference_survives_a_restart() -> None:
    """The personal reference (level, waking rest, clocks) comes back as it was."""
    evaluator = Evaluator(BUSY)
    evaluator.feed_many([window(t, 20) for t in range(0, 600, 5)])
    data = round_trip(evaluator)
    reference = data["devices"][DEVICES[0]]["reference"]
    assert reference["hr_bpm"] != "nan"
    assert round_trip(restored(BUSY, data))["devices"][DEVICES[0]]["reference"] == reference
