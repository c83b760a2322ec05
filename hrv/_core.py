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
from hrv._stress import BaselineRule, stress_score, track_baselines
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
    """Windows to compute: device row (sorted, then by time), end time, beat range."""

    row: IntArray
    t_end_s: FloatArray
    lo: IntArray
    hi: IntArray


@dataclass(frozen=True, slots=True, kw_only=True)
class BaselineSums:
    """Per-device-row running baseline sums (see `hrv._stress`)."""

    weight: FloatArray
    ln_sum: FloatArray
    hr_sum: FloatArray


def compute_windows(
    beats: Beats,
    windows: Windows,
    *,
    window_s: float,
    step_s: float,
    quality: QualityRule,
    baseline: BaselineRule,
    sums: BaselineSums,
) -> tuple[WindowTable, BaselineSums]:
    """Every metric of ``windows``, and the baseline sums after each row's last window."""
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

    # Lay windows out as (device row, k-th window of that row) for the IIR filter.
    n_rows = sums.weight.size
    counts = np.bincount(windows.row, minlength=n_rows)
    first = np.zeros(n_rows, dtype=np.int64)
    np.cumsum(counts[:-1], out=first[1:])
    col = np.arange(lo.size) - first[windows.row]
    width = int(counts.max()) if lo.size else 0

    def grid(values: FloatArray) -> FloatArray:
        out = np.zeros((n_rows, width))
        out[windows.row, col] = values
        return out

    track = track_baselines(
        valid=grid(valid.astype(np.float64)) > 0,
        ln_rmssd=grid(td.ln_rmssd),
        hr_bpm=grid(td.hr_bpm),
        weight=sums.weight,
        ln_sum=sums.ln_sum,
        hr_sum=sums.hr_sum,
        decay=baseline.decay(step_s),
    )
    base_ln = track.ln_rmssd[windows.row, col]
    base_hr = track.hr_bpm[windows.row, col]
    score = stress_score(
        valid=valid,
        ln_rmssd=td.ln_rmssd,
        hr_bpm=td.hr_bpm,
        stress_index=si,
        baseline_ln_rmssd=base_ln,
        baseline_hr_bpm=base_hr,
    )
    seen = counts > 0
    last = np.maximum(counts - 1, 0)
    rows = np.arange(n_rows)
    after = BaselineSums(
        weight=np.where(seen, track.weight[rows, last] if width else 0.0, sums.weight),
        ln_sum=np.where(seen, track.ln_sum[rows, last] if width else 0.0, sums.ln_sum),
        hr_sum=np.where(seen, track.hr_sum[rows, last] if width else 0.0, sums.hr_sum),
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
        baseline_ln_rmssd=base_ln,
        baseline_hr_bpm=base_hr,
        ln_rmssd_z=score.ln_rmssd_z,
        hr_z=score.hr_z,
    )
    return table, after
