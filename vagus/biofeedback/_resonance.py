"""Resonance-frequency assessment: beats of a paced protocol in, each rate scored, one chosen.

The protocol (Lehrer, Vaschillo & Vaschillo 2000, Appl. Psychophysiol.
Biofeedback 25:177-191; Lehrer et al. 2013, "Protocol for heart rate
variability biofeedback training", Biofeedback 41(3):98-109; Shaffer &
Meehan 2020, "A practical guide to resonance frequency assessment for heart
rate variability biofeedback", Front. Neurosci. 14:570400): the person
breathes with a pacer at each rate of a schedule (default 6.5 to 4.5
breaths/min, 2 minutes each). The first ``settle_s`` of each step are left
out; over the rest, per rate:

- **LF peak power**: the power (ms²) within ±0.015 Hz of the highest
  0.04-0.15 Hz bin, and its frequency;
- **RSA**: peak-to-trough heart rate per breath, the mean over the pacer's
  whole cycles of (max - min) of ``60000 / RR`` on the 4 Hz grid (Grossman
  et al. 1990, Psychophysiology 27:702);
- **phase synchrony**: the correlation of heart rate with the pacer's lung
  volume at lag 0 (heart rate and breathing in phase, 0°, at resonance:
  Vaschillo et al. 2002, Appl. Psychophysiol. Biofeedback 27:1-27), and the
  lag of the highest correlation within half a cycle, as a phase in degrees
  (positive: heart rate behind breathing);
- **LF peaks**: local maxima of the 0.04-0.15 Hz spectrum holding at least
  a quarter of the highest one (one clean peak at resonance);
- **adherence**: the dominant 0.04-0.26 Hz heart-rate oscillation must sit
  within ±0.015 Hz (the coherence peak's half-width) of the pacer and
  correlate with the pacer at least `MIN_FOLLOW_R`; otherwise the rate is
  "not followed" and takes no part in the choice. Heart rate's own Mayer
  waves near 0.1 Hz can pass both tests by chance for one rate, never (in
  the benchmark) for most; so unless more than half of the rates were
  followed, no rate is chosen and the protocol as a whole is "not followed".

The chosen rate has the highest score among followed rates: a weighted sum
of its LF peak power and RSA relative to the best followed rate, its
synchrony (lag-0 correlation, clipped at 0) and 1 / number of LF peaks (`WEIGHTS`; the
criteria are Shaffer & Meehan's, the weights ours). Confidence is the share
of the four criteria whose own best rate (any of them, when tied) lies
within 0.5 breaths/min of the chosen one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from hrv import GRID_HZ, BeatBatch, FloatArray, correct_artifacts
from vagus.biofeedback._pacer import Pacer, schedule_pacers
from vagus.biofeedback._spectrum import (
    COHERENCE_PEAK_BAND,
    LF_BAND,
    PEAK_HALF_WIDTH_HZ,
    peak,
    stretch,
)

MIN_FOLLOW_R = 0.55
"""Least correlation (best lag) of heart rate with the pacer for a rate to count as followed."""
PEAK_SHARE = 0.25
"""A local maximum of the LF spectrum counts as a peak from this share of the highest one."""
MIN_ANALYSED_S = 40.0
"""Shortest analysed stretch of a step (two cycles at 3 breaths/min)."""
WEIGHTS = {"lf_peak": 0.1, "rsa": 0.3, "synchrony": 0.5, "single_peak": 0.1}
"""Weights of the criteria in a rate's score (sum 1), set on simulated people (seeds 1000-1099)
kept apart from the benchmark's (`benchmarks/resonance.py`)."""
AGREE_BPM = 0.5
"""A criterion agrees with the choice when its own best rate is this close to it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RateResult:
    """The figures of one rate of the protocol."""

    rate_bpm: float
    analysed_s: float
    n_beats: int
    hr_bpm: float
    lf_peak_ms2: float
    lf_peak_hz: float
    hr_peak_hz: float
    rsa_bpm: float
    synchrony: float
    best_r: float
    phase_deg: float
    lf_peaks: int
    followed: bool
    note: str
    score: float = float("nan")


@dataclass(frozen=True, slots=True, kw_only=True)
class Assessment:
    """Every rate's figures and the chosen resonance rate (None unless most rates were followed)."""

    rates: tuple[RateResult, ...]
    resonance_bpm: float | None
    confidence: float
    agreeing: tuple[str, ...]


def parse_schedule(text: str) -> tuple[tuple[float, float], ...]:
    """``"6.5:120,6.0:120"`` as ((6.5, 120.0), (6.0, 120.0)); ValueError saying what is wrong."""
    steps: list[tuple[float, float]] = []
    for part in text.split(","):
        rate_text, sep, seconds_text = part.strip().partition(":")
        try:
            rate, seconds = float(rate_text), float(seconds_text)
        except ValueError:
            raise ValueError(f"{part.strip()!r} is not RATE:SECONDS") from None
        if not sep or not 3.0 <= rate <= 12.0:
            raise ValueError(f"{part.strip()!r}: rate must be 3-12 breaths/min")
        if not 30.0 <= seconds <= 1800.0:
            raise ValueError(f"{part.strip()!r}: seconds must be 30-1800")
        steps.append((rate, seconds))
    return tuple(steps)


def _rate_result(
    beats_t: FloatArray, rr_ms: FloatArray, rate: float, pacer: Pacer, start_s: float, end_s: float
) -> RateResult:
    """Figures of the step at ``rate`` over [start_s, end_s); not followed with too little data."""
    inside = (beats_t >= start_s) & (beats_t < end_s)
    n_beats = int(inside.sum())
    covered = float(beats_t[inside][-1] - beats_t[inside][0]) if n_beats >= 2 else 0.0
    nan = float("nan")
    if covered < MIN_ANALYSED_S or n_beats < 20:
        return RateResult(
            rate_bpm=rate, analysed_s=covered, n_beats=n_beats, hr_bpm=nan, lf_peak_ms2=nan,
            lf_peak_hz=nan, hr_peak_hz=nan, rsa_bpm=nan, synchrony=nan, best_r=nan,
            phase_deg=nan, lf_peaks=0, followed=False, note="too few beats",
        )  # fmt: skip
    near = (beats_t >= start_s - 10.0) & (beats_t < end_s)  # with context for the slopes
    # Each interval's heart period is placed at the interval's middle (Berger et al. 1986,
    # IEEE Trans. Biomed. Eng. 33:900): at the beat ending it, every phase would read half
    # a beat late, a bias toward slower rates in the synchrony.
    middle = beats_t[near] - rr_ms[near] / 2000.0
    got = stretch(middle, rr_ms[near], start_s, end_s)
    assert got is not None  # at least 20 beats: checked above
    hr = 60000.0 / got.rr_ms
    lf = peak(got.freqs_hz, got.psd, LF_BAND)
    dominant = peak(got.freqs_hz, got.psd, COHERENCE_PEAK_BAND)
    in_lf = (got.freqs_hz >= LF_BAND[0]) & (got.freqs_hz < LF_BAND[1])
    lf_power = got.psd[in_lf]
    padded = np.concatenate(([0.0], lf_power, [0.0]))
    local_max = (lf_power > padded[:-2]) & (lf_power >= padded[2:])
    n_peaks = int((local_max & (lf_power >= PEAK_SHARE * lf_power.max())).sum())
    volume = pacer.volume(got.t_s)
    rsa = pacer.per_cycle_ptp(got.t_s, hr)
    synchrony, best_r, lag_s = _synchrony(hr, volume, pacer.cycle_s)
    off_hz = abs(dominant.peak_hz - rate / 60.0)
    on_rate = off_hz <= PEAK_HALF_WIDTH_HZ * (1 + 1e-9)
    followed = on_rate and best_r >= MIN_FOLLOW_R
    note = (
        ""
        if followed
        else f"heart rate oscillates at {dominant.peak_hz * 60:.1f}/min"
        if not on_rate
        else f"heart rate not locked to the pacer (r {best_r:.2f})"
    )
    return RateResult(
        rate_bpm=rate,
        analysed_s=covered,
        n_beats=n_beats,
        hr_bpm=float(hr.mean()),
        lf_peak_ms2=lf.peak_ms2,
        lf_peak_hz=lf.peak_hz,
        hr_peak_hz=dominant.peak_hz,
        rsa_bpm=rsa,
        synchrony=synchrony,
        best_r=best_r,
        phase_deg=360.0 * lag_s / pacer.cycle_s,
        lf_peaks=n_peaks,
        followed=followed,
        note=note,
    )


def _synchrony(hr: FloatArray, volume: FloatArray, cycle_s: float) -> tuple[float, float, float]:
    """Correlation at lag 0, the highest correlation within ±half a cycle, and its lag (s).

    A positive lag means heart rate follows the volume that much later.
    """
    x = hr - hr.mean()
    y = volume - volume.mean()
    norm = float(np.sqrt((x * x).sum() * (y * y).sum()))
    if norm == 0:
        return 0.0, 0.0, 0.0
    max_lag = int(cycle_s * GRID_HZ / 2)
    n = x.size
    lags = np.arange(-max_lag, max_lag + 1)
    r = (
        np.array(
            [
                float((x[k:] * y[: n - k]).sum()) if k >= 0 else float((x[:k] * y[-k:]).sum())
                for k in lags
            ]
        )
        / norm
    )
    best = int(np.argmax(r))
    return float(r[max_lag]), float(r[best]), float(lags[best] / GRID_HZ)


def assess(
    beats: BeatBatch,
    schedule: Sequence[tuple[float, float]],
    *,
    start_s: float,
    settle_s: float,
) -> Assessment:
    """Score each rate of ``schedule`` (steps back to back from ``start_s``) and pick one.

    Artifacts are corrected first (`hrv.correct_artifacts`); the first
    ``settle_s`` of each step are left out.
    """
    rr_ms, _ = correct_artifacts(beats.rr_ms, beats.gap)
    results = [
        _rate_result(beats.t_s, rr_ms, rate, pacer, pacer.start_s + settle_s, end_s)
        for (rate, _), (pacer, end_s) in zip(
            schedule, schedule_pacers(schedule, start_s=start_s), strict=True
        )
    ]
    return choose(results)


def choose(results: Sequence[RateResult]) -> Assessment:
    """Score the followed rates and pick the best (see the module docs)."""
    followed = [r for r in results if r.followed]
    if len(followed) <= len(results) // 2:
        return Assessment(rates=tuple(results), resonance_bpm=None, confidence=0.0, agreeing=())
    best_lf = max(r.lf_peak_ms2 for r in followed)
    best_rsa = max(r.rsa_bpm for r in followed)

    def criteria(r: RateResult) -> dict[str, float]:
        return {
            "lf_peak": r.lf_peak_ms2 / best_lf if best_lf > 0 else 0.0,
            "rsa": r.rsa_bpm / best_rsa if best_rsa > 0 else 0.0,
            "synchrony": max(r.synchrony, 0.0),
            "single_peak": 1.0 / max(r.lf_peaks, 1),
        }

    scored = {id(r): sum(WEIGHTS[k] * v for k, v in criteria(r).items()) for r in followed}
    chosen = max(followed, key=lambda r: scored[id(r)])

    def agrees(name: str) -> bool:  # one of the criterion's best rates (ties count) is close
        best = max(criteria(r)[name] for r in followed)
        return any(
            criteria(r)[name] == best and abs(r.rate_bpm - chosen.rate_bpm) <= AGREE_BPM + 1e-9
            for r in followed
        )

    agreeing = tuple(name for name in WEIGHTS if agrees(name))
    rates = tuple(replace(r, score=scored[id(r)]) if r.followed else r for r in results)
    return Assessment(
        rates=rates,
        resonance_bpm=chosen.rate_bpm,
        confidence=len(agreeing) / len(WEIGHTS),
        agreeing=agreeing,
    )
