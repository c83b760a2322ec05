"""A breathing session's live figures, its summary, and what the person's past sessions say.

Live figures (HeartMath's scoring, McCraty et al. 2009, "The coherent
heart", Integral Review 5(2):10-115: coherence over the last 64 s, updated
every 5 s): at each update the last `LIVE_WINDOW_S` of beats give

- ``coherence``: HeartMath's ratio (`vagus.biofeedback._spectrum`), and
  ``peak_bpm``, the frequency of its peak in breaths/min;
- ``rsa_bpm``: the mean peak-to-trough heart rate over the pacer's whole
  cycles in the window (Grossman et al. 1990, Psychophysiology 27:702; the
  swing OpenHRV shows per breath);
- ``hr_bpm``: the mean heart rate of the last `HR_WINDOW_S` of beats (none when
  the last beat is older than `STALE_S`).

Figures need `MIN_LIVE_S` of beats; before that they are NaN. Time in high
coherence counts the updates whose ratio is at least `HIGH_COHERENCE` (the
peak holding at least half the power: our threshold) times the update
interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hrv import FloatArray
from recommender import PhaseKind
from vagus.biofeedback._pacer import Pacer
from vagus.biofeedback._spectrum import COHERENCE_PEAK_BAND, peak, stretch

LIVE_WINDOW_S = 64.0
MIN_LIVE_S = 30.0
HR_WINDOW_S = 5.0
STALE_S = 10.0
"""Heart rate is shown only while the last beat is at most this old."""
HIGH_COHERENCE = 1.0
REASSESS_OFF_BPM = 0.5
"""A coherence peak this far from the assessed rate counts as "away from it"."""
REASSESS_SESSIONS = 3
"""Recent sessions at the assessed rate that must all peak away from it to suggest re-assessing."""
REASSESS_GAIN = 1.25
"""Mean coherence at another rate this many times the assessed rate's also suggests it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveFigures:
    """One update of a session: the pacer and the heart's answer (NaN before `MIN_LIVE_S`)."""

    device: str
    t_s: float
    elapsed_s: float
    rate_bpm: float
    phase: PhaseKind
    volume: float
    hr_bpm: float
    rsa_bpm: float
    coherence: float
    peak_bpm: float


def live_figures(
    device: str,
    t_s: FloatArray,
    rr_ms: FloatArray,
    *,
    pacer: Pacer,
    now_s: float,
) -> LiveFigures:
    """The figures at ``now_s`` from the beats so far (``t_s`` increasing)."""
    state = pacer.state(now_s)
    nan = math.nan
    hr = coherence = rsa = peak_bpm = nan
    if t_s.size and now_s - t_s[-1] <= STALE_S:  # beats arrive up to a notification late
        recent = t_s > min(now_s, t_s[-1]) - HR_WINDOW_S
        hr = float(60000.0 / rr_ms[recent].mean())
    start = max(now_s - LIVE_WINDOW_S, pacer.start_s)
    inside = t_s >= start - 5.0
    if inside.sum() >= 8 and t_s[inside][-1] - max(t_s[inside][0], start) >= MIN_LIVE_S:
        begin = max(start, float(t_s[inside][0]))
        got = stretch(t_s[inside], rr_ms[inside], begin, now_s)
        if got is not None:
            coherence = got.coherence()
            top = peak(got.freqs_hz, got.psd, COHERENCE_PEAK_BAND)
            peak_bpm = top.peak_hz * 60.0
            rsa = pacer.per_cycle_ptp(got.t_s, 60000.0 / got.rr_ms)
    return LiveFigures(
        device=device,
        t_s=now_s,
        elapsed_s=now_s - pacer.start_s,
        rate_bpm=pacer.rate_bpm,
        phase=state.kind,
        volume=state.volume,
        hr_bpm=hr,
        rsa_bpm=rsa,
        coherence=coherence,
        peak_bpm=peak_bpm,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionRecord:
    """What one finished session amounts to (kept per person)."""

    t_s: float
    rate_bpm: float
    minutes: float
    mean_coherence: float
    rsa_bpm: float
    high_coherence_s: float
    peak_bpm: float


def _nanmean(values: Sequence[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return float(np.mean(finite)) if finite else math.nan


def summarize(updates: Sequence[LiveFigures], *, interval_s: float) -> SessionRecord:
    """Mean coherence, RSA and coherence peak, and time in high coherence, of a session."""
    if not updates:
        raise ValueError("a session summary needs at least one update")
    high = sum(1 for u in updates if math.isfinite(u.coherence) and u.coherence >= HIGH_COHERENCE)
    return SessionRecord(
        t_s=updates[0].t_s - updates[0].elapsed_s,
        rate_bpm=updates[0].rate_bpm,
        minutes=updates[-1].elapsed_s / 60.0,
        mean_coherence=_nanmean([u.coherence for u in updates]),
        rsa_bpm=_nanmean([u.rsa_bpm for u in updates]),
        high_coherence_s=high * interval_s,
        peak_bpm=_nanmean([u.peak_bpm for u in updates]),
    )


def compare(record: SessionRecord, history: Sequence[SessionRecord], *, last: int = 5) -> str:
    """This session against the mean of the person's last ``last`` sessions, in one line."""
    past = list(history)[-last:]
    if not past:
        return "first session: nothing to compare with yet"
    coherence = _nanmean([p.mean_coherence for p in past])
    rsa = _nanmean([p.rsa_bpm for p in past])
    high = _nanmean([p.high_coherence_s for p in past])
    return (
        f"vs. your last {len(past)}: coherence {record.mean_coherence:.2f} ({coherence:.2f}), "
        f"RSA {record.rsa_bpm:.1f} bpm ({rsa:.1f}), "
        f"high coherence {record.high_coherence_s:.0f} s ({high:.0f} s)"
    )


def reassessment_advice(
    assessed_bpm: float | None, history: Sequence[SessionRecord], *, last: int = 10
) -> str | None:
    """Why to re-run the resonance assessment, or None.

    Two signs that coherence peaks away from the assessed rate (our rules):
    the last `REASSESS_SESSIONS` sessions at the assessed rate all had their
    coherence peak more than `REASSESS_OFF_BPM` from it; or, among the last
    ``last`` sessions, another rate (two sessions or more) reached a mean
    coherence `REASSESS_GAIN` times that of the assessed rate.
    """
    if assessed_bpm is None:
        return None
    recent = list(history)[-last:]
    at_rate = [s for s in recent if abs(s.rate_bpm - assessed_bpm) < 0.25]
    tail = at_rate[-REASSESS_SESSIONS:]
    if len(tail) == REASSESS_SESSIONS and all(
        math.isfinite(s.peak_bpm) and abs(s.peak_bpm - assessed_bpm) > REASSESS_OFF_BPM
        for s in tail
    ):
        peak = _nanmean([s.peak_bpm for s in tail])
        return (
            f"your coherence peaked at {peak:.1f}/min in the last {len(tail)} sessions at "
            f"{assessed_bpm:.1f}/min: run `vagus resonance` again"
        )
    base = _nanmean([s.mean_coherence for s in at_rate])
    by_rate: dict[float, list[float]] = {}
    for s in recent:
        if abs(s.rate_bpm - assessed_bpm) >= 0.25:
            by_rate.setdefault(round(s.rate_bpm * 2) / 2, []).append(s.mean_coherence)
    for rate, values in sorted(by_rate.items()):
        mean = _nanmean(values)
        if len(at_rate) >= 2 and len(values) >= 2 and mean >= REASSESS_GAIN * base:
            return (
                f"coherence at {rate:.1f}/min ({mean:.2f}) beats your assessed "
                f"{assessed_bpm:.1f}/min ({base:.2f}): run `vagus resonance` again"
            )
    return None
