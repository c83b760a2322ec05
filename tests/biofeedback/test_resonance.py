"""Resonance assessment: each rate's figures from known signals, the choice on simulated people."""

from __future__ import annotations

import numpy as np
import pytest

from hrv import BeatBatch
from recommender import BOX, PhaseKind
from simulators import load_scenario, simulate
from simulators.assessment import DEFAULT_SCHEDULE, assessment, draw_breather
from vagus.biofeedback import Pacer, RateResult, assess, choose, even_phases, parse_schedule


def _beats_from_hr(hr_of_t, seconds: float) -> BeatBatch:  # type: ignore[no-untyped-def]
    """Beats whose heart rate follows ``hr_of_t``: each interval takes the rate at its middle."""
    t, times = 0.0, []
    while t < seconds:
        t += 60.0 / hr_of_t(t + 30.0 / hr_of_t(t))
        times.append(t)
    t_s = np.array(times)
    return BeatBatch(device="x", t_s=t_s, rr_ms=np.diff(t_s, prepend=0.0) * 1000.0)


def test_even_pacer_volume_is_a_raised_cosine() -> None:
    """Equal inhale/exhale: volume (1 - cos 2πφ)/2, inhale first, restarting each cycle."""
    pacer = Pacer(phases=even_phases(6.0), start_s=100.0)
    t = 100.0 + np.linspace(0, 30, 301)
    expected = 0.5 - 0.5 * np.cos(2 * np.pi * (t - 100.0) / 10.0)
    np.testing.assert_allclose(pacer.volume(t), expected, atol=1e-12)
    state = pacer.state(102.5)
    assert state.kind is PhaseKind.INHALE
    assert state.progress == pytest.approx(0.5)
    assert state.remaining_s == pytest.approx(2.5)
    assert pacer.state(107.0).kind is PhaseKind.EXHALE
    assert pacer.state(121.0).cycle == 2


def test_holds_keep_the_volume() -> None:
    """Box breathing: full during the hold after the inhale, empty during the one after exhale."""
    pacer = Pacer(phases=BOX.phases, start_s=0.0)
    assert pacer.volume(np.array([6.0]))[0] == pytest.approx(1.0)
    assert pacer.volume(np.array([14.0]))[0] == pytest.approx(0.0)
    assert pacer.state(6.0).kind is PhaseKind.HOLD


@pytest.mark.parametrize(
    ("text", "message"),
    [("6.5", "RATE:SECONDS"), ("6.5:abc", "RATE:SECONDS"), ("20:120", "3-12"), ("6:10", "30-1800")],
)
def test_bad_schedules_say_what_is_wrong(text: str, message: str) -> None:
    """A schedule that does not parse names the part and what is allowed."""
    with pytest.raises(ValueError, match=message):
        parse_schedule(text)


def test_schedule_parses() -> None:
    """The issue's example schedule reads as five (rate, seconds) steps."""
    assert parse_schedule("6.5:120,6.0:120, 5.5:90") == ((6.5, 120.0), (6.0, 120.0), (5.5, 90.0))


def test_figures_of_a_known_oscillation() -> None:
    """HR 65 ± 6 bpm in phase with a 6/min pacer: RSA 12 bpm, peak at 0.1 Hz, 0°, followed."""
    beats = _beats_from_hr(lambda t: 65.0 - 6.0 * np.cos(2 * np.pi * 0.1 * t), 240.0)
    result = assess(beats, [(6.0, 240.0)], start_s=0.0, settle_s=20.0).rates[0]
    assert result.rsa_bpm == pytest.approx(12.0, rel=0.03)
    assert result.lf_peak_hz == pytest.approx(0.1, abs=0.004)
    assert result.hr_bpm == pytest.approx(65.0, abs=0.5)
    assert result.synchrony > 0.98
    assert result.phase_deg == pytest.approx(0.0, abs=10.0)
    assert result.lf_peaks == 1
    assert result.followed


def test_lagging_heart_rate_and_two_peaks() -> None:
    """HR a quarter cycle behind the pacer reads +90°; a second LF oscillation is a second peak."""
    beats = _beats_from_hr(
        lambda t: (
            65.0
            - 6.0 * np.cos(2 * np.pi * 0.1 * t - np.pi / 2)
            + 4.0 * np.sin(2 * np.pi * 0.06 * t)
        ),
        240.0,
    )
    result = assess(beats, [(6.0, 240.0)], start_s=0.0, settle_s=20.0).rates[0]
    assert result.phase_deg == pytest.approx(90.0, abs=10.0)
    assert result.lf_peaks == 2


def test_an_oscillation_off_the_pacer_is_not_followed() -> None:
    """HR swinging at 12/min while the pacer says 6/min: not followed, and why."""
    beats = _beats_from_hr(lambda t: 65.0 - 5.0 * np.cos(2 * np.pi * 0.2 * t), 240.0)
    result = assess(beats, [(6.0, 240.0)], start_s=0.0, settle_s=20.0).rates[0]
    assert not result.followed
    assert "12.0/min" in result.note


def test_too_few_beats() -> None:
    """A step the recording does not cover is not followed ("too few beats"), no exception."""
    beats = _beats_from_hr(lambda t: 60.0, 130.0)
    out = assess(beats, [(6.0, 120.0), (5.0, 120.0)], start_s=0.0, settle_s=15.0)
    assert out.rates[1].note == "too few beats"
    assert out.resonance_bpm is None


def test_picks_simulated_peoples_rates() -> None:
    """12 simulated people across 4.5-6.5/min: at least 11 get a rate within 0.5 of theirs,
    every rate counts as followed, and the confidence is a share of the criteria."""
    hits = 0
    for i in range(12):
        truth = 4.5 + 2.0 * (i + 0.5) / 12
        person = draw_breather(101 + i, rate_bpm=truth)
        sim = simulate(assessment(person, artifact_rate=0.005))
        out = assess(sim.batch("p"), DEFAULT_SCHEDULE, start_s=0.0, settle_s=15.0)
        assert out.resonance_bpm is not None
        assert all(r.followed for r in out.rates)
        assert out.confidence in {0.25, 0.5, 0.75, 1.0}
        hits += abs(out.resonance_bpm - truth) <= 0.5
    assert hits >= 11


def test_a_person_ignoring_the_pacer_gets_no_rate() -> None:
    """The shipped not-followed scenario: most rates flagged, so no resonance is chosen."""
    scenario = load_scenario("resonance_not_followed")
    sim = simulate(scenario)
    schedule = [(s.pacer_bpm or 0.0, s.length_s) for s in scenario.segments]
    out = assess(sim.batch("p"), schedule, start_s=0.0, settle_s=30.0)
    assert out.resonance_bpm is None
    assert sum(not r.followed for r in out.rates) >= 4


def _rate(rate: float, lf: float, rsa: float, sync: float, peaks: int) -> RateResult:
    return RateResult(
        rate_bpm=rate, analysed_s=100.0, n_beats=100, hr_bpm=60.0, lf_peak_ms2=lf,
        lf_peak_hz=rate / 60, hr_peak_hz=rate / 60, rsa_bpm=rsa, synchrony=sync, best_r=sync,
        phase_deg=0.0, lf_peaks=peaks, followed=True, note="",
    )  # fmt: skip


def test_choice_and_confidence() -> None:
    """The best weighted rate wins; tied criteria agree through any of their best rates;
    a criterion whose best rate is far off lowers the confidence."""
    rates = [_rate(6.5, 900, 8, 0.5, 1), _rate(5.5, 1000, 12, 0.9, 1), _rate(4.5, 800, 9, 0.6, 1)]
    out = choose(rates)
    assert out.resonance_bpm == 5.5
    assert out.confidence == 1.0
    assert out.rates[1].score == pytest.approx(0.1 + 0.3 + 0.5 * 0.9 + 0.1)
    rates[0] = _rate(6.5, 5000, 8, 0.5, 1)
    out = choose(rates)
    assert out.resonance_bpm == 5.5
    assert out.agreeing == ("rsa", "synchrony", "single_peak")
    assert out.confidence == 0.75
