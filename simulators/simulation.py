"""Run a scenario through the RR model and the artifact injector: beats plus their ground truth."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from hrv import BeatBatch, BoolArray, FloatArray
from simulators.artifacts import ArtifactLabels, inject, no_artifacts
from simulators.breathing import PacedBreathing, PacerStep
from simulators.physiology import Stretch, generate_beats
from simulators.scenario import STATE_DEFAULTS, STRAP_STATES, Scenario, State


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class SegmentLabels:
    """The scenario's timeline as columns, one row per segment: the ground truth for tests."""

    state: NDArray[np.str_]
    label: NDArray[np.str_]
    onset_s: FloatArray
    end_s: FloatArray
    hr_bpm: FloatArray
    rmssd_ms: FloatArray
    breathing_hz: FloatArray

    def __len__(self) -> int:
        return int(self.onset_s.size)

    def state_at(self, t_s: FloatArray) -> NDArray[np.str_]:
        """State in force at each time ``t_s`` (seconds from the scenario start)."""
        idx = np.clip(np.searchsorted(self.onset_s, t_s, side="right") - 1, 0, len(self) - 1)
        return self.state[idx]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Simulation:
    """Beats of one simulated person and the truth about them.

    ``t_s`` are beat times in seconds from the scenario start, ``rr_ms`` the
    interval ending at each beat (artifacts included), ``observed`` False for
    beats inside contact-lost and disconnect segments (a strap would not
    report them).
    """

    t_s: FloatArray
    rr_ms: FloatArray
    observed: BoolArray
    segments: SegmentLabels
    artifacts: ArtifactLabels

    def batch(self, device: str, *, start_t_s: float = 0.0) -> BeatBatch:
        """The observed beats as a `BeatBatch`, times offset by ``start_t_s``; gaps flagged."""
        seen = self.observed
        after_gap = np.zeros_like(seen)
        after_gap[1:] = ~seen[:-1]
        return BeatBatch(
            device=device,
            t_s=self.t_s[seen] + start_t_s,
            rr_ms=self.rr_ms[seen],
            gap=after_gap[seen],
        )


def stretches(scenario: Scenario, *, until_s: float | None = None) -> list[Stretch]:
    """The scenario's segments as model stretches, cut at ``until_s`` when given."""
    out: list[Stretch] = []
    before = STATE_DEFAULTS[State.CALM]
    onset = 0.0
    for seg in scenario.segments:
        if until_s is not None and onset >= until_s:
            break
        phys = seg.physiology(before)
        end = onset + seg.length_s
        if until_s is not None:
            end = min(end, until_s)
        out.append(Stretch(onset_s=onset, end_s=end, physiology=phys, ramp_s=seg.ramp_s))
        before, onset = phys, end
    return out


def paced_breathing(scenario: Scenario) -> PacedBreathing | None:
    """The scenario's breathing through its person's resonance (None without ``resonance``)."""
    if scenario.resonance is None:
        return None
    steps: list[PacerStep] = []
    onset = 0.0
    for seg in scenario.segments:
        if seg.pacer_bpm is not None:
            steps.append(
                PacerStep(
                    onset_s=onset,
                    end_s=onset + seg.length_s,
                    rate_bpm=seg.pacer_bpm,
                    adherence=seg.adherence,
                )
            )
        onset += seg.length_s
    return PacedBreathing(
        resonance=scenario.resonance.model(),
        steps=tuple(steps),
        spontaneous_bpm=scenario.resonance.spontaneous_bpm,
    )


def simulate(
    scenario: Scenario, *, seed: int | Sequence[int] | None = None, until_s: float | None = None
) -> Simulation:
    """Generate the scenario's beats (seeded by ``seed``, default the scenario's own)."""
    rng = np.random.default_rng(scenario.seed if seed is None else seed)
    parts = stretches(scenario, until_s=until_s)
    beats, rr_ms = generate_beats(parts, rng, respiration=paced_breathing(scenario))
    labels = no_artifacts()
    if scenario.artifacts.rate > 0 and beats.size > 2:
        anchored = np.concatenate(([beats[0] - rr_ms[0] / 1000.0], beats))
        anchored, labels = inject(
            anchored, rng, rate=scenario.artifacts.rate, weights=scenario.artifacts.weights()
        )
        beats, rr_ms = anchored[1:], np.diff(anchored) * 1000.0
        labels = ArtifactLabels(index=labels.index - 1, kind=labels.kind, n_beats=labels.n_beats)
    segs = [seg for seg, _ in zip(scenario.segments, parts, strict=False)]
    seg_labels = SegmentLabels(
        state=np.array([s.state.value for s in segs], dtype="<U12"),
        label=np.array([s.label for s in segs], dtype=np.str_),
        onset_s=np.array([p.onset_s for p in parts]),
        end_s=np.array([p.end_s for p in parts]),
        hr_bpm=np.array([p.physiology.hr_bpm for p in parts]),
        rmssd_ms=np.array([p.physiology.rmssd_ms for p in parts]),
        breathing_hz=np.array([p.physiology.breathing_hz for p in parts]),
    )
    hidden = np.isin(seg_labels.state_at(beats), [s.value for s in STRAP_STATES])
    return Simulation(
        t_s=beats, rr_ms=rr_ms, observed=~hidden, segments=seg_labels, artifacts=labels
    )
