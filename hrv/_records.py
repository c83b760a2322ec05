"""Records shared by every room: beats in, window metrics out.

Numeric bulk data stays columnar: a `BeatBatch` holds one numpy array per
field, never a list of per-beat objects.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


class Quality(enum.StrEnum):
    """Why a window can (``ok``) or cannot be trusted; invalid windows are still emitted."""

    OK = "ok"
    TOO_FEW_BEATS = "too_few_beats"
    LOW_COVERAGE = "low_coverage"
    ARTIFACTS = "artifacts"
    GAP = "gap"


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class BeatBatch:
    """Beats of one device, oldest first.

    ``t_s`` is each beat's time (seconds since the epoch, or since the start
    of a recording), ``rr_ms`` the interval that ended at that beat, and
    ``gap`` is True where data is missing right before the beat (a lost
    notification, a disconnect, lost skin contact): windows spanning such a
    beat are flagged, never silently merged.
    """

    device: str
    t_s: FloatArray
    rr_ms: FloatArray
    gap: BoolArray = field(default_factory=lambda: np.zeros(0, dtype=np.bool_))

    def __post_init__(self) -> None:
        t_s = np.ascontiguousarray(self.t_s, dtype=np.float64)
        rr_ms = np.ascontiguousarray(self.rr_ms, dtype=np.float64)
        gap = np.ascontiguousarray(self.gap, dtype=np.bool_)
        if gap.size == 0 and t_s.size:
            gap = np.zeros(t_s.size, dtype=np.bool_)
        if not (t_s.ndim == rr_ms.ndim == gap.ndim == 1):
            raise ValueError("BeatBatch arrays must be one-dimensional")
        if not (t_s.size == rr_ms.size == gap.size):
            raise ValueError(
                f"BeatBatch arrays differ in length: t_s={t_s.size}, "
                f"rr_ms={rr_ms.size}, gap={gap.size}"
            )
        if not self.device:
            raise ValueError("BeatBatch.device must not be empty")
        object.__setattr__(self, "t_s", t_s)
        object.__setattr__(self, "rr_ms", rr_ms)
        object.__setattr__(self, "gap", gap)

    def __len__(self) -> int:
        return int(self.t_s.size)


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowMetrics:
    """HRV figures of one sliding window of one device.

    Units are in the names. Figures that a window cannot support are NaN,
    and ``quality`` says why. Baseline fields are NaN until the person has
    a baseline (see ``hrv`` docs). Spectral fields (``lf_ms2`` .. ``breathing_hz``,
    `hrv._spectral`) cover the last ``spectral_window_s`` (default 120 s) up to
    ``t_end_s`` (``breathing_hz`` its last 60 s) and are NaN unless those beats pass the
    quality rule.
    """

    device: str
    t_end_s: float
    n_beats: int
    mean_rr_ms: float
    hr_bpm: float
    rmssd_ms: float
    ln_rmssd: float
    sdnn_ms: float
    pnn50_pct: float
    sd1_ms: float
    sd2_ms: float
    stress_index: float
    stress: float
    artifact_pct: float
    quality: Quality
    baseline_ln_rmssd: float = float("nan")
    baseline_hr_bpm: float = float("nan")
    ln_rmssd_z: float = float("nan")
    hr_z: float = float("nan")
    lf_ms2: float = float("nan")
    hf_ms2: float = float("nan")
    lf_hf: float = float("nan")
    lf_peak_hz: float = float("nan")
    total_power_ms2: float = float("nan")
    coherence: float = float("nan")
    rsa_bpm: float = float("nan")
    breathing_hz: float = float("nan")


WINDOW_FIGURES: tuple[str, ...] = tuple(
    f.name for f in fields(WindowMetrics) if f.name not in ("device", "t_end_s", "quality")
)
"""The numeric fields of `WindowMetrics` (what rules test, storage writes, payloads carry)."""
