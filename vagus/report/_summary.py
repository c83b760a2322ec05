"""The figures of a session's summary table, computed from its beats and windows (pure)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from hrv import Quality
from recommender import StressLevel, stress_level
from vagus.session import DeviceSession

STRESS_HIGH = 70.0
"""Where `recommender.stress_level` starts saying ``high`` (drawn as the stress chart's line)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Summary:
    """One device's session in a few figures.

    ``mean_hr_bpm`` is beats per minute over all beats (60000 / mean RR);
    ``median_rmssd_ms`` the median RMSSD of valid windows; ``stress_time_s``
    the valid windows whose `recommender.stress_level` is ``high`` times the
    window step;
    ``start_s`` is when the first beat's interval began (the session's t = 0);
    ``artifact_pct`` the mean of the windows' (finite) artifact percentages.
    """

    device: str
    start_s: float
    duration_s: float
    n_beats: int
    mean_hr_bpm: float
    median_rmssd_ms: float
    n_windows: int
    step_s: float
    windows_by_quality: Mapping[Quality, int]
    stress_time_s: float
    stress_pct: float
    artifact_pct: float
    n_triggers: int
    outcomes_by_verdict: Mapping[str, int]


def window_step_s(t_end_s: np.ndarray) -> float:
    """The windows' step: the median spacing of their end times (NaN with fewer than two)."""
    return float(np.median(np.diff(t_end_s))) if t_end_s.size > 1 else float("nan")


def summarize(session: DeviceSession) -> Summary:
    """The summary figures of one device's session."""
    beats, windows = session.beats, session.windows
    rr_ms = beats.rr_ms
    start_s = float(beats.t_s[0] - rr_ms[0] / 1000.0) if len(beats) else 0.0
    duration_s = float(beats.t_s[-1]) - start_s if len(beats) else 0.0
    ok = np.array([w.quality is Quality.OK for w in windows], dtype=np.bool_)
    rmssd = np.array([w.rmssd_ms for w in windows], dtype=np.float64)
    stress = np.array([w.stress for w in windows], dtype=np.float64)
    artifacts = np.array([w.artifact_pct for w in windows], dtype=np.float64)
    finite = artifacts[np.isfinite(artifacts)]
    step_s = window_step_s(np.array([w.t_end_s for w in windows], dtype=np.float64))
    high = np.array([stress_level(s) is StressLevel.HIGH for s in stress], dtype=np.bool_)
    stressed = int(np.count_nonzero(ok & high))
    counts = Counter(w.quality for w in windows)
    return Summary(
        device=session.device,
        start_s=start_s,
        duration_s=duration_s,
        n_beats=len(beats),
        mean_hr_bpm=60000.0 / float(np.mean(rr_ms)) if len(beats) else float("nan"),
        median_rmssd_ms=float(np.median(rmssd[ok])) if ok.any() else float("nan"),
        n_windows=len(windows),
        step_s=step_s,
        windows_by_quality={quality: counts.get(quality, 0) for quality in Quality},
        stress_time_s=stressed * step_s if stressed else 0.0,
        stress_pct=100.0 * stressed / int(ok.sum()) if ok.any() else float("nan"),
        artifact_pct=float(np.mean(finite)) if finite.size else float("nan"),
        n_triggers=len(session.triggers),
        outcomes_by_verdict=dict(Counter(str(o.verdict) for o in session.outcomes)),
    )
