"""Paced breathing through a person's baroreflex resonance: RR swings that depend on the rate.

Breathing moves heart rate through two paths. The baroreflex path is a
closed loop with a delay of a few seconds, and so it resonates: breathing at
the person's resonance frequency (adults 4.5-6.5 breaths/min, about 0.1 Hz)
gives the largest RR swing, with heart rate in phase with breathing (0°,
heart rate highest at the end of inhalation) and blood pressure 180° behind
(Vaschillo et al. 2002, "Heart rate variability biofeedback as a method for
assessing baroreflex function", Appl. Psychophysiol. Biofeedback 27:1-27;
Vaschillo et al. 2006, "Characteristics of resonance in heart rate
variability stimulated by biofeedback", ibid. 31:129-142; Lehrer, Vaschillo
& Vaschillo 2000, "Resonant frequency biofeedback training to increase
cardiac variability", ibid. 25:177-191). The loop is modelled as a
second-order band-pass filter with damping ζ around the resonance f0:

    H(f) = 1 / (1 + j Q (f/f0 - f0/f)),   Q = 1 / (2ζ)

gain 1 and phase 0 at f0, heart rate leading below it and lagging above.
The direct path (vagal gating of the sinus node by respiration) adds a swing
of ``direct_ms`` in phase with breathing at every rate. With lung volume
``-cos φ`` (φ the breath phase, inhalation over 0..π), RR is

    RR_breath(t) = Re[(gain_ms H(f) + direct_ms) e^{jφ(t)}]

so at resonance RR is shortest (heart rate highest) at the end of inhalation.

How the person breathes (`Adherence`): following the pacer (the pacer's
phase, restarted at 0 at each paced segment's onset, plus a small wandering
phase error), at their own spontaneous rate whatever the pacer says, or
irregularly (a rate wandering between about 5 and 16 breaths/min). Outside
paced segments everyone breathes at their spontaneous rate.

Pure: parameters and a seeded ``numpy.random.Generator`` in, arrays out.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from hrv import FloatArray
from simulators.physiology import BREATHING_JITTER, GRID_HZ, band_noise

ComplexArray = NDArray[np.complex128]

FOLLOW_PHASE_SD_RAD = 0.25
"""Standard deviation of the slow phase error of a person following the pacer (radians)."""
IRREGULAR_CENTRE_BPM = 9.0
"""Geometric centre of an irregular breather's wandering rate (breaths/min)."""
IRREGULAR_SPREAD = 0.35
"""Standard deviation of the log of an irregular breather's rate (about 5-16 breaths/min)."""
SLOW_BAND_HZ = 0.02
"""Upper edge of the band of the slow noises (phase error, rate wander)."""


class Adherence(enum.StrEnum):
    """How a person breathes while a pacer runs."""

    FOLLOWS = "follows"
    OWN_RATE = "own_rate"
    IRREGULAR = "irregular"


@dataclass(frozen=True, slots=True, kw_only=True)
class Resonance:
    """A person's cardiovascular resonance and the size of their breathing-driven RR swings."""

    rate_bpm: float
    damping: float
    gain_ms: float
    direct_ms: float

    def __post_init__(self) -> None:
        if not 2.0 <= self.rate_bpm <= 12.0:
            raise ValueError(f"Resonance.rate_bpm must be within 2-12, got {self.rate_bpm}")
        if not 0.0 < self.damping < 1.0:
            raise ValueError(f"Resonance.damping must be within (0, 1), got {self.damping}")
        if not (self.gain_ms >= 0 and self.direct_ms >= 0):
            raise ValueError("Resonance.gain_ms and direct_ms must be >= 0")

    def response(self, freq_hz: FloatArray) -> ComplexArray:
        """Complex RR swing (ms; phase vs. breathing) at breathing frequencies ``freq_hz``."""
        ratio = np.maximum(np.asarray(freq_hz, dtype=np.float64), 1e-6) / (self.rate_bpm / 60.0)
        q = 1.0 / (2.0 * self.damping)
        h = 1.0 / (1.0 + 1j * q * (ratio - 1.0 / ratio))
        out = np.asarray(self.gain_ms * h + self.direct_ms, dtype=np.complex128)
        return out

    def amplitude_ms(self, rate_bpm: float) -> float:
        """RR swing amplitude (ms) when breathing steadily at ``rate_bpm``."""
        return float(np.abs(self.response(np.array([rate_bpm / 60.0])))[0])


@dataclass(frozen=True, slots=True, kw_only=True)
class PacerStep:
    """A pacer running at ``rate_bpm`` from ``onset_s`` to ``end_s`` (scenario time)."""

    onset_s: float
    end_s: float
    rate_bpm: float
    adherence: Adherence = Adherence.FOLLOWS


@dataclass(frozen=True, slots=True, kw_only=True)
class PacedBreathing:
    """The breathing part of RR for `simulators.physiology.generate_beats` (``respiration``).

    ``steps`` are the paced stretches in time order; elsewhere the person
    breathes at ``spontaneous_bpm`` with the model's usual breath-to-breath
    jitter.
    """

    resonance: Resonance
    steps: tuple[PacerStep, ...]
    spontaneous_bpm: float = 15.0

    def __call__(self, grid_t: FloatArray, rng: np.random.Generator) -> FloatArray:
        """RR breathing component (ms) on ``grid_t`` (uniform at `GRID_HZ`)."""
        n = grid_t.size
        n_fft = 1 << max(int(n - 1).bit_length(), 1)
        freqs = np.asarray(np.fft.rfftfreq(n_fft, 1.0 / GRID_HZ), dtype=np.float64)
        slow = np.where(freqs <= SLOW_BAND_HZ, 1.0, 0.0)
        jitter = band_noise(n, rng, slow, freqs)
        wander = band_noise(n, rng, slow, freqs)
        phase_error = band_noise(n, rng, slow, freqs)
        own_hz = self.spontaneous_bpm / 60.0 * (1.0 + BREATHING_JITTER * jitter)
        own_phase = 2.0 * np.pi * np.cumsum(own_hz) / GRID_HZ + rng.uniform(0, 2 * np.pi)
        irregular_hz = IRREGULAR_CENTRE_BPM / 60.0 * np.exp(IRREGULAR_SPREAD * wander)
        irregular_phase = 2.0 * np.pi * np.cumsum(irregular_hz) / GRID_HZ
        freq_hz, phase = own_hz.copy(), own_phase.copy()
        for step in self.steps:
            inside = (grid_t >= step.onset_s) & (grid_t < step.end_s)
            if step.adherence is Adherence.FOLLOWS:
                freq_hz[inside] = step.rate_bpm / 60.0
                pacer = 2.0 * np.pi * step.rate_bpm / 60.0 * (grid_t[inside] - step.onset_s)
                phase[inside] = pacer + FOLLOW_PHASE_SD_RAD * phase_error[inside]
            elif step.adherence is Adherence.IRREGULAR:
                freq_hz[inside] = irregular_hz[inside]
                phase[inside] = irregular_phase[inside]
        swing = self.resonance.response(freq_hz)
        out: FloatArray = np.real(swing * np.exp(1j * phase))
        return out


def pacer_steps(
    schedule: Sequence[tuple[float, float]],
    *,
    start_s: float = 0.0,
    adherence: Sequence[Adherence] | None = None,
) -> tuple[PacerStep, ...]:
    """Back-to-back steps from ``schedule`` [(rate_bpm, seconds), ...] starting at ``start_s``."""
    steps: list[PacerStep] = []
    onset = start_s
    for i, (rate_bpm, seconds) in enumerate(schedule):
        how = Adherence.FOLLOWS if adherence is None else adherence[i]
        steps.append(
            PacerStep(onset_s=onset, end_s=onset + seconds, rate_bpm=rate_bpm, adherence=how)
        )
        onset += seconds
    return tuple(steps)
