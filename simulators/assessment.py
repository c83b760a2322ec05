"""Simulated resonance-frequency assessments: people with a known resonance, paced rate by rate.

A `Breather` is a resting adult with a resonance rate (4.5-6.5 breaths/min,
the adult range of Lehrer, Vaschillo & Vaschillo 2000 and Shaffer & Meehan
2020, Front. Neurosci. 14:570400), a damping (how sharply the RR swing peaks
there), an RR swing at resonance of 40-110 ms (heart-rate swings of about
6-16 bpm at rest, the range reported for resonance breathing by Lehrer et
al. 2000 and Vaschillo et al. 2006), a smaller direct respiratory swing and
the usual Mayer-wave and slow-drift noise of `simulators.physiology`.
`assessment` turns one into a `Scenario` that walks the protocol's rates
back to back, each step starting with the pacer at the start of an inhale,
so the recording begins with the first rate (as ``vagus resonance
--recording`` expects). Pure: a seed in, scenarios out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from simulators.breathing import Adherence, Resonance
from simulators.scenario import ArtifactSpec, ResonanceSpec, Scenario, Segment, State

DEFAULT_SCHEDULE: tuple[tuple[float, float], ...] = (
    (6.5, 120.0),
    (6.0, 120.0),
    (5.5, 120.0),
    (5.0, 120.0),
    (4.5, 120.0),
)
"""The protocol of Lehrer et al. 2013 (rates 6.5 to 4.5 breaths/min, 2 minutes each)."""

RESONANCE_RANGE_BPM = (4.5, 6.5)
DAMPING_RANGE = (0.10, 0.25)
GAIN_RANGE_MS = (40.0, 110.0)
DIRECT_RANGE_MS = (5.0, 20.0)
HR_RANGE_BPM = (55.0, 80.0)
MAYER_RANGE_MS = (8.0, 20.0)
DRIFT_RANGE_MS = (10.0, 25.0)
SPONTANEOUS_RANGE_BPM = (11.0, 17.0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Breather:
    """One simulated person for the assessment, with the truth about their resonance."""

    resonance: Resonance
    hr_bpm: float
    mayer_ms: float
    drift_ms: float
    spontaneous_bpm: float
    seed: int


def draw_breather(seed: int, *, rate_bpm: float | None = None) -> Breather:
    """A person drawn from the ranges above (their resonance ``rate_bpm`` when given)."""
    rng = np.random.default_rng(seed)

    def pick(low_high: tuple[float, float]) -> float:
        return float(rng.uniform(*low_high))

    rate = pick(RESONANCE_RANGE_BPM)
    return Breather(
        resonance=Resonance(
            rate_bpm=rate if rate_bpm is None else rate_bpm,
            damping=pick(DAMPING_RANGE),
            gain_ms=pick(GAIN_RANGE_MS),
            direct_ms=pick(DIRECT_RANGE_MS),
        ),
        hr_bpm=pick(HR_RANGE_BPM),
        mayer_ms=pick(MAYER_RANGE_MS),
        drift_ms=pick(DRIFT_RANGE_MS),
        spontaneous_bpm=pick(SPONTANEOUS_RANGE_BPM),
        seed=seed,
    )


def assessment(
    person: Breather,
    schedule: Sequence[tuple[float, float]] = DEFAULT_SCHEDULE,
    *,
    adherence: Sequence[Adherence] | None = None,
    artifact_rate: float = 0.0,
) -> Scenario:
    """The paced protocol for ``person``: one breathing segment per (rate_bpm, seconds)."""
    res = person.resonance
    segments = tuple(
        Segment(
            state=State.BREATHING,
            duration_s=seconds,
            label=f"pacer {rate:g}/min",
            ramp_s=10.0,
            hr_bpm=person.hr_bpm,
            mayer_ms=person.mayer_ms,
            drift_ms=person.drift_ms,
            pacer_bpm=rate,
            adherence=Adherence.FOLLOWS if adherence is None else adherence[i],
        )
        for i, (rate, seconds) in enumerate(schedule)
    )
    return Scenario(
        name=f"assessment-{person.seed}",
        description=f"resonance assessment, true rate {res.rate_bpm:.2f}/min",
        seed=person.seed,
        artifacts=ArtifactSpec(rate=artifact_rate),
        resonance=ResonanceSpec(
            rate_bpm=res.rate_bpm,
            damping=res.damping,
            gain_ms=res.gain_ms,
            direct_ms=res.direct_ms,
            spontaneous_bpm=person.spontaneous_bpm,
        ),
        segments=segments,
    )
