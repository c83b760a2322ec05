"""The batch face: a whole recording in, every sliding window out."""

from __future__ import annotations

import dataclasses

import numpy as np

from hrv._artifacts import correct
from hrv._core import Beats, Grid, Windows, compute_windows
from hrv._metrics import UNITS_PER_MS, quantize_rr
from hrv._records import BoolArray, FloatArray
from hrv._spectral import GRID_HZ, beat_slopes, grid_samples, grid_size
from hrv._stress import Baseline, BaselineRule, BaselineState, from_sums, to_sums
from hrv._table import WindowTable
from hrv._windows import QualityRule, window_bounds, window_numbers
from hrv.errors import InputError

DEFAULT_QUALITY = QualityRule()
DEFAULT_BASELINE = BaselineRule()
#: Spectral span (s): LF needs about 2 minutes (Task Force 1996), see `hrv._spectral`.
DEFAULT_SPECTRAL_WINDOW_S = 120.0


def check_settings(
    window_s: float,
    step_s: float,
    baseline_rule: BaselineRule,
    spectral_window_s: float | None = DEFAULT_SPECTRAL_WINDOW_S,
) -> None:
    """Raise `InputError` unless 0 < window_s <= 300 s, 0 < step_s <= 512 half-lives and
    spectral_window_s is None (no spectral figures) or in [30, 300] s."""
    if not 0.0 < window_s <= 300.0:
        raise InputError("window_s", f"must be in (0, 300] s, got {window_s}")
    if spectral_window_s is not None and not 30.0 <= spectral_window_s <= 300.0:
        raise InputError("spectral_window_s", f"must be in [30, 300] s, got {spectral_window_s}")
    if not 0.0 < step_s <= 512.0 * baseline_rule.half_life_s:
        raise InputError("step_s", f"must be > 0 s and <= 512 baseline half-lives, got {step_s}")


def check_beats(t_s: FloatArray, rr_ms: FloatArray, gap: BoolArray) -> None:
    """Raise `InputError` unless the columns are 1-D, equally long, finite, RR > 0, t rising."""
    if not (t_s.ndim == rr_ms.ndim == gap.ndim == 1 and t_s.size == rr_ms.size == gap.size):
        raise InputError("rr_ms", "t_s, rr_ms and gap must be 1-D arrays of one length")
    if not (np.isfinite(rr_ms).all() and np.isfinite(t_s).all()):
        raise InputError("rr_ms", "RR intervals and beat times must be finite")
    if (rr_ms <= 0).any():
        raise InputError("rr_ms", "RR intervals must be > 0 ms")
    if (np.diff(t_s) <= 0).any():
        raise InputError("t_s", "beat times must rise strictly")


def sliding_windows(
    rr_ms: FloatArray,
    *,
    window_s: float = 60.0,
    step_s: float = 5.0,
    spectral_window_s: float | None = DEFAULT_SPECTRAL_WINDOW_S,
    t_s: FloatArray | None = None,
    gap: BoolArray | None = None,
    baseline: Baseline | None = None,
    correct_artifacts: bool = True,
    quality: QualityRule = DEFAULT_QUALITY,
    baseline_rule: BaselineRule = DEFAULT_BASELINE,
) -> WindowTable:
    """Every window of one recording (ends: multiples of ``step_s`` from first to last beat).

    ``t_s`` defaults to the cumulative RR (s); ``gap`` flags beats with data
    lost before them; ``baseline`` is the person's baseline before the
    recording (default: the population prior). Spectral figures cover the
    last ``spectral_window_s`` up to each window end (None: left NaN, not
    computed). ``correct_artifacts`` runs
    the artifact stage (`hrv.correct_artifacts`) first. The result's ``baselines[0]``
    is the baseline after the last window.
    """
    check_settings(window_s, step_s, baseline_rule, spectral_window_s)
    rr = np.ascontiguousarray(rr_ms, dtype=np.float64)
    t = np.cumsum(rr) / 1000.0 if t_s is None else np.ascontiguousarray(t_s, dtype=np.float64)
    flags = np.zeros(rr.size, np.bool_) if gap is None else np.ascontiguousarray(gap, np.bool_)
    check_beats(t, rr, flags)
    index = window_numbers(float(t[0]), float(t[-1]), step_s) if rr.size else np.zeros(0, np.int64)
    ends = index.astype(np.float64) * step_s
    lo, hi = window_bounds(t, ends, window_s)
    spectral_lo, _ = window_bounds(t, ends, spectral_window_s or window_s)
    raw_u = quantize_rr(rr)
    if correct_artifacts:
        fixed, artifact = correct(rr, flags)
        beats = Beats(t_s=t, rr_u=quantize_rr(fixed), raw_u=raw_u, gap=flags, artifact=artifact)
    else:
        no_flags = np.zeros(rr.size, np.bool_)
        beats = Beats(t_s=t, rr_u=raw_u, raw_u=raw_u, gap=flags, artifact=no_flags)
    sums = np.array(to_sums(baseline or baseline_rule.prior, step_s))[:, None]
    grid = None
    if spectral_window_s is not None:
        grid = recording_grid(t, beats.rr_u / float(UNITS_PER_MS), ends, spectral_window_s)
    table, after = compute_windows(
        beats,
        Windows(
            row=np.zeros(ends.size, np.int64),
            index=index,
            t_end_s=ends,
            lo=lo,
            hi=hi,
            spectral_lo=spectral_lo,
        ),
        grid,
        window_s=window_s,
        spectral_window_s=spectral_window_s or window_s,
        step_s=step_s,
        quality=quality,
        baseline=baseline_rule,
        state=BaselineState.starting(sums, index[:1] if index.size else np.zeros(1, np.int64)),
    )
    weight, ln_sum, hr_sum = after.sums[:, 0]
    final = from_sums(float(weight), float(ln_sum), float(hr_sum), step_s)
    return dataclasses.replace(table, baselines=(final,))


def recording_grid(
    t_s: FloatArray, rr_ms: FloatArray, ends: FloatArray, spectral_window_s: float
) -> Grid:
    """One recording's 4 Hz grid: every sample its windows (ending at ``ends``) read from it.

    Interpolated once for all windows: samples up to the third-last beat, from
    `hrv._spectral.beat_slopes` of every beat but the last two (a window's own
    end is `hrv._spectral.span_tail`).
    """
    n_beats = t_s.size
    slope = np.full(n_beats, np.nan)
    g_start = (
        int(np.floor(ends[0] * GRID_HZ)) - grid_size(spectral_window_s) + 1 if ends.size else 0
    )
    if n_beats:
        g_start = max(g_start, int(np.ceil(t_s[0] * GRID_HZ)))  # held at the first RR before
    g_stop = g_start
    if n_beats >= 5:
        inner = np.arange(n_beats - 2, dtype=np.int64)
        slope[inner] = beat_slopes(t_s, rr_ms, inner, inner)
        g_stop = max(int(np.ceil(t_s[-3] * GRID_HZ)), g_start)
    g = np.arange(g_start, g_stop, dtype=np.int64)
    cap = 1 << max(g.size - 1, 0).bit_length()
    values = np.zeros(cap, np.float32)
    left = np.searchsorted(t_s, g / GRID_HZ, side="right") - 1
    first = np.zeros(1, np.int64)
    values[g & (cap - 1)] = grid_samples(t_s, rr_ms, slope, g, left, np.repeat(first, g.size))
    held_until = np.array([g_start], np.int64)
    return Grid(values=values, base=first, cap=cap, held_until=held_until, slope=slope, first=first)
