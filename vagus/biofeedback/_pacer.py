"""The breathing pacer: where in its cycle it is at a time, and the lung volume it asks for.

A pacer repeats a cycle of phases (inhale, hold, exhale, hold: the
`recommender.Phase` of an exercise) from its start. The volume it asks for
rises from 0 to 1 over each inhale and falls back over each exhale along a
raised cosine, and stays put over a hold; with equal inhale and exhale this
is ``(1 - cos 2πφ) / 2``, φ the cycle fraction: the sinusoidal breathing of
resonance-frequency protocols (Lehrer et al. 2013, "Protocol for heart rate
variability biofeedback training", Biofeedback 41(3):98-109).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from hrv import FloatArray
from recommender import Phase, PhaseKind

IntArray = NDArray[np.int64]


def even_phases(rate_bpm: float) -> tuple[Phase, ...]:
    """Inhale and exhale of ``30 / rate_bpm`` seconds each: ``rate_bpm`` breaths per minute."""
    if not 1.0 <= rate_bpm <= 30.0:
        raise ValueError(f"pacer rate must be within 1-30 breaths/min, got {rate_bpm}")
    half_s = 30.0 / rate_bpm
    return (
        Phase(kind=PhaseKind.INHALE, duration_s=half_s),
        Phase(kind=PhaseKind.EXHALE, duration_s=half_s),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class PacerState:
    """The pacer at one moment: the phase, how far through it, the volume, the cycle count."""

    kind: PhaseKind
    progress: float
    remaining_s: float
    volume: float
    cycle: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Pacer:
    """A cycle of ``phases`` repeated from ``start_s``."""

    phases: tuple[Phase, ...]
    start_s: float

    @property
    def cycle_s(self) -> float:
        """Seconds of one cycle."""
        return float(sum(p.duration_s for p in self.phases))

    @property
    def rate_bpm(self) -> float:
        """Cycles per minute."""
        return 60.0 / self.cycle_s

    def _locate(self, t_s: FloatArray) -> tuple[IntArray, IntArray, FloatArray]:
        """Cycle number, phase index and progress (0-1) through that phase at each ``t_s``."""
        ends = np.cumsum([p.duration_s for p in self.phases])
        rel = np.asarray(t_s, dtype=np.float64) - self.start_s
        cycle = np.floor(rel / self.cycle_s).astype(np.int64)
        within = rel - cycle * self.cycle_s
        idx = np.minimum(np.searchsorted(ends, within, side="right"), len(self.phases) - 1)
        starts = ends - np.array([p.duration_s for p in self.phases])
        durations = np.array([p.duration_s for p in self.phases])
        progress = np.clip((within - starts[idx]) / durations[idx], 0.0, 1.0)
        return cycle, idx.astype(np.int64), progress

    def volume(self, t_s: FloatArray) -> FloatArray:
        """Lung volume (0-1) the pacer asks for at each ``t_s``."""
        _, idx, progress = self._locate(t_s)
        level = np.zeros(len(self.phases) + 1)
        for i, phase in enumerate(self.phases):  # volume at the end of each phase
            step = {PhaseKind.INHALE: 1.0, PhaseKind.EXHALE: 0.0}.get(phase.kind, level[i])
            level[i + 1] = step
        level[0] = level[-1]  # a cycle starts where the last one ended
        before, after = level[idx], level[idx + 1]
        out: FloatArray = before + (after - before) * (0.5 - 0.5 * np.cos(np.pi * progress))
        return out

    def cycles(self, t_s: FloatArray) -> IntArray:
        """Cycle number (0 from ``start_s``) at each ``t_s``."""
        return self._locate(t_s)[0]

    def per_cycle_ptp(self, t_s: FloatArray, values: FloatArray) -> float:
        """Mean (max - min) of ``values`` at times ``t_s`` over the pacer's whole cycles there.

        The first and last cycles seen may be partial and are left out; NaN without a whole one.
        """
        cycles = self.cycles(t_s)
        swings = [np.ptp(values[cycles == c]) for c in np.unique(cycles)[1:-1]]
        return float(np.mean(swings)) if swings else float("nan")

    def state(self, t_s: float) -> PacerState:
        """The pacer at ``t_s``."""
        cycle, idx, progress = self._locate(np.array([t_s]))
        phase = self.phases[int(idx[0])]
        return PacerState(
            kind=phase.kind,
            progress=float(progress[0]),
            remaining_s=float((1.0 - progress[0]) * phase.duration_s),
            volume=float(self.volume(np.array([t_s]))[0]),
            cycle=int(cycle[0]),
        )


def schedule_pacers(
    schedule: Sequence[tuple[float, float]], *, start_s: float
) -> tuple[tuple[Pacer, float], ...]:
    """One even pacer per (rate_bpm, seconds) step, restarted at the step's start; with its end."""
    out: list[tuple[Pacer, float]] = []
    onset = start_s
    for rate_bpm, seconds in schedule:
        out.append((Pacer(phases=even_phases(rate_bpm), start_s=onset), onset + seconds))
        onset += seconds
    return tuple(out)
