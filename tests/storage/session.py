"""A simulated session for the storage tests: beats, windows, triggers, outcomes, device status.

Beats come from `simulators` (the demo scenario), windows from
`hrv.sliding_windows` (60 s every 5 s); the trigger and its outcome are
`recommender` records placed in the stress episode.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from hrv import BeatBatch, WindowMetrics, sliding_windows
from recommender import BOX, Outcome, Severity, Trigger, Verdict, trigger_id
from simulators import load_scenario, simulate


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceStatus:
    """A wearable's status reading, the shape `vagus.influx.device_status_line` takes."""

    device: str
    t_s: float
    battery_pct: int | None
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


def simulated_session(device: str, *, start_t_s: float, minutes: float = 14.0) -> Session:
    """The demo scenario's first ``minutes`` for ``device``, with beat times from ``start_t_s``."""
    sim = simulate(load_scenario("demo"), seed=7, until_s=60.0 * minutes)
    beats = sim.batch(device, start_t_s=start_t_s)
    table = sliding_windows(beats.rr_ms, t_s=beats.t_s, gap=beats.gap, window_s=60.0, step_s=5.0)
    windows = list(table.records(device))
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
            connected=True,
        )
        for k in range(int(minutes))
    ]
    return Session(
        beats=beats, windows=windows, triggers=[trigger], outcomes=[outcome], statuses=statuses
    )
