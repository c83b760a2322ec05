"""The engine's spectral pieces for one stretch of beats, and the peaks the biofeedback reads.

The tachogram, the periodogram and HeartMath's coherence ratio are the
engine's (`hrv.rr_grid`, `hrv.rr_spectrum`, `hrv.spectral_figures`; method
and sources in ``hrv/_spectral.py`` and docs/hrv.md: cubic Hermite curve
through the beats on the 4 Hz lattice, linear detrend, Hann periodogram).
Added here: the grid's sample times, and a peak's frequency and power (the
power within ±0.015 Hz of the highest bin of a band, the coherence peak's
width; McCraty et al. 2009, "The coherent heart", Integral Review
5(2):10-115).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hrv import GRID_HZ, FloatArray, rr_grid, rr_spectrum, spectral_figures

LF_BAND = (0.04, 0.15)
"""Task Force 1996."""
COHERENCE_PEAK_BAND = (0.04, 0.26)
"""Where HeartMath looks for the dominant heart-rhythm peak."""
PEAK_HALF_WIDTH_HZ = 0.015
MIN_BEATS = 5
"""Beats a stretch needs at or before its end (`hrv.rr_grid`)."""


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Stretch:
    """A stretch of beats on the 4 Hz lattice: sample times, RR there, and its spectrum."""

    t_s: FloatArray
    rr_ms: FloatArray
    freqs_hz: FloatArray
    psd: FloatArray

    def coherence(self) -> float:
        """HeartMath's coherence ratio of the stretch (`hrv.spectral_figures`)."""
        return float(spectral_figures(self.rr_ms).coherence[0])


def stretch(t_s: FloatArray, rr_ms: FloatArray, start_s: float, end_s: float) -> Stretch | None:
    """The beats' tachogram over ``(start_s, end_s]`` and its spectrum; None with too few beats.

    ``t_s`` are the times RR is placed at (rising); beats after ``end_s`` are not used.
    """
    if int(np.searchsorted(t_s, end_s, side="right")) < MIN_BEATS or end_s - start_s < 2:
        return None
    grid = rr_grid(t_s, rr_ms, end_s, end_s - start_s)
    first = int(np.floor(end_s * GRID_HZ)) - grid.size + 1
    freqs, power = rr_spectrum(grid)
    return Stretch(
        t_s=(first + np.arange(grid.size)) / GRID_HZ, rr_ms=grid, freqs_hz=freqs, psd=power[0]
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Peak:
    """The highest bin of a band, and the power (ms²) within ±0.015 Hz of it."""

    peak_hz: float
    peak_ms2: float


def peak(freqs: FloatArray, power: FloatArray, band: tuple[float, float]) -> Peak:
    """The highest bin of ``band`` (``lo <= f < hi``) and the power around it."""
    inside = (freqs >= band[0]) & (freqs < band[1])
    peak_hz = float(freqs[inside][np.argmax(power[inside])])
    near = np.abs(freqs - peak_hz) <= PEAK_HALF_WIDTH_HZ * (1 + 1e-9)
    return Peak(peak_hz=peak_hz, peak_ms2=float(power[near].sum() * (freqs[1] - freqs[0])))
