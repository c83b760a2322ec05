"""The activity detector on hand-made windows: the settling wait and the LF collapse."""

from __future__ import annotations

import dataclasses
import json
import math

from hrv import WindowMetrics
from recommender import ActivitySettings, Evaluator, default_config
from recommender._activity import ActivityState, ActivityTrack, observe
from recommender._reference import HR_UNIT_BPM, LN_RMSSD_UNIT
from tests.recommender.windows import window

REST_HR = 65.0
REST_LN = math.log(40.0)
REST_LF_MS2 = 400.0


def at(t_s: float, excess_bpm: float, coupling: float, lf_ms2: float) -> WindowMetrics:
    """A window ``excess_bpm`` over a rest of 65 bpm whose ln RMSSD has fallen by
    ``coupling`` times the heart-rate rise (both in the reference's units)."""
    hr_z = excess_bpm / HR_UNIT_BPM
    ln = REST_LN - coupling * hr_z * LN_RMSSD_UNIT
    return dataclasses.replace(
        window(t_s, 50.0, hr_bpm=REST_HR + excess_bpm, ln_rmssd=ln), lf_ms2=lf_ms2
    )


def states(windows: list[WindowMetrics], s: ActivitySettings) -> list[ActivityState]:
    track = ActivityTrack()
    out = []
    for w in windows:
        z = ((w.hr_bpm - REST_HR) / HR_UNIT_BPM, (w.ln_rmssd - REST_LN) / LN_RMSSD_UNIT)
        out.append(observe(track, w, s, baseline_hr_bpm=REST_HR, z=z))
    return out


def climb(coupling: float, lf_after: float = REST_LF_MS2) -> list[WindowMetrics]:
    """Ten rest minutes, a climb of 20 bpm/min to +20 bpm, then level for three minutes
    (LF at ``lf_after`` from the top of the climb on)."""
    rest = [at(t, 0.0, 0.0, REST_LF_MS2) for t in range(0, 600, 5)]
    up = [at(600 + t, 20.0 * t / 60.0, coupling, REST_LF_MS2) for t in range(5, 60, 5)]
    top = [at(660 + t, 20.0, coupling, lf_after) for t in range(0, 180, 5)]
    return rest + up + top


def test_coupling_is_judged_only_after_the_climb_has_settled() -> None:
    """After a fast climb with a walk-like coupling (0.4), the detector keeps waiting
    (rising) for ``settle_s`` once the climb has slowed, then latches active: the window's
    RMSSD lags a fast rise, so coupling right at the top of it is not yet what it will be."""
    s = ActivitySettings()
    windows = climb(0.4)
    got = states(windows, s)
    last_fast = max(
        w.t_end_s
        for w, prev in zip(windows[6:], windows, strict=False)
        if (w.hr_bpm - prev.hr_bpm) * 2.0 >= s.rise_bpm_per_min
    )
    pairs = list(zip(windows, got, strict=True))
    first_active = next(w.t_end_s for w, st in pairs if st is ActivityState.ACTIVE)
    assert first_active >= last_fast + s.settle_s
    between = [st for w, st in pairs if last_fast <= w.t_end_s < first_active]
    assert between
    assert set(between) == {ActivityState.RISING}


def test_a_climb_with_stress_coupling_is_not_held() -> None:
    """The same climb with the coupling of vagal withdrawal (0.9) is neither held nor latched;
    one just under ``undecided_coupling`` (0.58) is held while it climbs."""
    assert set(states(climb(0.9), ActivitySettings())) == {ActivityState.REST}
    assert ActivityState.RISING in states(climb(0.58), ActivitySettings())


def test_lf_collapse_marks_exercise_that_coupling_does_not() -> None:
    """Level at +20 bpm with a stress-like coupling (0.7): rest while the LF (Mayer-wave)
    power stays near the person's resting LF, active once it has fallen by more than
    ``lf_drop`` in ln (exercise), and never from LF alone without the excess."""
    s = ActivitySettings()
    kept = states(climb(0.7, lf_after=REST_LF_MS2 * 0.5), s)
    assert ActivityState.ACTIVE not in kept
    collapsed = states(climb(0.7, lf_after=REST_LF_MS2 * math.exp(-s.lf_drop - 0.5)), s)
    assert collapsed[-1] is ActivityState.ACTIVE
    low_rest = [at(t, 0.0, 0.0, REST_LF_MS2) for t in range(0, 600, 5)]
    low_rest += [at(t, 5.0, 0.7, 5.0) for t in range(600, 900, 5)]
    assert ActivityState.ACTIVE not in states(low_rest, s)


def test_missing_lf_leaves_the_detector_to_coupling() -> None:
    """Without spectral figures (NaN LF) the resting LF stays unknown and nothing latches on it."""
    windows = [dataclasses.replace(w, lf_ms2=math.nan) for w in climb(0.7)]
    track = ActivityTrack()
    for w in windows:
        z = ((w.hr_bpm - REST_HR) / HR_UNIT_BPM, (w.ln_rmssd - REST_LN) / LN_RMSSD_UNIT)
        observe(track, w, ActivitySettings(), baseline_hr_bpm=REST_HR, z=z)
    assert math.isnan(track.rest_ln_lf)
    assert track.state is ActivityState.REST


def test_resting_lf_and_settling_clock_survive_a_restart() -> None:
    """The snapshot carries the resting LF and the last fast climb; a restored evaluator
    continues with the same activity state as one that never stopped."""
    windows = [dataclasses.replace(w, device="strap") for w in climb(0.4)]
    split = 130  # inside the settling wait after the climb
    whole = Evaluator(default_config())
    whole.feed_many(windows)
    first = Evaluator(default_config())
    first.feed_many(windows[:split])
    data = json.loads(json.dumps(first.snapshot(), allow_nan=False))
    activity = data["devices"]["strap"]["activity"]
    assert activity["rest_ln_lf"] == math.log(REST_LF_MS2)
    assert activity["fast_s"] != "nan"
    again = Evaluator(default_config())
    again.restore(data)
    again.feed_many(windows[split:])
    assert again.snapshot() == whole.snapshot()


REST_BREATH_HZ = 0.25


def breathing(
    windows: list[WindowMetrics], breath_hz: float, rest_until_s: float = 600.0
) -> list[WindowMetrics]:
    """``windows`` breathing at rest (0.25 Hz) up to ``rest_until_s``, at ``breath_hz`` after."""
    return [
        dataclasses.replace(
            w, breathing_hz=REST_BREATH_HZ if w.t_end_s < rest_until_s else breath_hz
        )
        for w in windows
    ]


def high_climb(breath_hz: float) -> list[WindowMetrics]:
    """Ten rest minutes, a climb of 20 bpm/min to +34 bpm (over ``excess_bpm``) with the
    coupling of vagal withdrawal (0.8) and LF kept, level for four minutes; breathing at
    ``breath_hz`` from the climb's start (0.3 Hz: a strong stress episode)."""
    rest = [at(t, 0.0, 0.0, REST_LF_MS2) for t in range(0, 600, 5)]
    up = [at(600 + t, 20.0 * t / 60.0, 0.8, REST_LF_MS2) for t in range(5, 102, 5)]
    top = [at(705 + t, 34.0, 0.8, REST_LF_MS2) for t in range(0, 240, 5)]
    return breathing(rest + up + top, breath_hz)


def test_fast_breathing_marks_exercise_that_heart_rate_does_not() -> None:
    """A climb to +20 bpm with the coupling and LF of stress: rest with the breathing of
    stress (0.3 Hz), active as soon as breathing has risen by ``breath_rise_hz`` (0.4 Hz,
    walking), even while heart rate still climbs."""
    s = ActivitySettings()
    assert ActivityState.ACTIVE not in states(breathing(climb(0.8), 0.3), s)
    walk = breathing(climb(0.8), 0.4, rest_until_s=640.0)
    got = states(walk, s)
    first = next(w.t_end_s for w, st in zip(walk, got, strict=True) if st is ActivityState.ACTIVE)
    assert first == next(w.t_end_s for w in walk if w.hr_bpm - REST_HR >= s.coupled_excess_bpm)
    assert first < 660.0  # still climbing


def test_calm_breathing_releases_a_climb_heart_rate_took_for_exercise() -> None:
    """A strong climb past ``excess_bpm`` latches on heart rate alone; with the breathing of
    stress known for ``breath_wait_s`` of the excursion the latch is dropped and not set
    again (rest to the end); with walking breathing, or breathing unknown (NaN: no spectral
    figures), it stays latched."""
    s = ActivitySettings()
    windows = high_climb(0.3)
    got = states(windows, s)
    assert ActivityState.ACTIVE in got
    start = next(w.t_end_s for w in windows if w.hr_bpm - REST_HR >= s.release_bpm)
    after = [st for w, st in zip(windows, got, strict=True) if w.t_end_s >= start + s.breath_wait_s]
    assert set(after) == {ActivityState.REST}
    assert states(high_climb(0.4), s)[-1] is ActivityState.ACTIVE
    unknown = [
        dataclasses.replace(w, breathing_hz=math.nan) if w.t_end_s >= 600 else w for w in windows
    ]
    assert set(states(unknown, s)[-40:]) == {ActivityState.ACTIVE}


STRESS_READ_HZ = 22 / 64  # the engine's spectral bin nearest 0.33 Hz on the scenarios


def test_breathing_between_the_thresholds_decides_nothing() -> None:
    """Stress breathing 0.344 Hz against 0.25 Hz at rest (what the engine reads of the shipped
    scenarios' stress, 0.33 Hz: +5.6 breaths/min, over ``breath_calm_hz`` and under
    ``breath_rise_hz``) on a climb of 20 bpm
    with the coupling and LF of stress: neither exercise by breathing (0.083 Hz was the old
    single threshold, and latched it) nor calm; the heart-rate criteria decide, as with
    breathing unknown."""
    s = ActivitySettings()
    assert s.breath_calm_hz <= STRESS_READ_HZ - REST_BREATH_HZ < s.breath_rise_hz
    between = states(breathing(climb(0.8), STRESS_READ_HZ), s)
    assert ActivityState.ACTIVE not in between
    unknown = [
        dataclasses.replace(w, breathing_hz=math.nan) if w.t_end_s >= 600 else w
        for w in breathing(climb(0.8), STRESS_READ_HZ)
    ]
    assert between == states(unknown, s)
    high = high_climb(STRESS_READ_HZ)
    assert states(high, s)[-1] is ActivityState.ACTIVE  # never called calm: HR's latch stays


def test_a_walk_stays_latched_through_its_recovery_when_breathing_calms() -> None:
    """Walking breathing latches the climb; breathing back at rest while heart rate is still
    raised (the recovery) does not release it."""
    s = ActivitySettings()
    walk = breathing(climb(0.8), 0.4)
    recovery = [
        dataclasses.replace(at(840 + t, 15.0, 0.8, REST_LF_MS2), breathing_hz=REST_BREATH_HZ)
        for t in range(0, 300, 5)
    ]
    assert set(states(walk + recovery, s)[-60:]) == {ActivityState.ACTIVE}


def test_explain_shows_the_resting_breathing_and_the_excursion_verdict() -> None:
    """`Evaluator.explain` gives the person's resting breathing and what the running
    excursion's breathing says (JSON-safe: None before any breathing is known)."""
    evaluator = Evaluator(default_config())
    windows = [dataclasses.replace(w, device="strap") for w in high_climb(0.3)]
    evaluator.feed_many(windows[:100])
    assert evaluator.explain("strap")["breathing"] == {"rest_hz": 0.25, "excursion": "no excursion"}
    evaluator.feed_many(windows[100:])
    assert evaluator.explain("strap")["breathing"]["excursion"] == "calm: not exercise"
    blind = Evaluator(default_config())
    blind.feed_many(climb(0.4))
    json.dumps(blind.explain(climb(0.4)[0].device), allow_nan=False)
    assert blind.explain(climb(0.4)[0].device)["breathing"]["rest_hz"] is None
