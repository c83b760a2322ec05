"""A simulated session for the storage tests: beats, windows, triggers, outcomes, device status.

Beats come from `simulators` (the demo scenario). Windows are computed here
with plain numpy (60 s windows every 5 s) until `hrv.sliding_windows`
lands: the storage tests need realistic, varied figures, not reference HRV.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from hrv import BeatBatch, Quality, WindowMetrics
from recommender import BOX, Outcome, Severity, Trigger, Verdict, trigger_id
from simulators import load_scenario, simulate

WINDOW_S = 60.0
STEP_S = 5.0


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceStatus:
    """A wearable's status reading, the shape `vagus.influx.device_status_line` takes."""

    device: str
    t_s: float
    battery_pct: int | None
    contact: bool | None
    connected: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Session:
    """Everything one simulated device produced."""

    beats: BeatBatch
    windows: list[WindowMetrics]
    triggers: list[Trigger]
    outcomes: list[Outcome]
    statuses: list[DeviceStatus]


def recent_start_s(minutes_ago: float = 30.0) -> float:
    """A whole-second start time ``minutes_ago`` before now (within every retention period)."""
    return float(math.floor(time.time() - 60.0 * minutes_ago))


def _window(device: str, t_end_s: float, rr_ms: np.ndarray) -> WindowMetrics:
    n = int(rr_ms.size)
    if n < 30:
        nan = float("nan")
        return WindowMetrics(
            device=device, t_end_s=t_end_s, n_beats=n, mean_rr_ms=nan, hr_bpm=nan,
            rmssd_ms=nan, ln_rmssd=nan, sdnn_ms=nan, pnn50_pct=nan, sd1_ms=nan, sd2_ms=nan,
            stress_index=nan, stress=nan, artifact_pct=nan, quality=Quality.TOO_FEW_BEATS,
        )  # fmt: skip
    diffs = np.diff(rr_ms)
    rmssd = float(np.sqrt(np.mean(diffs**2)))
    sdnn = float(np.std(rr_ms, ddof=1))
    sd1 = rmssd / math.sqrt(2.0)
    stress_index = 1e5 / (2.0 * float(np.mean(rr_ms)) * max(sdnn, 1.0) * 3.0)
    return WindowMetrics(
        device=device,
        t_end_s=t_end_s,
        n_beats=n,
        mean_rr_ms=float(np.mean(rr_ms)),
        hr_bpm=60_000.0 / float(np.mean(rr_ms)),
        rmssd_ms=rmssd,
        ln_rmssd=math.log(rmssd),
        sdnn_ms=sdnn,
        pnn50_pct=100.0 * float(np.mean(np.abs(diffs) > 50.0)),
        sd1_ms=sd1,
        sd2_ms=math.sqrt(max(2.0 * sdnn**2 - sd1**2, 0.0)),
        stress_index=stress_index,
        stress=float(np.clip(200.0 - 48.0 * math.log(rmssd), 0.0, 100.0)),
        artifact_pct=float(100.0 * np.mean(np.abs(diffs) > 200.0)),
        quality=Quality.OK,
        baseline_ln_rmssd=3.6,
        baseline_hr_bpm=66.0,
        ln_rmssd_z=(math.log(rmssd) - 3.6) / 0.3,
        hr_z=(60_000.0 / float(np.mean(rr_ms)) - 66.0) / 5.0,
    )


def simulated_session(device: str, *, start_t_s: float, minutes: float = 14.0) -> Session:
    """The demo scenario's first ``minutes`` for ``device``, with beat times from ``start_t_s``."""
    sim = simulate(load_scenario("demo"), seed=7, until_s=60.0 * minutes)
    beats = sim.batch(device, start_t_s=start_t_s)
    windows = [
        _window(device, t_end, beats.rr_ms[(beats.t_s > t_end - WINDOW_S) & (beats.t_s <= t_end)])
        for t_end in np.arange(start_t_s + STEP_S, beats.t_s[-1], STEP_S).tolist()
    ]
    t_fire = start_t_s + 300.0
    trigger = Trigger(
        id=trigger_id(device, "sustained_stress", t_fire),
        device=device,
        t_s=t_fire,
        rule="sustained_stress",
        exercise=BOX,
        reason={"stress": 78.5, "held_s": 120.0},
        severity=Severity.MODERATE,
    )
    outcome = Outcome(
        trigger_id=trigger.id,
        device=device,
        rule=trigger.rule,
        exercise_id=BOX.id,
        trigger_t_s=t_fire,
        t_s=t_fire + 240.0,
        before_ln_rmssd=2.7,
        after_ln_rmssd=3.1,
        before_hr_bpm=88.0,
        after_hr_bpm=79.5,
        n_before=24,
        n_after=24,
        verdict=Verdict.IMPROVED,
    )
    statuses = [
        DeviceStatus(
            device=device,
            t_s=start_t_s + 60.0 * k,
            battery_pct=87 - k // 5,
            contact=k != 6,
            connected=True,
        )
        for k in range(int(minutes))
    ]
    return Session(
        beats=beats, windows=windows, triggers=[trigger], outcomes=[outcome], statuses=statuses
    )
