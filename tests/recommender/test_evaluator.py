"""The evaluator on hand-made window sequences: firing, hysteresis, quality, limits, outcomes."""

from __future__ import annotations

import datetime as dt

import pytest

from hrv import Quality
from recommender import (
    Evaluator,
    Event,
    LocalTimeRequiredError,
    RuleState,
    Severity,
    Verdict,
    default_config,
    load_config,
    trigger_id,
)
from tests.recommender.windows import episodes, series, window

ONE_RULE = """
[recommender]
min_gap_s = 0

[[rules]]
name = "stress"
enter = ["stress >= 70"]
exit = ["stress < 50"]
hold_s = 30
hold_windows = 3
cooldown_s = 600
max_per_hour = 3
exercises = ["resonance", "box"]
"""


def evaluator(text: str = ONE_RULE) -> Evaluator:
    return Evaluator(load_config(text))


def test_one_trigger_per_episode_and_none_in_calm() -> None:
    """Two 3-minute episodes 20 min apart give one trigger each, 30 s after onset."""
    windows = series(episodes((300, 480), (1500, 1680)), until_s=2400)
    step = evaluator().feed_many(windows)
    assert [t.t_s for t in step.triggers] == [330, 1530]
    assert all(t.rule == "stress" for t in step.triggers)
    assert step.triggers[0].severity is Severity.MODERATE


def test_default_rules_fire_within_two_minutes() -> None:
    """The default set fires once per episode whose stress climbs past 70 in 75 s."""

    def ramp(t_s: float) -> float:
        onset = 600.0
        if onset <= t_s < onset + 240:
            return min(25 + (t_s - onset) * 0.8, 85)
        return 25.0

    step = Evaluator(default_config()).feed_many(series(ramp, until_s=1200))
    (trigger,) = step.triggers
    assert 600 < trigger.t_s <= 720
    assert trigger.exercise.id == "resonance"


def test_trigger_carries_reason_and_exercise() -> None:
    """The trigger says which figures fired it and paces the first exercise of the rule."""
    (trigger,) = evaluator().feed_many(series(episodes((0, 100)), until_s=100)).triggers
    assert trigger.reason["stress"] == 80
    assert trigger.reason["held_s"] == 30
    assert {"hr_bpm", "ln_rmssd"} <= set(trigger.reason)
    assert trigger.exercise.id == "resonance"
    assert trigger.id == trigger_id(trigger.device, "stress", 30)


def test_replay_gives_the_same_ids() -> None:
    """Ids are deterministic: replaying the same windows gives equal triggers."""
    windows = series(episodes((100, 300), (1200, 1400)), until_s=1600)
    first = evaluator().feed_many(windows).triggers
    again = evaluator().feed_many(windows).triggers
    assert [t.id for t in first] == [t.id for t in again]
    assert len({t.id for t in first}) == 2


def test_hysteresis_band_does_not_rearm() -> None:
    """Dropping into the band (50-70) and back never fires twice; only exit re-arms."""

    def stress_at(t_s: float) -> float:
        return 80.0 if (t_s // 60) % 2 == 0 else 60.0

    step = evaluator().feed_many(series(stress_at, until_s=590))
    assert len(step.triggers) == 1


def test_short_burst_does_not_fire() -> None:
    """Stress that does not hold for 30 s and 3 windows fires nothing."""
    step = evaluator().feed_many(series(episodes((100, 125)), until_s=400))
    assert step.triggers == ()


def test_band_keeps_hold_running() -> None:
    """Inside the hysteresis band a hold keeps its start (it neither counts nor resets)."""
    ev = evaluator()
    ev.feed_many([window(0, 80), window(10, 60), window(20, 60)])
    assert ev.state("C0:FF:EE:00:00:01", "stress") is RuleState.HOLDING
    step = ev.feed_many([window(30, 80), window(40, 80)])
    assert [t.t_s for t in step.triggers] == [40]


def test_invalid_windows_pause_but_never_fire_or_reset() -> None:
    """Bad windows in a hold neither count nor reset it; a high invalid window never fires."""
    ev = evaluator()
    ev.feed_many([window(0, 80), window(10, 80)])
    bad = [window(t, 95, quality=Quality.ARTIFACTS) for t in range(20, 80, 10)]
    step = ev.feed_many(bad)
    assert step.triggers == ()
    assert ev.state("C0:FF:EE:00:00:01", "stress") is RuleState.HOLDING
    (trigger,) = ev.feed(window(80, 80)).triggers
    assert trigger.reason["held_s"] == 80


def test_long_invalid_stretch_drops_hold_explicitly() -> None:
    """After max_invalid_s without a valid window the hold is dropped with a STALE transition."""
    ev = evaluator()
    ev.feed_many([window(0, 80), window(10, 80)])
    gap = ev.feed_many([window(t, 80, quality=Quality.GAP) for t in range(20, 200, 10)])
    stale = [tr for tr in gap.transitions if tr.event is Event.STALE]
    assert [(tr.t_s, tr.new) for tr in stale] == [(140, RuleState.IDLE)]
    assert "130 s" in stale[0].cause
    step = ev.feed(window(200, 80))
    assert ev.state("C0:FF:EE:00:00:01", "stress") is RuleState.HOLDING
    assert step.triggers == ()


def test_persistent_stress_fires_once() -> None:
    """Stress that never reaches the exit threshold gives one trigger (one episode)."""
    step = evaluator().feed_many(series(lambda t: 80.0, until_s=3000))
    assert [t.t_s for t in step.triggers] == [30]


def test_repeat_after_refires_escalated() -> None:
    """With repeat_after_s, persisting stress fires again, escalated after an unhelpful try."""
    text = ONE_RULE.replace("cooldown_s = 600", "cooldown_s = 600\nrepeat_after_s = 600")
    step = evaluator(text).feed_many(series(lambda t: 80.0, until_s=1300))
    assert [t.t_s for t in step.triggers] == [30, 630, 1230]
    first, second, _ = step.triggers
    assert step.outcomes[0].verdict is Verdict.NO_CHANGE
    assert (first.exercise.id, first.escalation) == ("resonance", 0)
    assert (second.exercise.id, second.escalation) == ("box", 1)
    assert second.exercise.duration_s == pytest.approx(240 * 1.5)
    assert second.severity is Severity.HIGH


def test_exit_must_hold_to_end_an_episode() -> None:
    """A dip below exit shorter than exit_hold_s does not end the episode (no second trigger)."""
    text = ONE_RULE.replace("cooldown_s = 600", "cooldown_s = 0\nexit_hold_s = 90")
    dips = episodes((0, 300), (360, 700), (800, 1000))  # dips of 60 s, then 100 s
    step = evaluator(text).feed_many(series(dips, until_s=1000))
    assert [t.t_s for t in step.triggers] == [30, 830]


def test_unless_vetoes_windows() -> None:
    """A veto condition (physical activity) keeps a rule from firing; NaN never vetoes."""
    text = ONE_RULE.replace(
        "hold_s = 30", 'hold_s = 30\nunless = ["hr_bpm - baseline_hr_bpm >= 30"]'
    )
    walking = [window(t, 90, hr_bpm=105, baseline_hr_bpm=68) for t in range(0, 300, 5)]
    assert evaluator(text).feed_many(walking).triggers == ()
    no_baseline = [window(t, 90, hr_bpm=105) for t in range(0, 300, 5)]
    assert len(evaluator(text).feed_many(no_baseline).triggers) == 1


def test_cooldown_blocks_a_new_episode() -> None:
    """A second episode within the cooldown (600 s) does not fire; after it, it does."""
    windows = series(episodes((0, 100), (300, 400), (700, 800)), until_s=900)
    step = evaluator().feed_many(windows)
    assert [t.t_s for t in step.triggers] == [30, 730]


def test_cap_per_hour() -> None:
    """With no cooldown, max_per_hour still limits triggers, and says so."""
    text = ONE_RULE.replace("cooldown_s = 600", "cooldown_s = 0").replace(
        "max_per_hour = 3", "max_per_hour = 2"
    )
    spans = [(i * 300.0, i * 300.0 + 60) for i in range(12)]
    step = evaluator(text).feed_many(series(episodes(*spans), until_s=3600))
    assert len(step.triggers) == 2
    assert any("cap of 2 per hour" in tr.cause for tr in step.transitions)


def test_device_gap_stops_a_second_rule_in_the_same_episode() -> None:
    """Two rules matching one episode give one trigger (min_gap_s between any two)."""
    text = (ONE_RULE + ONE_RULE.split("[recommender]\nmin_gap_s = 0\n")[1]).replace(
        'name = "stress"', 'name = "other"', 1
    )
    config = load_config(text)
    ev = Evaluator(config.model_copy(update={"min_gap_s": 600}))
    step = ev.feed_many(series(episodes((0, 200)), until_s=300))
    assert len(step.triggers) == 1


def test_devices_are_independent() -> None:
    """One device's episode fires for it alone."""
    ev = evaluator()
    step = ev.feed_many(
        [window(t, 80, device="a") for t in range(0, 60, 10)]
        + [window(t, 20, device="b") for t in range(0, 60, 10)]
    )
    assert [t.device for t in step.triggers] == ["a"]


def test_quiet_hours_suppress_and_need_local_time() -> None:
    """Inside quiet hours nothing fires; without a local time the evaluator refuses."""
    text = ONE_RULE.replace(
        "min_gap_s = 0", 'min_gap_s = 0\nquiet_hours = {start = "22:00", end = "07:00"}'
    )
    windows = series(episodes((0, 100)), until_s=100)
    night = evaluator(text).feed_many(windows, [dt.time(23)] * len(windows))
    assert night.triggers == ()
    assert any(tr.cause.startswith("quiet hours") for tr in night.transitions)
    day = evaluator(text).feed_many(windows, [dt.time(12)] * len(windows))
    assert len(day.triggers) == 1
    with pytest.raises(LocalTimeRequiredError):
        evaluator(text).feed(windows[0])


def test_outcome_compares_before_and_after() -> None:
    """Five minutes after a trigger, an outcome compares means of ln(RMSSD) and HR."""

    def stress_at(t_s: float) -> float:
        return 80.0 if 100 <= t_s < 260 else 25.0

    step = evaluator().feed_many(series(stress_at, until_s=700))
    (trigger,) = step.triggers
    (outcome,) = step.outcomes
    assert outcome.trigger_id == trigger.id
    assert outcome.t_s == trigger.t_s + 300
    assert outcome.verdict is Verdict.IMPROVED
    assert outcome.delta_ln_rmssd > 0.1
    assert outcome.delta_hr_bpm < 0
    assert outcome.n_after == 60


def test_outcome_history_prefers_what_works() -> None:
    """After resonance fails and box helps, the next fresh episode suggests box first."""
    ev = evaluator(ONE_RULE.replace("cooldown_s = 600", "cooldown_s = 400"))
    # Episode 1: stress stays high after the trigger -> resonance judged no change.
    step = ev.feed_many(series(episodes((0, 420)), until_s=500))
    assert [o.verdict for o in step.outcomes] == [Verdict.NO_CHANGE]
    # Episode 2 (after cooldown): escalated to box, which helps.
    step = ev.feed_many([window(t, 80) for t in range(500, 560, 10)])
    (second,) = step.triggers
    assert second.exercise.id == "box"
    step = ev.feed_many([window(t, 20) for t in range(560, 900, 10)])
    assert [o.verdict for o in step.outcomes] == [Verdict.IMPROVED]
    # Episode 3: escalation reset, box now ranks above resonance for this person.
    step = ev.feed_many([window(t, 80) for t in range(1000, 1060, 10)])
    (third,) = step.triggers
    assert (third.exercise.id, third.escalation) == ("box", 0)
