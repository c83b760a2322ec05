"""A virtual strap for the ingest tests: true beat times -> (arrival_s, 0x2A37 bytes).

Like a Polar strap it notifies about once per second with every RR completed
since the previous notification (HR only when none completed); arrivals add
a small random transport latency.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ingest.hrm import RR_UNIT_MS, HeartRateMeasurement, encode

START_S = 1_800_000_000.0


def load_rr_ms(path: Path, limit_s: float | None = None) -> np.ndarray:
    """RR of a tests/data recording, rounded to whole 1/1024 s units, cut after ``limit_s``."""
    rr = np.loadtxt(path, skiprows=1, dtype=np.float64)
    rr = np.round(rr / RR_UNIT_MS) * RR_UNIT_MS
    if limit_s is not None:
        rr = rr[np.cumsum(rr) <= limit_s * 1000]
    return rr


@dataclass(frozen=True, slots=True, kw_only=True)
class Replay:
    """A notification sequence with the truth behind it."""

    beat_t_s: np.ndarray
    """True time of every beat (the RR ending at it is ``rr_ms``)."""
    rr_ms: np.ndarray
    notifications: list[tuple[float, bytes]]
    """(arrival_s, payload), in arrival order."""


def strap_replay(
    rr_ms: np.ndarray,
    *,
    period_s: float = 1.0,
    latency_s: tuple[float, float] = (0.005, 0.02),
    seed: int = 7,
    contact: bool | None = True,
    strap_clock_rate: float = 1.0,
) -> Replay:
    """Notifications of a strap reporting ``rr_ms``, starting at `START_S`.

    ``strap_clock_rate`` > 1 is a strap whose clock runs fast: its reported
    milliseconds are shorter than the host's, so true beat times drift.
    """
    rng = np.random.default_rng(seed)
    beat_t_s = START_S + np.cumsum(rr_ms) / 1000.0 / strap_clock_rate
    phase = float(rng.uniform(0, period_s))
    ticks = np.arange(START_S + phase, beat_t_s[-1] + period_s, period_s)
    ends = np.searchsorted(beat_t_s, ticks, side="right")
    starts = np.concatenate([[0], ends[:-1]])
    arrivals = ticks + rng.uniform(*latency_s, size=ticks.size)
    notifications = []
    for arrival, start, end in zip(arrivals, starts, ends, strict=True):
        rr = tuple(float(x) for x in rr_ms[start:end])
        hr = round(60_000 / float(np.mean(rr_ms[max(0, end - 5) : end + 1])))
        payload = encode(HeartRateMeasurement(hr_bpm=hr, sensor_contact=contact, rr_ms=rr))
        notifications.append((float(arrival), payload))
    return Replay(beat_t_s=beat_t_s, rr_ms=rr_ms, notifications=notifications)


def silence(replay: Replay, start_s: float, length_s: float) -> list[tuple[float, bytes]]:
    """``replay``'s notifications minus those arriving in ``[start_s, start_s + length_s)``."""
    t0 = START_S + start_s
    return [(a, p) for a, p in replay.notifications if not t0 <= a < t0 + length_s]
