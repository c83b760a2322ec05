"""Per-window time-domain, Poincaré and Baevsky metrics from exact integer window sums.

RR intervals are quantized to 1/1024 ms (BLE straps report 1/1024 s, integer
recordings report ms: both are exact in this unit) and clipped to
[200, 3000] ms. Window sums are then exact int64 differences of prefix sums,
so a window's figures do not depend on where a sum started: batch and
streaming agree bit for bit, and 24 h prefix sums lose no precision. Windows
are given as flat index ranges ``[lo, hi)`` into the beat arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from hrv._records import BoolArray, FloatArray

IntArray = NDArray[np.int64]

UNITS_PER_MS = 1024
RR_MIN_MS = 200.0
RR_MAX_MS = 3000.0
_NN50_UNITS = 50 * UNITS_PER_MS
_BIN_UNITS = 50 * UNITS_PER_MS
_SQRT2 = float(np.sqrt(2.0))


def quantize_rr(rr_ms: FloatArray) -> IntArray:
    """RR in ms -> int64 units of 1/1024 ms, clipped to the physiological [200, 3000] ms."""
    clipped = np.clip(rr_ms, RR_MIN_MS, RR_MAX_MS)
    return np.rint(clipped * UNITS_PER_MS).astype(np.int64)


def prefix(values: NDArray[np.int64] | NDArray[np.bool_]) -> IntArray:
    """Exclusive prefix sums: ``out[k] = sum(values[:k])`` (int64, wraps harmlessly)."""
    out = np.zeros(values.size + 1, dtype=np.int64)
    np.cumsum(values, out=out[1:])
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class TimeDomain:
    """Time-domain and Poincaré figures of many windows, one array each."""

    n_beats: IntArray
    mean_rr_ms: FloatArray
    hr_bpm: FloatArray
    rmssd_ms: FloatArray
    ln_rmssd: FloatArray
    sdnn_ms: FloatArray
    pnn50_pct: FloatArray
    sd1_ms: FloatArray
    sd2_ms: FloatArray


def _ratio(num: NDArray[np.number], den: NDArray[np.number], ok: BoolArray) -> FloatArray:
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=ok)
    return out


def time_domain(rr_u: IntArray, lo: IntArray, hi: IntArray) -> TimeDomain:
    """Mean RR, HR, RMSSD, ln RMSSD, SDNN, pNN50, SD1, SD2 of the windows ``rr_u[lo:hi]``.

    Definitions (Task Force of the ESC and NASPE 1996; NeuroKit2 ``hrv_time``):
    mean RR; HR = 60000 / mean RR; SDNN = sample SD (ddof=1) of RR;
    RMSSD = sqrt(mean of squared successive differences); pNN50 = 100 x the
    number of successive differences with |d| > 50 ms divided by the number
    of RR intervals n (NeuroKit2's denominator, ``len(diff) + 1``; hrv-analysis
    divides by n - 1). Poincaré (Brennan et al. 2001, as NeuroKit2
    ``hrv_nonlinear``): SD1 = SD(ddof=1) of (RR_j - RR_j+1)/sqrt 2,
    SD2 = SD(ddof=1) of (RR_j + RR_j+1)/sqrt 2 over the n - 1 successive
    pairs. Figures a window cannot support (too few beats) are NaN.
    """
    n = hi - lo
    m = n - 1
    d = np.diff(rr_u)
    p1 = prefix(rr_u)
    p2 = prefix(rr_u * rr_u)
    pd2 = prefix(d * d)
    pnn = prefix(np.abs(d) > _NN50_UNITS)
    has = n > 0
    first = np.where(has, rr_u[np.minimum(lo, rr_u.size - 1)], 0) if rr_u.size else 0 * lo
    last = np.where(has, rr_u[np.maximum(hi - 1, 0)], 0) if rr_u.size else 0 * lo
    pair_hi = np.maximum(hi - 1, lo)
    s1 = p1[hi] - p1[lo]
    s2 = p2[hi] - p2[lo]
    dd2 = pd2[pair_hi] - pd2[lo]
    nn50 = pnn[pair_hi] - pnn[lo]
    d1 = last - first
    # Pair sums for SD2: sum (RR_j + RR_j+1) and sum (RR_j + RR_j+1)^2, exactly.
    y1 = 2 * s1 - first - last
    y2 = 2 * (2 * s2 - first * first - last * last) - dd2
    var_rr = _ratio((n * s2 - s1 * s1).astype(np.float64), (n * m).astype(np.float64), n > 1)
    var_d = _ratio((m * dd2 - d1 * d1).astype(np.float64), (m * (m - 1)).astype(np.float64), m > 1)
    var_y = _ratio(
        (m * y2 - y1 * y1).astype(np.float64), (2 * m * (m - 1)).astype(np.float64), m > 1
    )
    scale = float(UNITS_PER_MS)
    mean_rr = _ratio(s1.astype(np.float64), n.astype(np.float64), has) / scale
    rmssd = np.sqrt(_ratio(dd2.astype(np.float64), m.astype(np.float64), m > 0)) / scale
    with np.errstate(divide="ignore"):
        ln_rmssd = np.log(rmssd)
    return TimeDomain(
        n_beats=n,
        mean_rr_ms=mean_rr,
        hr_bpm=60000.0 / mean_rr,
        rmssd_ms=rmssd,
        ln_rmssd=ln_rmssd,
        sdnn_ms=np.sqrt(var_rr) / scale,
        pnn50_pct=_ratio(100.0 * nn50, n.astype(np.float64), m > 0),
        sd1_ms=np.sqrt(var_d / 2.0) / scale,
        sd2_ms=np.sqrt(var_y) / scale,
    )


def _range_extreme(values: IntArray, start: IntArray, stop: IntArray, biggest: bool) -> IntArray:
    """Max (or min) of ``values[start:stop]`` per query (non-empty ranges) via a sparse table."""
    pick = np.maximum if biggest else np.minimum
    levels = [values]
    span = int((stop - start).max()) if start.size else 1
    width = 1
    while 2 * width <= span:
        prev = levels[-1]
        levels.append(pick(prev[:-width], prev[width:]))
        width *= 2
    length = stop - start
    k = np.floor(np.log2(np.maximum(length, 1))).astype(np.int64)
    out = np.empty(start.size, np.int64)
    for level in range(len(levels)):
        at = k == level
        if at.any():
            table = levels[level]
            out[at] = pick(table[start[at]], table[stop[at] - (1 << level)])
    return out


def baevsky_stress_index(rr_u: IntArray, lo: IntArray, hi: IntArray) -> FloatArray:
    """Kubios-style stress index sqrt(SI) of each window (NaN below 2 beats or zero range).

    Baevsky's SI = AMo / (2 Mo MxDMn) (Baevsky & Berseneva 2008, as in the
    Kubios HRV user guide): RR histogram in 50 ms bins [50k, 50k + 50);
    Mo = centre of the fullest bin in s (ties: the shortest bin); AMo = that
    bin's share of the window's beats in %; MxDMn = max RR - min RR in s.
    Kubios reports sqrt(SI) to make the scale closer to normal; so does this.
    Histograms come from prefix sums of per-bin counts when windows overlap
    a lot (batch), else from counting each window's beats (stream); min and
    max from a sparse table. Exact integers throughout, so either way gives
    the same figures.
    """
    n = hi - lo
    out = np.full(n.size, np.nan)
    busy = n >= 2
    if not busy.any():
        return out
    lo_b, hi_b = lo[busy], hi[busy]
    first, last = int(lo_b.min()), int(hi_b.max())
    values = rr_u[first:last]
    bins = values // _BIN_UNITS
    b0 = int(bins.min())
    width = int(bins.max()) - b0 + 1
    if int((hi_b - lo_b).sum()) < values.size * width // 4:
        # Few windows per beat (the stream): work on each window's beats directly.
        lengths = hi_b - lo_b
        window = np.repeat(np.arange(lo_b.size, dtype=np.int64), lengths)
        starts = np.zeros(lo_b.size, np.int64)
        np.cumsum(lengths[:-1], out=starts[1:])
        beat = np.arange(window.size, dtype=np.int64) - np.repeat(starts - (lo_b - first), lengths)
        keys = window * width + (bins[beat] - b0)
        hist = np.bincount(keys, minlength=lo_b.size * width).reshape(lo_b.size, width)
        in_windows = values[beat]
        top = np.maximum.reduceat(in_windows, starts)
        bottom = np.minimum.reduceat(in_windows, starts)
    else:
        # Many overlapping windows (batch): per-bin prefix counts and a sparse table.
        counts = np.zeros((values.size + 1, width), np.int32)
        counts[np.arange(1, values.size + 1), bins - b0] = 1
        np.cumsum(counts, axis=0, out=counts)
        hist = counts[hi_b - first] - counts[lo_b - first]
        top = _range_extreme(values, lo_b - first, hi_b - first, biggest=True)
        bottom = _range_extreme(values, lo_b - first, hi_b - first, biggest=False)
    mode_bin = np.argmax(hist, axis=1) + b0
    amo_pct = 100.0 * hist.max(axis=1) / (hi_b - lo_b)
    mo_s = (mode_bin + 0.5) * 0.05
    spread_s = (top - bottom) / (1000.0 * UNITS_PER_MS)
    si = _ratio(amo_pct, 2.0 * mo_s * spread_s, spread_s > 0)
    out[busy] = np.sqrt(si)
    return out


def window_counts(flags: BoolArray, lo: IntArray, hi: IntArray) -> IntArray:
    """How many beats of each window ``[lo, hi)`` have ``flags`` set."""
    p = prefix(flags)
    return p[hi] - p[lo]


def window_sums(values: IntArray, lo: IntArray, hi: IntArray) -> IntArray:
    """Exact sum of ``values`` over each window ``[lo, hi)``."""
    p = prefix(values)
    return p[hi] - p[lo]
