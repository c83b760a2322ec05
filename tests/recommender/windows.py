"""Hand-made `WindowMetrics` sequences for the recommender tests."""

from __future__ import annotations

import math
from collections.abc import Callable

from hrv import Quality, WindowMetrics


def window(
    t_s: float,
    stress: float,
    *,
    device: str = "C0:FF:EE:00:00:01",
    quality: Quality = Quality.OK,
    ln_rmssd: float | None = None,
    hr_bpm: float | None = None,
    ln_rmssd_z: float = math.nan,
    baseline_hr_bpm: float = math.nan,
) -> WindowMetrics:
    """A window whose HR rises and ln(RMSSD) falls with ``stress`` unless given."""
    hr = 65.0 + stress * 0.3 if hr_bpm is None else hr_bpm
    ln = 4.0 - stress * 0.015 if ln_rmssd is None else ln_rmssd
    return WindowMetrics(
        device=device,
        t_end_s=t_s,
        n_beats=int(hr),
        mean_rr_ms=60000.0 / hr,
        hr_bpm=hr,
        rmssd_ms=math.exp(ln),
        ln_rmssd=ln,
        sdnn_ms=50.0,
        pnn50_pct=10.0,
        sd1_ms=30.0,
        sd2_ms=60.0,
        stress_index=100.0,
        stress=stress,
        artifact_pct=0.0,
        quality=quality,
        baseline_hr_bpm=baseline_hr_bpm,
        ln_rmssd_z=ln_rmssd_z,
    )


def series(
    stress_at: Callable[[float], float], *, until_s: float, step_s: float = 5.0, **kwargs: object
) -> list[WindowMetrics]:
    """Windows every ``step_s`` seconds from 0 to ``until_s`` with ``stress_at(t)``."""
    count = int(until_s / step_s)
    return [window(i * step_s, stress_at(i * step_s), **kwargs) for i in range(count)]  # type: ignore[arg-type]


def episodes(
    *spans: tuple[float, float], calm: float = 25.0, high: float = 80.0
) -> Callable[[float], float]:
    """Stress ``high`` inside the (start_s, end_s) spans, ``calm`` elsewhere."""

    def stress_at(t_s: float) -> float:
        return high if any(a <= t_s < b for a, b in spans) else calm

    return stress_at
