"""The one implementation both faces share: beats + window ranges -> `WindowTable` rows.

The batch face calls it once for a whole recording; the stream engine calls
it on the beats still in its ring buffers, for the windows due in a push.
Every figure of a window depends only on that window's beats (exact integer
sums, see `hrv._metrics`) and on the device's baseline sums before it, so
both faces produce the same bits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from hrv._metrics import UNITS_PER_MS, baevsky_stress_index, time_domain, window_counts, window_sums
from hrv._records import BoolArray, FloatArray
from hrv._stress import BaselineRule, BaselineState, stress_score, track_baselines
from hrv._table import WindowTable
from hrv._windows import QUALITY_NAMES, QualityRule

IntArray = NDArray[np.int64]


@dataclass(frozen=True, slots=True, kw_only=True)
class Beats:
    """Flat beat columns: corrected RR and raw RR (1/1024 ms), gap and artifact flags."""

    rr_u: IntArray
    raw_u: IntArray
    gap: BoolArray
    artifact: BoolArray


@dataclass(frozen=True, slots=True, kw_only=True)
class Windows:
    """Windows to compute: device row (sorted, then by time), number, end time, beat range.

    A window's number ``k`` is its end over the step (``t_end_s = k * step_s``).
    """

    row: IntArray
    index: IntArray
    t_end_s: FloatArray
    lo: IntArray
    hi: IntArray


def compute_windows(
    beats: Beats,
    windows: Windows,
    *,
    window_s: float,
    step_s: float,
    quality: QualityRule,
    baseline: BaselineRule,
    state: BaselineState,
) -> tuple[WindowTable, BaselineState]:
    """Every metric of ``windows``, and the rows' baseline state after their last window."""
    lo, hi = windows.lo, windows.hi
    td = time_domain(beats.rr_u, lo, hi)
    si = baevsky_stress_index(beats.rr_u, lo, hi)
    n_art = window_counts(beats.artifact, lo, hi)
    artifact_pct = np.full(lo.size, np.nan)
    np.divide(100.0 * n_art, td.n_beats, out=artifact_pct, where=td.n_beats > 0)
    code = quality.codes(
        window_s=window_s,
        n_beats=td.n_beats,
        n_gaps=window_counts(beats.gap, lo, hi),
        rr_sum_ms=window_sums(beats.raw_u, lo, hi) / float(UNITS_PER_MS),
        artifact_pct=np.nan_to_num(artifact_pct),
    )
    valid = (code == 0) & np.isfinite(td.ln_rmssd)

    track = track_baselines(
        row=windows.row,
        index=windows.index,
        valid=valid,
        ln_rmssd=td.ln_rmssd,
        hr_bpm=td.hr_bpm,
        state=state,
        decay=baseline.decay(step_s),
    )
    score = stress_score(
        valid=valid,
        ln_rmssd=td.ln_rmssd,
        hr_bpm=td.hr_bpm,
        stress_index=si,
        baseline_ln_rmssd=track.ln_rmssd,
        baseline_hr_bpm=track.hr_bpm,
    )
    table = WindowTable(
        device_idx=windows.row,
        t_end_s=windows.t_end_s,
        n_beats=td.n_beats,
        mean_rr_ms=td.mean_rr_ms,
        hr_bpm=td.hr_bpm,
        rmssd_ms=td.rmssd_ms,
        ln_rmssd=td.ln_rmssd,
        sdnn_ms=td.sdnn_ms,
        pnn50_pct=td.pnn50_pct,
        sd1_ms=td.sd1_ms,
        sd2_ms=td.sd2_ms,
        stress_index=si,
        stress=score.stress,
        artifact_pct=artifact_pct,
        quality=QUALITY_NAMES[code],
        baseline_ln_rmssd=track.ln_rmssd,
        baseline_hr_bpm=track.hr_bpm,
        ln_rmssd_z=score.ln_rmssd_z,
        hr_z=score.hr_z,
    )
    return table, track.after
