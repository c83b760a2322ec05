"""The one implementation both faces share: beats + window ranges -> `WindowTable` rows.

The batch face calls it once for a whole recording; the stream engine calls
it on the beats still in its ring buffers, for the windows due in a push.
Every figure of a window depends only on that window's beats (exact integer
sums, see `hrv._metrics`), on the device's 4 Hz grid samples, which depend on
the beats around each sample alone (`hrv._spectral`), and on the device's
baseline sums before it, so both faces produce the same bits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from hrv._artifacts import ranges
from hrv._metrics import UNITS_PER_MS, baevsky_stress_index, time_domain, window_counts, window_sums
from hrv._records import BoolArray, FloatArray
from hrv._spectral import (
    GRID_HZ,
    SPECTRAL_FIGURES,
    Spectral,
    grid_size,
    span_tail,
    spectral_figures,
)
from hrv._stress import BaselineRule, BaselineState, stress_score, track_baselines
from hrv._table import WindowTable
from hrv._windows import QUALITY_NAMES, QualityRule

IntArray = NDArray[np.int64]
#: Spectral spans per vectorized pass (their FFT rows stay in cache).
SPANS_PER_PASS = 256


@dataclass(frozen=True, slots=True, kw_only=True)
class Beats:
    """Flat beat columns: time (s), corrected and raw RR (1/1024 ms), gap and artifact flags."""

    t_s: FloatArray
    rr_u: IntArray
    raw_u: IntArray
    gap: BoolArray
    artifact: BoolArray


@dataclass(frozen=True, slots=True, kw_only=True)
class Windows:
    """Windows to compute: device row (sorted, then by time), number, end time, beat range.

    A window's number ``k`` is its end over the step (``t_end_s = k * step_s``).
    ``spectral_lo`` starts the beats of its spectral span (same end, ``spectral_window_s``).
    """

    row: IntArray
    index: IntArray
    t_end_s: FloatArray
    lo: IntArray
    hi: IntArray
    spectral_lo: IntArray


@dataclass(frozen=True, slots=True, kw_only=True)
class Grid:
    """Each device row's 4 Hz grid (`hrv._spectral`), as a ring, and what its spans' ends need.

    Lattice sample ``g`` of row ``r`` is ``values[base[r] + (g & (cap - 1))]``
    (``cap`` a power of two); it holds every sample a window of the row needs
    before its third-last beat, from lattice number ``held_until`` on (the
    samples before it lie before the device's first beat, held at its RR).
    ``slope`` is each flat beat's grid slope where a window's third-last beat
    needs it; ``first`` the flat index of each row's device's first beat
    (lower, when it is gone from the beats).
    """

    values: NDArray[np.float32]
    base: IntArray
    cap: int
    held_until: IntArray
    slope: FloatArray
    first: IntArray


def compute_windows(
    beats: Beats,
    windows: Windows,
    grid: Grid | None,
    *,
    window_s: float,
    spectral_window_s: float,
    step_s: float,
    quality: QualityRule,
    baseline: BaselineRule,
    state: BaselineState,
) -> tuple[WindowTable, BaselineState]:
    """Every metric of ``windows``, and the rows' baseline state after their last window.

    Without a ``grid`` the spectral figures are NaN.
    """
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
    if grid is None:
        spectral = Spectral.empty(lo.size)
    else:
        spectral = _spectral_figures(beats, windows, grid, spectral_window_s, quality)

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
        **{name: getattr(spectral, name) for name in SPECTRAL_FIGURES},
    )
    return table, track.after


def _spectral_figures(
    beats: Beats, windows: Windows, grid: Grid, spectral_window_s: float, quality: QualityRule
) -> Spectral:
    """`hrv._spectral` figures of each window's spectral span, where its beats pass ``quality``.

    Spans need 5 beats of the device up to their end.
    """
    lo, hi = windows.spectral_lo, windows.hi
    n_beats = hi - lo
    artifact_pct = np.zeros(lo.size)
    n_art = window_counts(beats.artifact, lo, hi)
    np.divide(100.0 * n_art, n_beats, out=artifact_pct, where=n_beats > 0)
    code = quality.codes(
        window_s=spectral_window_s,
        n_beats=n_beats,
        n_gaps=window_counts(beats.gap, lo, hi),
        rr_sum_ms=window_sums(beats.raw_u, lo, hi) / float(UNITS_PER_MS),
        artifact_pct=artifact_pct,
    )
    out = Spectral.empty(lo.size)
    use = np.flatnonzero((code == 0) & (hi - grid.first[windows.row] >= 5) & (n_beats >= 5))
    for c in range(0, use.size, SPANS_PER_PASS):
        part = use[c : c + SPANS_PER_PASS]
        got = spectral_figures(_span_series(beats, windows, grid, spectral_window_s, part))
        for name in SPECTRAL_FIGURES:
            getattr(out, name)[part] = getattr(got, name)
    return out


def _span_series(
    beats: Beats, windows: Windows, grid: Grid, spectral_window_s: float, use: IntArray
) -> FloatArray:
    """The 4 Hz series of the spectral spans of windows ``use``, one row each.

    Samples before the span's third-last beat come from the row's grid, the
    rest are the span's own (`hrv._spectral.span_tail`).
    """
    row = windows.row[use]
    n = grid_size(spectral_window_s)
    g_end = np.floor(windows.t_end_s[use] * GRID_HZ).astype(np.int64)
    g = g_end[:, None] + np.arange(1 - n, 1, dtype=np.int64)[None, :]
    series = grid.values[grid.base[row][:, None] + (g & (grid.cap - 1))].astype(np.float64)
    rr_ms = beats.rr_u / float(UNITS_PER_MS)
    held, col = ranges(np.zeros(use.size, np.int64), np.clip(grid.held_until[row] - g[:, 0], 0, n))
    series[held, col] = rr_ms[grid.first[row][held]]
    t_s = beats.t_s
    hi = windows.hi[use]
    # The span's own samples: from the first at or after its third-last beat (g / 4 >= t).
    own_from = np.ceil(t_s[hi - 3] * GRID_HZ).astype(np.int64) - g[:, 0]
    span, col = ranges(np.clip(own_from, 0, n), np.full(use.size, n))
    series[span, col] = span_tail(
        t_s,
        rr_ms,
        grid.slope,
        g[span, col],
        span,
        hi,
        grid.first[row],
    )
    return series
