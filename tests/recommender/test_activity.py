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
