"""Sustained evidence, the activity veto and feedback learning on labelled sessions.

The labelled sessions are short `simulators` scenarios (through the real HRV
engine): a moderate six-minute episode (HR +10 bpm, RMSSD -40 %) that the
level rule alone never fires on, a single 20 s spike, and a lunch-walk-like
bout (HR +36 bpm over 90 s).
"""

from __future__ import annotations

import dataclasses
import json
import math
import random

import pytest

from hrv import WindowMetrics, sliding_windows
from recommender import (
    ActivitySettings,
    CusumState,
    Evaluator,
    Evidence,
    Feedback,
    FeedbackStatus,
    FeedbackVerdict,
    LearningSettings,
    RecommenderConfig,
    cusum_step,
    default_config,
    posterior,
    thompson_rank,
)
from recommender._activity import eased
from simulators import Scenario, State, simulate
from simulators.scenario import Segment
from tests.recommender.windows import window

DEVICE = "strap"
WARM_UP_S = 40 * 60.0  # calm first, so the person has a baseline


def session(*segments: Segment, seed: int = 5) -> list[WindowMetrics]:
    """Windows of 40 calm minutes (HR 66, RMSSD 42 ms) followed by ``segments``."""
    calm = Segment(state=State.CALM, duration_s=WARM_UP_S, hr_bpm=66, rmssd_ms=42)
    scenario = Scenario(name="t", seed=seed, segments=(calm, *segments))
    batch = simulate(scenario).batch(DEVICE)
    return list(sliding_windows(batch.rr_ms, t_s=batch.t_s, gap=batch.gap).records(DEVICE))


def moderate() -> list[WindowMetrics]:
    return session(
        Segment(state=State.STRESS, duration_s=360, ramp_s=45, hr_bpm=76, rmssd_ms=25),
        Segment(state=State.CALM, duration_s=900, ramp_s=90, hr_bpm=66, rmssd_ms=42),
    )


def level_only_config() -> RecommenderConfig:
    config = default_config()
    rule = config.rules[0].model_copy(update={"evidence": None})
    return config.model_copy(update={"rules": (rule,)})


def test_moderate_sustained_episode_fires_within_two_minutes() -> None:
    """HR +10 bpm and RMSSD -40 % for 6 min: the CUSUM fires within 120 s of the onset
    (the score stays under 70), before the level rule alone would."""
    windows = moderate()
    triggers = Evaluator(default_config()).feed_many(windows).triggers
    (trigger,) = triggers
    assert 0 < trigger.t_s - WARM_UP_S <= 120
    assert trigger.reason["evidence_z_min"] >= default_config().rules[0].evidence.h  # type: ignore[union-attr]
    stress = [w.stress for w in windows if WARM_UP_S + 120 <= w.t_end_s < WARM_UP_S + 360]
    assert max(s for s in stress if not math.isnan(s)) < 70
    level_only = Evaluator(level_only_config()).feed_many(windows).triggers
    assert all(t.t_s > trigger.t_s for t in level_only)


def test_single_spike_does_not_fire() -> None:
    """A 20 s surge of +25 bpm (standing up) adds too little evidence to fire."""
    windows = session(
        Segment(state=State.STRESS, duration_s=20, ramp_s=5, hr_bpm=91, rmssd_ms=25),
        Segment(state=State.CALM, duration_s=900, ramp_s=15, hr_bpm=66, rmssd_ms=42),
    )
    assert Evaluator(default_config()).feed_many(windows).triggers == ()


def test_one_outlying_window_adds_at_most_its_clipped_share() -> None:
    """A single window at z = 50 moves the CUSUM by (clip - k) × 5 s only: far below h."""
    evidence = Evidence()
    state = cusum_step(CusumState(), 0.0, 0.0, evidence)
    outlier = window(5.0, 99.0)
    object.__setattr__(outlier, "hr_z", 50.0)
    object.__setattr__(outlier, "ln_rmssd_z", -50.0)
    state = cusum_step(state, evidence.statistic(outlier), 5.0, evidence)
    assert state.s_z_min == pytest.approx((evidence.clip - evidence.k) * 5.0 / 60.0)
    assert state.s_z_min < evidence.h


def test_lunch_walk_does_not_fire() -> None:
    """A 30 min walk (HR 66 -> 102 bpm over 90 s, RMSSD 14 ms) and its recovery fire nothing;
    the transitions name the activity veto."""
    windows = session(
        Segment(state=State.EXERCISE, duration_s=1800, ramp_s=90, hr_bpm=102, rmssd_ms=14),
        Segment(state=State.CALM, duration_s=1200, ramp_s=180, hr_bpm=70, rmssd_ms=36),
    )
    step = Evaluator(default_config()).feed_many(windows)
    assert step.triggers == ()
    assert any(t.cause.startswith("activity") for t in step.transitions)


def test_episode_after_a_run_fires_within_two_minutes() -> None:
    """A 30 min run (+60 bpm) leaves the engine's hour-long baseline far above rest; the
    rules' own reference is held out of the run, so a moderate episode 20 min later still
    fires within 120 s of its onset, and nothing fires during the run or its recovery."""
    run_end_s = WARM_UP_S + 1800 + 1200
    windows = session(
        Segment(state=State.EXERCISE, duration_s=1800, ramp_s=90, hr_bpm=126, rmssd_ms=8),
        Segment(state=State.CALM, duration_s=1200, ramp_s=180, hr_bpm=66, rmssd_ms=42),
        Segment(state=State.STRESS, duration_s=360, ramp_s=45, hr_bpm=76, rmssd_ms=25),
        Segment(state=State.CALM, duration_s=600, ramp_s=90, hr_bpm=66, rmssd_ms=42),
    )
    evaluator = Evaluator(default_config())
    (trigger,) = evaluator.feed_many(windows).triggers
    assert 0 < trigger.t_s - run_end_s <= 120
    onset = next(w for w in windows if w.t_end_s >= run_end_s)
    assert onset.baseline_hr_bpm > 70  # the engine's baseline still carries the run
    assert evaluator.explain(DEVICE)["reference"]["hr_bpm"] == pytest.approx(66, abs=2)


def test_did_exercise_eases_the_activity_veto_and_decays() -> None:
    """ "did exercise" raises the person's activity raise (not the stress thresholds): the
    detector's coupling limits grow and heart-rate limits shrink; explain shows it."""
    evaluator, trigger_id = fired_evaluator()
    t_s = WARM_UP_S + 600
    result = evaluator.feedback(
        DEVICE, Feedback(trigger_id=trigger_id, verdict=FeedbackVerdict.DID_EXERCISE, t_s=t_s)
    )
    assert result.accepted
    assert set(result.changes) == {"activity"}
    now = evaluator.explain(DEVICE, t_s=t_s)
    assert now["raise_activity"] == pytest.approx(LearningSettings().false_alarm_step)
    assert now["rules"]["sustained-stress"]["raise_level"] == 0.0
    later = evaluator.explain(DEVICE, t_s=t_s + 14 * 86400)
    assert later["raise_activity"] == pytest.approx(now["raise_activity"] / 2)
    base = ActivitySettings()
    loose = eased(base, 0.3)
    assert loose.max_coupling == pytest.approx(base.max_coupling * 1.3)
    assert loose.excess_bpm == pytest.approx(base.excess_bpm * 0.7)
    assert eased(base, 0.0) is base


def fired_evaluator() -> tuple[Evaluator, str]:
    evaluator = Evaluator(default_config())
    (trigger,) = evaluator.feed_many(moderate()).triggers
    return evaluator, trigger.id


def test_false_alarm_raises_the_fired_paths_and_decays() -> None:
    """A false alarm on an evidence trigger raises that path; explain shows it decaying by
    half over the 14-day half-life, and the same moderate episode no longer fires."""
    evaluator, trigger_id = fired_evaluator()
    t_s = WARM_UP_S + 600
    result = evaluator.feedback(
        DEVICE, Feedback(trigger_id=trigger_id, verdict=FeedbackVerdict.FALSE_ALARM, t_s=t_s)
    )
    assert result.accepted
    raised = result.changes["sustained-stress.evidence"]
    assert raised > 0
    now = evaluator.explain(DEVICE, t_s=t_s)["rules"]["sustained-stress"]
    later = evaluator.explain(DEVICE, t_s=t_s + 14 * 86400)["rules"]["sustained-stress"]
    assert later["raise_evidence"] == pytest.approx(raised / 2)
    assert now["evidence"]["h_z_min"] > default_config().rules[0].evidence.h  # type: ignore[union-attr]
    json.dumps(evaluator.explain(DEVICE), allow_nan=False)
    assert evaluator.explain(DEVICE)["feedback"][0]["verdict"] == "false_alarm"
    # At the full raise (three false alarms) the same episode two hours later stays silent.
    data = evaluator.snapshot()
    rule = data["devices"][DEVICE]["rules"]["sustained-stress"]
    rule["raise_evidence"] = rule["raise_level"] = [1.0, t_s]
    raised_full = Evaluator(default_config())
    raised_full.restore(data)
    shift_s = 7200.0
    later_windows = [dataclasses.replace(w, t_end_s=w.t_end_s + shift_s) for w in moderate()]
    assert raised_full.feed_many(later_windows).triggers == ()


def test_unknown_and_duplicate_feedback_is_refused_and_counted() -> None:
    """An id of no trigger of this device, or a second answer, is refused with a status."""
    evaluator, trigger_id = fired_evaluator()
    unknown = evaluator.feedback(
        DEVICE, Feedback(trigger_id="nope", verdict=FeedbackVerdict.HELPFUL, t_s=1.0)
    )
    other = evaluator.feedback(
        "other", Feedback(trigger_id=trigger_id, verdict=FeedbackVerdict.HELPFUL, t_s=1.0)
    )
    first = evaluator.feedback(
        DEVICE, Feedback(trigger_id=trigger_id, verdict=FeedbackVerdict.HELPFUL, t_s=1.0)
    )
    second = evaluator.feedback(
        DEVICE, Feedback(trigger_id=trigger_id, verdict=FeedbackVerdict.FALSE_ALARM, t_s=2.0)
    )
    assert (unknown.status, other.status) == (FeedbackStatus.UNKNOWN_TRIGGER,) * 2
    assert (first.status, second.status) == (FeedbackStatus.APPLIED, FeedbackStatus.DUPLICATE)
    assert evaluator.feedback_counts(DEVICE) == {
        "unknown_trigger": 1,
        "applied": 1,
        "duplicate": 1,
    }
    assert evaluator.orphan_feedback == 1


def test_not_now_snoozes_for_an_hour() -> None:
    """After "not now", a clear episode 20 min later is suppressed as snoozed."""
    config = default_config().model_copy(update={"min_gap_s": 0.0})
    evaluator = Evaluator(config)
    calm = [window(t, 20.0) for t in range(0, 600, 5)]
    high = [window(t, 90.0) for t in range(600, 700, 5)]
    (trigger,) = evaluator.feed_many(calm + high).triggers
    evaluator.feedback(
        DEVICE.replace("strap", "C0:FF:EE:00:00:01"),
        Feedback(trigger_id=trigger.id, verdict=FeedbackVerdict.NOT_NOW, t_s=trigger.t_s),
    )
    calm2 = [window(t, 20.0) for t in range(700, 1800, 5)]
    high2 = [window(t, 90.0) for t in range(1800, 2000, 5)]
    step = evaluator.feed_many(calm2 + high2)
    assert step.triggers == ()
    assert any(t.cause.startswith("snoozed") for t in step.transitions)


def test_thompson_ranking_is_seeded_and_follows_the_evidence() -> None:
    """The same seed gives the same ranking; an exercise that helped ranks first most often."""
    settings = LearningSettings()
    history = {"box": [0.4, 0.3], "resonance": [-0.1]}
    ladder = ("resonance", "box", "sigh")
    runs = [thompson_rank(ladder, history, random.Random(i), settings) for i in range(200)]
    assert runs[:5] == [
        thompson_rank(ladder, history, random.Random(i), settings) for i in range(5)
    ]
    # P(box first) is about 0.87 under these posteriors; the others still get explored.
    assert 150 <= sum(r[0] == "box" for r in runs) < 200
    mean, sd = posterior([0.4, 0.3], settings)
    assert 0 < mean < 0.35
    assert sd < settings.prior_sd
