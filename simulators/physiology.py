"""Beat-by-beat RR model: a continuous RR modulation integrated into beat times.

The instantaneous RR interval is built on a fine time grid as the sum of a
mean level (from the target heart rate), respiratory sinus arrhythmia (RSA,
a sinusoid at the breathing rate), Mayer waves (narrow-band noise near
0.1 Hz) and 1/f-like slow drift, following the spectral model of ECGSYN
(McSharry et al. 2003, "A dynamical model for generating synthetic
electrocardiogram signals", IEEE Trans Biomed Eng 50(3):289-294: a bimodal
spectrum with Gaussian bumps at 0.1 Hz and the respiratory frequency,
synthesised with random phases and an inverse FFT). Beat times come from the
integral pulse frequency modulation model (IPFM; Bayly 1968; Mateo & Laguna
2000, IEEE Trans Biomed Eng 47(8):985-996): a beat fires each time the
integral of the instantaneous rate ``1/RR(t)`` reaches the next integer.

Pure: parameters and a seeded ``numpy.random.Generator`` in, arrays out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from hrv import FloatArray

GRID_HZ = 8.0
"""Sampling rate of the continuous modulation grid (well above 2 x the 0.7 Hz breathing limit)."""
RR_MIN_MS = 300.0
"""Shortest physiological RR interval (200 bpm)."""
RR_MAX_MS = 2000.0
"""Longest physiological RR interval (30 bpm)."""
MAYER_HZ = 0.1
"""Centre of the Mayer-wave bump (McSharry et al. 2003: f1 = 0.1 Hz, c1 = 0.01 Hz)."""
MAYER_WIDTH_HZ = 0.01
DRIFT_BAND_HZ = (0.003, 0.04)
"""Band of the 1/f-like drift: the very-low-frequency band of Task Force 1996."""
BREATHING_JITTER = 0.04
"""Relative standard deviation of breath-to-breath variation of the breathing rate."""
JITTER_MSSD_SHARE = 0.05
"""Share of the target mean squared successive difference given to white beat-timing jitter."""

Respiration = Callable[[FloatArray, np.random.Generator], FloatArray]
"""The breathing part of RR (ms) on the modulation grid, in place of the RSA sinusoid
(`simulators.breathing.PacedBreathing`: paced breathing through a baroreflex resonance)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Physiology:
    """Steady-state targets of a stretch of time (units in the names)."""

    hr_bpm: float
    rmssd_ms: float
    breathing_hz: float
    mayer_ms: float
    drift_ms: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Stretch:
    """Targets in force from ``onset_s`` to ``end_s``, reached over ``ramp_s`` from the last."""

    onset_s: float
    end_s: float
    physiology: Physiology
    ramp_s: float


def _mssd_factor(freq_hz: float | FloatArray, period_s: float) -> FloatArray:
    """Mean squared successive difference, per beat, of a unit-variance oscillation at ``freq_hz``.

    A sinusoid of variance v sampled every T seconds has successive
    differences of mean square ``4 v sin²(π f T)``; averaging over the beat
    interval (IPFM) scales its amplitude by ``sinc(f T)``.
    """
    f = np.asarray(freq_hz, dtype=np.float64)
    return np.asarray(4.0 * np.sinc(f * period_s) ** 2 * np.sin(np.pi * f * period_s) ** 2)


def rsa_amplitude_ms(p: Physiology) -> float:
    """RSA sinusoid amplitude (ms) whose RR series has RMSSD ``p.rmssd_ms`` with the other parts.

    Successive differences of independent parts add in mean square:
    ``MSSD = Σ 4 var_k sin²(π f_k T) sinc²(f_k T) + 6 σ_jitter²`` (a sinusoid
    of amplitude A has variance A²/2; white timing jitter e_n gives RR
    differences e_n − 2e_{n−1} + e_{n−2}). Solved for the RSA amplitude.
    """
    period_s = 60.0 / p.hr_bpm
    target = p.rmssd_ms**2 * (1.0 - JITTER_MSSD_SHARE)
    mayer = p.mayer_ms**2 * float(_mssd_factor(MAYER_HZ, period_s))
    drift = p.drift_ms**2 * float(_mssd_factor(np.sqrt(np.prod(DRIFT_BAND_HZ)), period_s))
    per_variance = float(_mssd_factor(p.breathing_hz, period_s))
    variance = max(target - mayer - drift, 0.0) / per_variance
    return float(np.sqrt(2.0 * variance))


def jitter_ms(p: Physiology) -> float:
    """Standard deviation (ms) of white beat-timing jitter: its share of the MSSD over 6."""
    return float(np.sqrt(JITTER_MSSD_SHARE * p.rmssd_ms**2 / 6.0))


def band_noise(
    n: int, rng: np.random.Generator, weights: FloatArray, freqs: FloatArray
) -> FloatArray:
    """``n`` samples of unit-variance noise with power spectrum ``weights`` over ``freqs``.

    Random phases and an inverse FFT, as in ECGSYN; the FFT may be longer than ``n``.
    """
    phases = rng.uniform(0.0, 2.0 * np.pi, freqs.size)
    spectrum = np.sqrt(weights) * np.exp(1j * phases)
    series = np.fft.irfft(spectrum, 2 * (freqs.size - 1))[:n]
    std = float(series.std())
    return np.asarray(series / std if std > 0 else series, dtype=np.float64)


def _ramped(grid_t: FloatArray, stretches: Sequence[Stretch], values: FloatArray) -> FloatArray:
    """Piecewise-constant ``values`` per stretch, with raised-cosine ramps at each onset."""
    onsets = np.array([s.onset_s for s in stretches])
    ramps = np.array([max(s.ramp_s, 1e-9) for s in stretches])
    idx = np.clip(np.searchsorted(onsets, grid_t, side="right") - 1, 0, len(stretches) - 1)
    previous = values[np.maximum(idx - 1, 0)]
    w = np.clip((grid_t - onsets[idx]) / ramps[idx], 0.0, 1.0)
    w = np.where(idx == 0, 1.0, 0.5 - 0.5 * np.cos(np.pi * w))
    return np.asarray(previous + (values[idx] - previous) * w)


def generate_beats(
    stretches: Sequence[Stretch],
    rng: np.random.Generator,
    *,
    respiration: Respiration | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Beat times (s from 0) and RR intervals (ms) for back-to-back ``stretches``.

    Each beat's RR is the interval that ends at it; the first ends at the
    first beat after t = 0. Vectorized: cost is a few FFTs of the grid.
    ``respiration``, when given, makes the breathing part of RR instead of
    the RSA sinusoid at each stretch's ``breathing_hz``.
    """
    if not stretches:
        return np.zeros(0), np.zeros(0)
    end_s = stretches[-1].end_s
    n = int(np.ceil(end_s * GRID_HZ)) + 1
    grid_t = np.arange(n) / GRID_HZ
    phys = [s.physiology for s in stretches]

    def column(values: Sequence[float]) -> FloatArray:
        return _ramped(grid_t, stretches, np.asarray(values, dtype=np.float64))

    mean_rr = column([60000.0 / p.hr_bpm for p in phys])
    rsa = column([rsa_amplitude_ms(p) for p in phys])
    mayer = column([p.mayer_ms for p in phys])
    drift = column([p.drift_ms for p in phys])
    breathing = column([p.breathing_hz for p in phys])

    n_fft = 1 << max(int(n - 1).bit_length(), 1)  # a power of two: fast FFTs at any length
    freqs = np.asarray(np.fft.rfftfreq(n_fft, 1.0 / GRID_HZ), dtype=np.float64)
    mayer_w = np.exp(-((freqs - MAYER_HZ) ** 2) / (2 * MAYER_WIDTH_HZ**2))
    lo, hi = DRIFT_BAND_HZ
    in_band = (freqs >= lo) & (freqs <= hi)
    drift_w = np.where(in_band, 1.0 / np.maximum(freqs, lo), 0.0)
    if respiration is None:
        breath_w = np.where(freqs <= 0.05, 1.0, 0.0)
        breath_rate = breathing * (1.0 + BREATHING_JITTER * band_noise(n, rng, breath_w, freqs))
        breath_phase = 2.0 * np.pi * np.cumsum(breath_rate) / GRID_HZ + rng.uniform(0, 2 * np.pi)
        breath_part = rsa * np.sin(breath_phase)
    else:
        breath_part = respiration(grid_t, rng)

    rr = (
        mean_rr
        + breath_part
        + mayer * band_noise(n, rng, mayer_w, freqs)
        + drift * band_noise(n, rng, drift_w, freqs)
    )
    rr = np.clip(rr, RR_MIN_MS, RR_MAX_MS)

    # IPFM: beat k fires where the integral of 1/RR(t) reaches k (trapezoid rule).
    rate = 1000.0 / rr
    pulses = np.concatenate(([0.0], np.cumsum((rate[1:] + rate[:-1]) / (2.0 * GRID_HZ))))
    beats = np.interp(np.arange(1.0, np.floor(pulses[-1]) + 1.0), pulses, grid_t)
    sigma = column([jitter_ms(p) for p in phys])
    beats = beats + rng.standard_normal(beats.size) * np.interp(beats, grid_t, sigma) / 1000.0
    beats = np.sort(beats)
    rr_ms = np.diff(beats, prepend=0.0) * 1000.0
    return beats[1:], rr_ms[1:]
