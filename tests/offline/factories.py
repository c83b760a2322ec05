"""Hand-made sessions for the offline tests: a calm-stress-calm recording with one trigger."""

from __future__ import annotations

import math

import numpy as np

from hrv import BeatBatch, Quality, WindowMetrics
from recommender import BOX, Outcome, Severity, Trigger, Verdict, trigger_id
from vagus.session import DeviceSession


def window(device: str, t_end_s: float, **changes: object) -> WindowMetrics:
    """A plausible window; ``changes`` override any field."""
    values: dict[str, object] = {
        "device": device,
        "t_end_s": t_end_s,
        "n_beats": 71,
        "mean_rr_ms": 845.123456789,
        "hr_bpm": 60000 / 845.123456789,
        "rmssd_ms": 41.2,
        "ln_rmssd": math.log(41.2),
        "sdnn_ms": 55.5,
        "pnn50_pct": 12.5,
        "sd1_ms": 29.1,
        "sd2_ms": 70.3,
        "stress_index": 9.75,
        "stress": 23.0,
        "artifact_pct": 0.0,
        "quality": Quality.OK,
    }
    values.update(changes)
    return WindowMetrics(**values)  # type: ignore[arg-type]


def trigger(device: str, t_s: float, *, rule: str = "sustained_stress") -> Trigger:
    """A trigger suggesting box breathing, with a reason of three figures."""
    return Trigger(
        id=trigger_id(device, rule, t_s),
        device=device,
        t_s=t_s,
        rule=rule,
        exercise=BOX,
        reason={"stress": 81.25, "held_s": 90.0, "ln_rmssd": math.log(17.3)},
        severity=Severity.HIGH,
        escalation=1,
    )


def outcome(of: Trigger, t_s: float, verdict: Verdict = Verdict.IMPROVED) -> Outcome:
    """The outcome of ``of``: ln RMSSD up by 0.6, HR down by 17 bpm."""
    return Outcome(
        trigger_id=of.id,
        device=of.device,
        rule=of.rule,
        exercise_id=of.exercise.id,
        trigger_t_s=of.t_s,
        t_s=t_s,
        before_ln_rmssd=2.5,
        after_ln_rmssd=3.1,
        before_hr_bpm=92.0,
        after_hr_bpm=75.0,
        n_before=36,
        n_after=60,
        verdict=verdict,
    )


def calm_stress_session(device: str = "strap") -> DeviceSession:
    """About 30 minutes: calm, a stress episode from 10 to 18 min, calm; one trigger.

    Windows: 60 s every 5 s; stress is 85 during the episode and 20 outside;
    four windows at 25 min have quality ``gap``.
    """
    rng = np.random.default_rng(7)
    rr_ms = np.round(rng.normal(900.0, 40.0, 2100), 0)
    t_s = np.cumsum(rr_ms) / 1000.0
    episode = (t_s > 600) & (t_s < 1080)
    rr_ms[episode] -= 250.0
    t_s = np.cumsum(rr_ms) / 1000.0
    windows = []
    for end in np.arange(60.0, t_s[-1], 5.0):
        stressed = 600 < end < 1080
        quality = Quality.GAP if 1500 <= end < 1520 else Quality.OK
        windows.append(
            window(device, float(end), stress=85.0 if stressed else 20.0, quality=quality)
        )
    fired = trigger(device, 700.0)
    done = outcome(fired, 1000.0)
    return DeviceSession(
        device=device,
        beats=BeatBatch(device=device, t_s=t_s, rr_ms=rr_ms),
        windows=tuple(windows),
        triggers=(fired,),
        outcomes=(done,),
    )


def same_repr(a: object, b: object) -> bool:
    """Records equal field by field, NaN equal to NaN (their reprs match)."""
    return repr(a) == repr(b)
