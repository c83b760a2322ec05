"""The spectral pieces the biofeedback figures share: 4 Hz tachogram, periodogram, coherence.

The method is the engine's (``hrv/_spectral.py`` on its way in; Task Force
of the ESC and NASPE 1996, Circulation 93:1043; Tarvainen et al. 2014,
Kubios HRV, Comput. Methods Programs Biomed. 113:210): RR placed at the
beat that ends it, interpolated on a uniform 4 Hz grid by a cubic (Hermite)
curve, linear trend removed, one-sided Hann periodogram zero-padded to at
least 1024 points (ms²/Hz). Band powers sum the PSD over ``lo <= f < hi`` times
the bin width. The coherence ratio is HeartMath's (McCraty et al. 2009,
"The coherent heart", Integral Review 5(2):10-115): the power within
±0.015 Hz of the highest 0.04-0.26 Hz bin over the rest of the
0.0033-0.4 Hz power. Here it is computed on one stretch at a time with
numpy alone (no scipy import: the daemon loads this package at start); the
engine's vectorised version takes over when it is exported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hrv import FloatArray

FS_HZ = 4.0
"""Resampling rate of the tachogram (Kubios' default)."""
MIN_NFFT = 1024
LF_BAND = (0.04, 0.15)
TOTAL_BAND = (0.0033, 0.4)
COHERENCE_PEAK_BAND = (0.04, 0.26)
COHERENCE_HALF_WIDTH_HZ = 0.015


def tachogram(t_s: FloatArray, rr_ms: FloatArray, start_s: float, end_s: float) -> FloatArray:
    """RR (ms) on the 4 Hz grid ``start_s + k / FS_HZ`` below ``end_s`` (held flat past the beats).

    Cubic Hermite interpolation through the beats, with slopes from
    ``numpy.gradient`` on the uneven beat times (second-order centred
    differences, Fornberg 1988, Math. Comput. 51:699; one-sided at the ends).
    At least 2 beats are needed; fewer give an empty grid.
    """
    n = int(np.floor((end_s - start_s) * FS_HZ))
    if t_s.size < 2 or n < 1:
        return np.zeros(0)
    x = np.clip(start_s + np.arange(n) / FS_HZ, t_s[0], t_s[-1])
    slope = np.gradient(rr_ms, t_s) if t_s.size >= 3 else np.full(t_s.size, 0.0)
    i = np.clip(np.searchsorted(t_s, x, side="right") - 1, 0, t_s.size - 2)
    h = t_s[i + 1] - t_s[i]
    u = (x - t_s[i]) / h
    u2, u3 = u * u, u * u * u
    out: FloatArray = (
        (2 * u3 - 3 * u2 + 1) * rr_ms[i]
        + (u3 - 2 * u2 + u) * h * slope[i]
        + (-2 * u3 + 3 * u2) * rr_ms[i + 1]
        + (u3 - u2) * h * slope[i + 1]
    )
    return out


def psd(series: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Frequencies (Hz) and one-sided Hann periodogram (ms²/Hz) of a 4 Hz series.

    The least-squares line is removed first; the PSD is ``2 |X|² / (fs Σw²)``
    (DC and the Nyquist bin not doubled), zero-padded to a power of two of at
    least `MIN_NFFT`: ``scipy.signal.periodogram(x, 4, "hann", nfft,
    detrend="linear")``, which the tests check it against.
    """
    n = series.size
    nfft = max(MIN_NFFT, 1 << max(n - 1, 1).bit_length())
    k = np.arange(n, dtype=np.float64)
    slope, intercept = np.polyfit(k, series, 1)
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * k / n)  # periodic Hann
    spectrum = np.fft.rfft((series - (slope * k + intercept)) * window, n=nfft)
    power = (spectrum.real**2 + spectrum.imag**2) / (FS_HZ * float((window * window).sum()))
    power[1:] *= 2.0
    power[-1] /= 2.0  # nfft is even: the Nyquist bin has no mirror
    return np.asarray(np.fft.rfftfreq(nfft, 1.0 / FS_HZ), dtype=np.float64), power


def band_power(freqs: FloatArray, power: FloatArray, band: tuple[float, float]) -> float:
    """Power (ms²) over ``band[0] <= f < band[1]``."""
    inside = (freqs >= band[0]) & (freqs < band[1])
    return float(power[inside].sum() * (freqs[1] - freqs[0]))


@dataclass(frozen=True, slots=True, kw_only=True)
class Peak:
    """The dominant heart-rhythm oscillation of a stretch and how much power it holds."""

    peak_hz: float
    peak_ms2: float
    coherence: float


def dominant_peak(
    freqs: FloatArray, power: FloatArray, band: tuple[float, float] = COHERENCE_PEAK_BAND
) -> Peak:
    """The highest bin in ``band``, the power within ±0.015 Hz of it, and the coherence ratio."""
    inside = (freqs >= band[0]) & (freqs < band[1])
    peak_hz = float(freqs[inside][np.argmax(power[inside])])
    near = (np.abs(freqs - peak_hz) <= COHERENCE_HALF_WIDTH_HZ * (1 + 1e-9)) & (
        freqs >= TOTAL_BAND[0]
    )
    peak = float(power[near].sum() * (freqs[1] - freqs[0]))
    rest = band_power(freqs, power, TOTAL_BAND) - peak
    return Peak(peak_hz=peak_hz, peak_ms2=peak, coherence=peak / rest if rest > 0 else np.nan)
