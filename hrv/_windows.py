"""Which windows exist, which beats each holds, and whether each can be trusted.

A window ending at ``T`` holds the beats with times in ``(T - window_s, T]``.
Window ends are the multiples of ``step_s`` (on the beat-time axis) from the
first beat to the last one, both included: ``T = k * step_s`` for every
integer ``k`` with ``t_first <= k * step_s <= t_last``. The stream engine
emits exactly these ends, each once its beats (and the artifact detector's
lookahead) are in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from hrv._records import FloatArray, Quality

IntArray = NDArray[np.int64]

#: Quality codes in the order `quality_codes` returns them.
QUALITY_ORDER: tuple[Quality, ...] = (
    Quality.OK,
    Quality.TOO_FEW_BEATS,
    Quality.GAP,
    Quality.LOW_COVERAGE,
    Quality.ARTIFACTS,
)
QUALITY_NAMES = np.array([q.value for q in QUALITY_ORDER])


def window_numbers(t_first_s: float, t_last_s: float, step_s: float) -> IntArray:
    """Every ``k`` with ``k * step_s`` in ``[t_first_s, t_last_s]``."""
    k_first = int(np.ceil(t_first_s / step_s))
    k_last = int(np.floor(t_last_s / step_s))
    return np.arange(k_first, k_last + 1, dtype=np.int64)


def window_ends(t_first_s: float, t_last_s: float, step_s: float) -> FloatArray:
    """Every multiple of ``step_s`` in ``[t_first_s, t_last_s]``."""
    return window_numbers(t_first_s, t_last_s, step_s).astype(np.float64) * step_s


def window_bounds(
    t_s: FloatArray, t_end_s: FloatArray, window_s: float
) -> tuple[IntArray, IntArray]:
    """Index range ``[lo, hi)`` of the beats of each window in the sorted times ``t_s``."""
    lo = np.searchsorted(t_s, t_end_s - window_s, side="right").astype(np.int64)
    hi = np.searchsorted(t_s, t_end_s, side="right").astype(np.int64)
    return lo, hi


@dataclass(frozen=True, slots=True, kw_only=True)
class QualityRule:
    """When a window is valid (``Quality.OK``); checked in this order, first failure wins.

    1. ``too_few_beats``: fewer than ``min_beats_per_min`` beats per minute of window
       (30/min: 30 beats in 60 s, 150 in 5 min);
    2. ``gap``: a beat in the window carries the gap flag (data lost before it);
    3. ``low_coverage``: the RR intervals of the window's beats add up to less
       than ``min_coverage`` of the window length (lost beats without a flag);
    4. ``artifacts``: more than ``max_artifact_pct`` of its beats were corrected.
    """

    min_beats_per_min: float = 30.0
    min_coverage: float = 0.9
    max_artifact_pct: float = 10.0

    def codes(
        self,
        *,
        window_s: float,
        n_beats: IntArray,
        n_gaps: IntArray,
        rr_sum_ms: FloatArray,
        artifact_pct: FloatArray,
    ) -> NDArray[np.int8]:
        """Index into `QUALITY_ORDER` of each window's verdict."""
        min_beats = max(3.0, self.min_beats_per_min * window_s / 60.0)
        code = np.zeros(n_beats.size, dtype=np.int8)
        checks = (
            artifact_pct > self.max_artifact_pct,
            rr_sum_ms < self.min_coverage * window_s * 1000.0,
            n_gaps > 0,
            n_beats < min_beats,
        )
        for value, failed in zip((4, 3, 2, 1), checks, strict=True):
            code[failed] = value
        return code
