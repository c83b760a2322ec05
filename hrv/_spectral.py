"""Frequency-domain HRV: LF, HF, LF/HF, LF peak, total power, coherence, RSA, breathing rate.

Method (Task Force of the ESC and NASPE 1996, *Circulation* 93:1043, §
"Frequency domain methods"; Tarvainen et al. 2014, *Kubios HRV*, Comput
Methods Programs Biomed 113:210, whose defaults are a 4 Hz cubic
interpolation, detrending and a windowed FFT spectrum):

1. **Tachogram.** The corrected RR of each beat, placed at the time of the
   beat that ends it, is interpolated by a piecewise cubic Hermite curve
   through a device's beats and sampled on the 4 Hz lattice (times ``g / 4``
   s, ``g`` an integer; exact in binary). A span ending at ``t_end`` takes
   the ``N = span_s * 4`` lattice samples in ``(t_end - span_s, t_end]``,
   from the beats at or before ``t_end`` only. A beat's slope is the
   derivative of the Lagrange quartic through the 5 beats centred on it
   (`slopes`; a fourth-order accurate derivative on uneven beat times); the
   device's first two beats use its first five, and the last two beats at or
   before ``t_end`` the last five up to it. The curve is held flat before a
   device's first beat and after the last beat at or before ``t_end``. A
   sample depends on the 6 beats around it, unlike Kubios' natural spline,
   so every span of a device reads its samples from one grid of the device,
   interpolated once; only the samples after the third-last beat of a span
   (whose slopes the span's end cuts short) are its own (`span_tail`). Its
   pass band is as flat as the spline's below 0.4 Hz at resting heart rates
   (tested: a 0.25 Hz sinusoid at 75 bpm keeps its power within 1 %), where
   linear interpolation loses about a third.
2. **Detrending**: the least-squares line is removed (Task Force: trends
   must be removed before spectral analysis; Kubios' smoothness priors
   remove mostly the same very-low-frequency part).
3. **Periodogram**: a periodic Hann window, zero-padded to ``NFFT`` (at
   least 1024 points: 0.0039 Hz bins), one-sided PSD in ms²/Hz
   ``2 |X|² / (fs Σw²)`` (the same as ``scipy.signal.periodogram(x, 4,
   "hann", nfft, detrend="linear")``); band powers are the PSD summed over
   the bins ``lo <= f < hi`` times the bin width.

Bands (Task Force 1996): LF 0.04–0.15 Hz, HF 0.15–0.4 Hz; total power is
taken over 0.0033–0.4 Hz (VLF + LF + HF; the ULF below 0.0033 Hz is not
resolvable in minutes). The LF peak is the LF bin of largest power.

**Coherence** (McCraty et al. 2009, *The coherent heart*, Integral Review
5(2):10–115; HeartMath's scoring): the highest bin in 0.04–0.26 Hz is the
peak; peak power is the power within ±0.015 Hz of it (a 0.030 Hz band);
coherence = peak power / (total power over 0.0033–0.4 Hz − peak power).

**RSA amplitude** (peak-to-trough method, Grossman et al. 1990,
Psychophysiology 27:702; what OpenHRV shows per breath): the breath cycle
is taken from the heart-rate oscillation itself, as one period ``1/f_p``
of the coherence peak ``f_p`` (the dominant 0.04–0.26 Hz frequency; with
paced breathing, the breathing rate). The span's instantaneous heart rate
``60000 / RR`` on the 4 Hz grid is cut, back from the span's end, into
consecutive stretches of one period; ``rsa_bpm`` is the mean over the
whole stretches of (max − min) HR. A pure oscillation of amplitude A bpm
gives 2A; beat-to-beat noise adds to it, as it does to a per-breath
peak-to-trough.

**Breathing frequency** ``breathing_hz`` (the respiratory, HF, peak: Kubios
HRV reports it as the HF peak frequency, Tarvainen et al. 2014; Schäfer &
Kratky 2008, Ann Biomed Eng 36:476, estimate the breathing rate from the RSA
peak of the RR spectrum): the bin of largest power in 0.15 Hz to
min(0.6 Hz, half the mean beat rate) of the periodogram (steps 2-3) of the
span's last 60 s (`BREATHING_SPAN_S`; all of a shorter span), padded to 256
points (`BREATHING_NFFT`: 0.0156 Hz bins, the 1/60 s resolution of 60 s). The standard
HF band stops at 0.4 Hz, which is where walking breathing starts (22-30
breaths/min, 0.37-0.5 Hz); the RR series is sampled once a beat, so nothing
above half the mean beat rate can be told from an alias (DeBoer, Karemaker &
Strackee 1984, IEEE Trans Biomed Eng 31:384), hence the bound. 60 s rather
than the whole span: a change of breathing shows about 45 s sooner (on the
simulated population a walk's faster breathing clears a stress episode's
105 s into the bout with 60 s, 150 s with 120 s), at a resolution still far
finer than the 0.1 Hz between calm and walking breathing. NaN where the band is
empty (below 18 bpm).

Everything is elementwise per sample, or a per-row FFT or sum along a
span's own row: a span's figures do not depend on the other spans computed
with it (batch == streaming, bit for bit).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from hrv._records import FloatArray

IntArray = NDArray[np.int64]

GRID_HZ = 4.0
"""Resampling rate of the tachogram (Kubios' default); a power of two: lattice times are exact."""
MIN_NFFT = 1024
LF_BAND = (0.04, 0.15)
HF_BAND = (0.15, 0.4)
TOTAL_BAND = (0.0033, 0.4)
COHERENCE_PEAK_BAND = (0.04, 0.26)
COHERENCE_HALF_WIDTH_HZ = 0.015
BREATHING_BAND = (0.15, 0.6)
"""Where ``breathing_hz`` is looked for (Hz); the top is also held under half the beat rate."""
BREATHING_SPAN_S = 60.0
"""The span's last seconds whose spectrum gives ``breathing_hz``."""
BREATHING_NFFT = 256
"""FFT length of that spectrum: 0.0156 Hz (0.94 breaths/min) bins, about its 1/60 s resolution."""
#: Beats of a slope's stencil on each side of the beat.
HALF_STENCIL = 2
SPECTRAL_FIGURES = (
    "lf_ms2",
    "hf_ms2",
    "lf_hf",
    "lf_peak_hz",
    "total_power_ms2",
    "coherence",
    "rsa_bpm",
    "breathing_hz",
)


def grid_size(span_s: float) -> int:
    """Samples of the 4 Hz tachogram of a span of ``span_s`` seconds."""
    return max(round(span_s * GRID_HZ), 8)


def nfft_for(n: int) -> int:
    """FFT length for ``n`` samples: a power of two, at least `MIN_NFFT`."""
    return max(MIN_NFFT, 1 << (n - 1).bit_length())


@dataclass(frozen=True, slots=True, kw_only=True)
class Spectral:
    """Spectral figures of many spans, one array each (NaN where not computed)."""

    lf_ms2: FloatArray
    hf_ms2: FloatArray
    lf_hf: FloatArray
    lf_peak_hz: FloatArray
    total_power_ms2: FloatArray
    coherence: FloatArray
    rsa_bpm: FloatArray
    breathing_hz: FloatArray

    @staticmethod
    def empty(n: int) -> Spectral:
        """``n`` spans of NaN."""
        return Spectral(**{name: np.full(n, np.nan) for name in SPECTRAL_FIGURES})


def slopes(t_s: FloatArray, rr_ms: FloatArray, at: IntArray, start: IntArray) -> FloatArray:
    """Slope (ms/s) at beats ``at`` of the quartic through the 5 beats from ``start``.

    The derivative of the Lagrange polynomial through beats ``start..start+4``
    (which hold ``at``), evaluated at beat ``at``. Positions and values are
    taken relative to beat ``at``, so a slope depends on those five beats only.
    """
    z = [t_s[start + m] - t_s[at] for m in range(5)]
    dy = [rr_ms[start + m] - rr_ms[at] for m in range(5)]
    e = at - start
    # Lagrange weights, j != e: L_j'(0) = prod_{m not in {j, e}} (-z_m) / prod_{m != j} (z_j - z_m).
    # z_e is 0; the numerator skips it by using -1 there. The j = e term has dy = 0.
    zz = [np.where(e == m, -1.0, z[m]) for m in range(5)]
    out = np.zeros(at.size)
    for j in range(5):
        num = np.ones(at.size)
        den = np.ones(at.size)
        for m in range(5):
            if m != j:
                num = num * -zz[m]
                den = den * (z[j] - z[m])
        out += dy[j] * (num / den)
    return out


def beat_slopes(t_s: FloatArray, rr_ms: FloatArray, at: IntArray, k: IntArray) -> FloatArray:
    """Grid slopes of beats ``at`` (flat), ``k`` their numbers since their device's first beat.

    Centred stencils (``at - 2 .. at + 2``); a device's first two beats use its first
    five. The beats up to ``at + 2`` (at least the device's fifth) must be there.
    """
    return slopes(t_s, rr_ms, at, at - np.minimum(k, HALF_STENCIL))


def hermite(
    x: FloatArray,
    t0: FloatArray,
    t1: FloatArray,
    y0: FloatArray,
    y1: FloatArray,
    m0: FloatArray,
    m1: FloatArray,
) -> FloatArray:
    """Cubic Hermite curve through ``(t0, y0)``, ``(t1, y1)`` with slopes ``m0``, ``m1``, at ``x``.

    ``x`` is clipped to ``[t0, t1]``, so the curve is held flat outside.
    """
    h = t1 - t0
    s = np.clip((x - t0) / h, 0.0, 1.0)
    s2 = s * s
    s3 = s2 * s
    out: FloatArray = (
        (2.0 * s3 - 3.0 * s2 + 1.0) * y0
        + (s3 - 2.0 * s2 + s) * h * m0
        + (-2.0 * s3 + 3.0 * s2) * y1
        + (s3 - s2) * h * m1
    )
    return out


def grid_samples(
    t_s: FloatArray,
    rr_ms: FloatArray,
    slope: FloatArray,
    g: IntArray,
    left: IntArray,
    first: IntArray,
) -> FloatArray:
    """A device grid's samples at lattice numbers ``g`` (times ``g / GRID_HZ``).

    ``left`` is the flat index of the last beat at or before each sample
    (``first - 1`` before the device's first beat, flat index ``first``);
    ``slope`` holds `beat_slopes` of ``left`` and ``left + 1``. Samples after a
    span's third-last beat are the span's own (`span_tail`).
    """
    i = np.clip(np.maximum(left, first), 0, t_s.size - 1)  # first, before the first beat
    j = np.minimum(i + 1, t_s.size - 1)
    value = hermite(g / GRID_HZ, t_s[i], t_s[j], rr_ms[i], rr_ms[j], slope[i], slope[j])
    out: FloatArray = np.where(left < first, rr_ms[i], value)
    return out


def span_tail(
    t_s: FloatArray,
    rr_ms: FloatArray,
    slope: FloatArray,
    g: IntArray,
    span: IntArray,
    hi: IntArray,
    first: IntArray,
) -> FloatArray:
    """Samples at lattice numbers ``g`` at or after beat ``hi - 3`` of spans ending before ``hi``.

    ``span`` numbers each sample's span; ``hi`` and ``first`` (the flat index
    of the span's device's first beat) are per span. Beats ``hi - 2`` and
    ``hi - 1`` (the span's last) take the slopes of the quartic through its
    last five beats (from the device's first, if nearer); beat ``hi - 3`` keeps
    its grid slope; after beat ``hi - 1`` the curve is flat. Needs 5 beats of
    the device up to ``hi``.
    """
    start = np.maximum(hi - 5, first)
    m_b = slopes(t_s, rr_ms, hi - 2, start)[span]
    m_c = slopes(t_s, rr_ms, hi - 1, start)[span]
    a, b, c = hi[span] - 3, hi[span] - 2, hi[span] - 1
    x = g / GRID_HZ
    first_part = hermite(x, t_s[a], t_s[b], rr_ms[a], rr_ms[b], slope[a], m_b)
    second_part = hermite(x, t_s[b], t_s[c], rr_ms[b], rr_ms[c], m_b, m_c)
    out: FloatArray = np.where(x < t_s[b], first_part, second_part)
    return out


def rr_grid(t_s: FloatArray, rr_ms: FloatArray, t_end_s: float, span_s: float) -> FloatArray:
    """The 4 Hz RR tachogram (ms) of the span ``(t_end_s - span_s, t_end_s]`` of one device.

    ``t_s``, ``rr_ms``: the device's beats from its first (times rising); beats
    after ``t_end_s`` are not used. Needs 5 beats up to ``t_end_s``. This is the
    series the engine's spectral figures of a window ending at ``t_end_s`` come
    from: the samples before the span's third-last beat are kept to float32
    precision (3e-5 ms at 1000 ms), as the engine stores each device's grid.
    """
    t = np.ascontiguousarray(t_s, dtype=np.float64)
    rr = np.ascontiguousarray(rr_ms, dtype=np.float64)
    hi = int(np.searchsorted(t, t_end_s, side="right"))
    if hi < 5:
        raise ValueError("a span needs 5 beats at or before its end")
    n = grid_size(span_s)
    g = np.arange(n, dtype=np.int64) + (int(np.floor(t_end_s * GRID_HZ)) - n + 1)
    left = np.searchsorted(t[:hi], g / GRID_HZ, side="right") - 1
    own = left >= hi - 3
    slope = np.zeros(hi)
    inner = np.arange(hi - 2, dtype=np.int64)
    slope[inner] = beat_slopes(t, rr, inner, inner)
    first = np.zeros(n, np.int64)
    inner_samples = grid_samples(t, rr, slope, g, np.minimum(left, hi - 4), first)
    out = inner_samples.astype(np.float32).astype(np.float64)
    span = np.zeros(int(own.sum()), np.int64)
    out[own] = span_tail(t, rr, slope, g[own], span, np.array([hi]), first[:1])
    return out


def detrend(series: FloatArray) -> FloatArray:
    """Each row minus its least-squares line (row sums only: rows are independent)."""
    n = series.shape[1]
    centred = np.arange(n, dtype=np.float64) - (n - 1) / 2.0
    mean = series.sum(axis=1) / n
    slope = (series * centred).sum(axis=1) / float((centred * centred).sum())
    out: FloatArray = series - mean[:, None] - slope[:, None] * centred[None, :]
    return out


def hann(n: int) -> FloatArray:
    """Periodic Hann window (scipy's ``get_window("hann", n)``)."""
    return np.asarray(0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n), dtype=np.float64)


def rr_spectrum(
    rr_grid: FloatArray, top_hz: float = HF_BAND[1], nfft: int | None = None
) -> tuple[FloatArray, FloatArray]:
    """Frequencies (Hz) and one-sided Hann periodogram (ms²/Hz) of each detrended row.

    ``rr_grid``: 4 Hz tachograms, one per row (or one 1-D series), zero-padded to
    ``nfft`` (default `nfft_for` their length). Only the bins below ``top_hz``
    (default the top of the HF band, 0.4 Hz) are returned.
    """
    series = np.atleast_2d(np.asarray(rr_grid, dtype=np.float64))
    n = series.shape[1]
    nfft = nfft_for(n) if nfft is None else nfft
    w = hann(n)
    spectrum = np.fft.rfft(detrend(series) * w[None, :], n=nfft, axis=1)
    freqs = np.fft.rfftfreq(nfft, 1.0 / GRID_HZ)
    keep = int(np.searchsorted(freqs, top_hz, side="left"))
    part = spectrum[:, :keep]
    scale = 2.0 / (GRID_HZ * float((w * w).sum()))
    power = (part.real * part.real + part.imag * part.imag) * scale
    power[:, 0] /= 2.0  # one-sided: the DC bin has no negative twin
    return np.asarray(freqs[:keep], dtype=np.float64), power


def _band(freqs: FloatArray, band: tuple[float, float]) -> slice:
    lo = int(np.searchsorted(freqs, band[0], side="left"))
    hi = int(np.searchsorted(freqs, band[1], side="left"))
    return slice(lo, hi)


def breath_cycle_ptp(series: FloatArray, period_samples: FloatArray) -> FloatArray:
    """Mean (max − min) of each row over whole stretches of ``period_samples``, back from its end.

    Stretch ``c`` of a row of ``n`` samples with period ``p`` holds the samples
    ``n - ceil((c + 1) p) .. n - ceil(c p) - 1``; NaN where a row holds no whole period.
    """
    n_rows, n = series.shape
    period = np.maximum(period_samples, 1.0)
    whole = np.floor(n / period).astype(np.int64)
    row = np.repeat(np.arange(n_rows, dtype=np.int64), whole)
    first = np.zeros(n_rows, np.int64)
    np.cumsum(whole[:-1], out=first[1:])
    cycle = np.arange(row.size, dtype=np.int64) - first[row]
    start = row * n + n - np.ceil((cycle + 1) * period[row]).astype(np.int64)
    # reduceat runs from each start to the next: add each row's end (first where one
    # equals the next row's first start), then keep the cycles.
    bounds = np.concatenate([np.arange(1, n_rows + 1, dtype=np.int64) * n, start])
    order = np.argsort(bounds, kind="stable")
    bounds = bounds[order]
    keep = order >= n_rows
    flat = np.concatenate([series.ravel(), [0.0]])
    ptp = np.maximum.reduceat(flat, bounds)[keep] - np.minimum.reduceat(flat, bounds)[keep]
    total = np.bincount(row[order[keep] - n_rows], weights=ptp, minlength=n_rows)
    out = np.full(n_rows, np.nan)
    np.divide(total, whole, out=out, where=whole > 0)
    return out


def breathing_peak(rr_grid: FloatArray) -> FloatArray:
    """``breathing_hz`` of each row of 4 Hz RR tachograms (ms): see the module docs."""
    tail = rr_grid[:, -grid_size(BREATHING_SPAN_S) :]
    freqs, power = rr_spectrum(tail, BREATHING_BAND[1], BREATHING_NFFT)
    top = np.minimum(BREATHING_BAND[1], 500.0 / tail.mean(axis=1))  # half the beat rate (Hz)
    outside = (freqs[None, :] < BREATHING_BAND[0]) | (freqs[None, :] >= top[:, None])
    best = np.argmax(np.where(outside, -1.0, power), axis=1)
    out: FloatArray = np.where(outside.all(axis=1), np.nan, freqs[best])
    return out


def spectral_figures(rr_grid: FloatArray) -> Spectral:
    """Every spectral figure of each row of 4 Hz RR tachograms (ms), see the module docs."""
    grid = np.atleast_2d(np.asarray(rr_grid, dtype=np.float64))
    freqs, power = rr_spectrum(grid)
    df = GRID_HZ / nfft_for(grid.shape[1])
    lf_s, hf_s, tot_s = _band(freqs, LF_BAND), _band(freqs, HF_BAND), _band(freqs, TOTAL_BAND)
    lf = power[:, lf_s].sum(axis=1) * df
    hf = power[:, hf_s].sum(axis=1) * df
    total = power[:, tot_s].sum(axis=1) * df
    lf_peak = freqs[lf_s][np.argmax(power[:, lf_s], axis=1)]
    co_s = _band(freqs, COHERENCE_PEAK_BAND)
    peak_hz = freqs[co_s][np.argmax(power[:, co_s], axis=1)]
    # A relative tolerance keeps bins exactly 0.015 Hz away (up to rounding) inside the band.
    near = np.abs(freqs[None, :] - peak_hz[:, None]) <= COHERENCE_HALF_WIDTH_HZ * (1 + 1e-9)
    near &= (freqs >= TOTAL_BAND[0])[None, :]
    peak = np.where(near, power, 0.0).sum(axis=1) * df
    rest = total - peak
    coherence = np.full(lf.size, np.nan)
    np.divide(peak, rest, out=coherence, where=rest > 0)
    lf_hf = np.full(lf.size, np.nan)
    np.divide(lf, hf, out=lf_hf, where=hf > 0)
    rsa = breath_cycle_ptp(60000.0 / grid, GRID_HZ / peak_hz)
    return Spectral(
        lf_ms2=lf,
        hf_ms2=hf,
        lf_hf=lf_hf,
        lf_peak_hz=np.asarray(lf_peak, dtype=np.float64),
        total_power_ms2=total,
        coherence=coherence,
        rsa_bpm=rsa,
        breathing_hz=breathing_peak(grid),
    )
