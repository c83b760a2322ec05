"""Paced breathing through a baroreflex resonance: the RR swing peaks at the person's rate."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import periodogram

from simulators import load_scenario, simulate
from simulators.assessment import DEFAULT_SCHEDULE, assessment, draw_breather
from simulators.breathing import Adherence, Resonance

PERSON = Resonance(rate_bpm=5.5, damping=0.15, gain_ms=80.0, direct_ms=10.0)


def _swing_at(t_s: np.ndarray, rr_ms: np.ndarray, start: float, end: float) -> tuple[float, float]:
    """Frequency (breaths/min) and amplitude (ms) of the largest 0.04-0.3 Hz RR oscillation."""
    grid = np.arange(start, end, 0.25)
    series = np.interp(grid, t_s, rr_ms)
    freqs, power = periodogram(series, 4.0, window="boxcar", nfft=8192, detrend="linear")
    band = (freqs >= 0.04) & (freqs <= 0.3)
    k = int(np.argmax(power[band]))
    amplitude = float(np.sqrt(power[band][k] * 2.0 / (grid.size / 4.0)))
    return float(freqs[band][k] * 60.0), amplitude


def test_response_peaks_at_the_resonance_in_phase() -> None:
    """|H| peaks at the resonance rate with phase 0; heart rate leads below it, lags above."""
    rates = np.linspace(3.0, 9.0, 121)
    swing = PERSON.response(rates / 60.0)
    assert rates[int(np.argmax(np.abs(swing)))] == pytest.approx(5.5)
    assert PERSON.amplitude_ms(5.5) == pytest.approx(90.0)
    assert np.angle(PERSON.response(np.array([5.5 / 60]))[0]) == pytest.approx(0.0, abs=1e-12)
    assert np.angle(PERSON.response(np.array([4.5 / 60]))[0]) > 0.3
    assert np.angle(PERSON.response(np.array([6.5 / 60]))[0]) < -0.3


def test_rejects_impossible_people() -> None:
    """A damping outside (0, 1) or a negative gain is refused when built."""
    with pytest.raises(ValueError, match="damping"):
        Resonance(rate_bpm=5.5, damping=1.2, gain_ms=80, direct_ms=10)
    with pytest.raises(ValueError, match="gain_ms"):
        Resonance(rate_bpm=5.5, damping=0.2, gain_ms=-1, direct_ms=10)


def test_rr_follows_the_pacer_with_the_model_amplitude() -> None:
    """Each step's RR oscillates at the pacer rate; its size tracks |H| and peaks at resonance."""
    person = draw_breather(7, rate_bpm=5.5)
    sim = simulate(assessment(person))
    amplitudes = {}
    for i, (rate, seconds) in enumerate(DEFAULT_SCHEDULE):
        rate_seen, amp = _swing_at(sim.t_s, sim.rr_ms, i * seconds + 15, (i + 1) * seconds)
        assert rate_seen == pytest.approx(rate, abs=0.3)
        amplitudes[rate] = amp
        assert amp == pytest.approx(person.resonance.amplitude_ms(rate), rel=0.35)
    assert max(amplitudes, key=lambda r: amplitudes[r]) == 5.5


def _locked_share(
    t_s: np.ndarray, rr_ms: np.ndarray, rate: float, onset: float, end: float
) -> float:
    """Share of RR variance (after settling) explained by a sinusoid in the pacer's phase."""
    grid = np.arange(onset + 15, end, 0.25)
    series = np.interp(grid, t_s, rr_ms)
    phase = 2 * np.pi * rate / 60 * (grid - onset)
    design = np.column_stack([np.cos(phase), np.sin(phase), np.ones_like(grid), grid - grid[0]])
    fit, *_ = np.linalg.lstsq(design, series, rcond=None)
    locked = design[:, :2] @ fit[:2]
    return float(locked.var() / series.var())


@pytest.mark.parametrize("mode", [Adherence.OWN_RATE, Adherence.IRREGULAR])
def test_people_who_do_not_follow_are_not_locked_to_the_pacer(mode: Adherence) -> None:
    """RR of a follower is mostly in the pacer's phase; of a non-follower, mostly not."""
    person = draw_breather(8)
    n = len(DEFAULT_SCHEDULE)
    follower = simulate(assessment(person))
    other = simulate(assessment(person, adherence=[mode] * n))
    for i, (rate, seconds) in enumerate(DEFAULT_SCHEDULE):
        onset, end = i * seconds, (i + 1) * seconds
        assert _locked_share(follower.t_s, follower.rr_ms, rate, onset, end) > 0.5
        assert _locked_share(other.t_s, other.rr_ms, rate, onset, end) < 0.3


def test_shipped_assessment_scenarios() -> None:
    """The shipped scenarios carry the person and a pacer per segment; not_followed ignores it."""
    follows = load_scenario("resonance_assessment")
    ignores = load_scenario("resonance_not_followed")
    assert follows.resonance is not None
    assert follows.resonance.rate_bpm == 5.5
    assert [s.pacer_bpm for s in follows.segments] == [6.5, 6.0, 5.5, 5.0, 4.5]
    assert {s.adherence for s in ignores.segments} == {Adherence.OWN_RATE}
    assert load_scenario("resonance_session").duration_s == 300.0
