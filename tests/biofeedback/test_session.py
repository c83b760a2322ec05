"""Live session figures, the summary, the comparison and the re-assessment suggestion."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recommender import PhaseKind
from vagus.biofeedback import (
    LiveFigures,
    Pacer,
    SessionRecord,
    compare,
    even_phases,
    live_figures,
    reassessment_advice,
    summarize,
)


def _beats(hr_of_t, seconds: float) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    t, times = 0.0, []
    while t < seconds:
        t += 60.0 / hr_of_t(t + 30.0 / hr_of_t(t))
        times.append(t)
    t_s = np.array(times)
    return t_s, np.diff(t_s, prepend=0.0) * 1000.0


def _record(rate: float, coherence: float, peak: float, t_s: float = 0.0) -> SessionRecord:
    return SessionRecord(
        t_s=t_s,
        rate_bpm=rate,
        minutes=5.0,
        mean_coherence=coherence,
        rsa_bpm=10.0,
        high_coherence_s=100.0,
        peak_bpm=peak,
    )


def test_figures_follow_a_coherent_oscillation() -> None:
    """HR 60 ± 5 bpm at the 6/min pacer: RSA ≈ 10 bpm, coherence high, peak at 6/min."""
    t_s, rr_ms = _beats(lambda t: 60.0 - 5.0 * np.cos(2 * np.pi * 0.1 * t), 130.0)
    pacer = Pacer(phases=even_phases(6.0), start_s=0.0)
    got = live_figures("d", t_s, rr_ms, pacer=pacer, now_s=120.0)
    assert got.rsa_bpm == pytest.approx(10.0, rel=0.05)
    assert got.coherence > 5.0
    assert got.peak_bpm == pytest.approx(6.0, abs=0.5)
    assert got.elapsed_s == 120.0
    assert got.hr_bpm == pytest.approx(60.0, abs=5.5)


def test_figures_wait_for_enough_beats() -> None:
    """20 s into a session only the heart rate is known; the rest is NaN."""
    t_s, rr_ms = _beats(lambda t: 60.0, 20.0)
    got = live_figures("d", t_s, rr_ms, pacer=Pacer(phases=even_phases(6.0), start_s=0.0), now_s=20)
    assert got.hr_bpm == pytest.approx(60.0)
    assert math.isnan(got.coherence)
    assert math.isnan(got.rsa_bpm)


def test_incoherent_noise_scores_low() -> None:
    """Beat-to-beat noise without an oscillation: coherence well below the high threshold."""
    rng = np.random.default_rng(4)
    rr = 1000.0 + rng.normal(0, 40, 140)
    t_s = np.cumsum(rr) / 1000.0
    pacer = Pacer(phases=even_phases(6.0), start_s=0.0)
    assert live_figures("d", t_s, rr, pacer=pacer, now_s=float(t_s[-1])).coherence < 0.5


def test_summary_counts_time_in_high_coherence() -> None:
    """Three 5-s updates, two at or above 1: 10 s in high coherence; means skip NaN."""
    base = {"device": "d", "rate_bpm": 6.0, "volume": 0.5, "hr_bpm": 60.0, "peak_bpm": 6.0}
    updates = [
        LiveFigures(t_s=105.0 + 5 * i, elapsed_s=5.0 + 5 * i, phase=PhaseKind.INHALE,
                    rsa_bpm=rsa, coherence=c, **base)  # type: ignore[arg-type]
        for i, (rsa, c) in enumerate([(math.nan, math.nan), (8.0, 1.0), (10.0, 3.0)])
    ]  # fmt: skip
    record = summarize(updates, interval_s=5.0)
    assert record.high_coherence_s == 10.0
    assert record.mean_coherence == pytest.approx(2.0)
    assert record.rsa_bpm == pytest.approx(9.0)
    assert record.t_s == 100.0
    assert record.minutes == pytest.approx(0.25)


def test_compare_with_past_sessions() -> None:
    """The comparison names this session's figures and the mean of the last ones."""
    assert "first session" in compare(_record(6.0, 2.0, 6.0), [])
    text = compare(_record(6.0, 2.0, 6.0), [_record(6.0, 1.0, 6.0), _record(6.0, 3.0, 6.0)])
    assert text.startswith("vs. your last 2: coherence 2.00 (2.00)")


def test_reassessment_when_coherence_peaks_away() -> None:
    """Three sessions at the assessed 5.5/min peaking at 6.5: re-assess; peaking at 5.5: not."""
    away = [_record(5.5, 2.0, 6.5, t_s=i) for i in range(3)]
    advice = reassessment_advice(5.5, away)
    assert advice is not None
    assert "6.5/min" in advice
    assert reassessment_advice(5.5, [_record(5.5, 2.0, 5.6, t_s=i) for i in range(3)]) is None
    assert reassessment_advice(None, away) is None


def test_reassessment_when_another_rate_is_more_coherent() -> None:
    """Sessions at 6.0/min reach 1.5x the coherence of those at the assessed 5.0: re-assess."""
    history = [_record(5.0, 2.0, 5.0), _record(5.0, 2.0, 5.0)]
    history += [_record(6.0, 3.0, 6.0), _record(6.0, 3.0, 6.0)]
    advice = reassessment_advice(5.0, history)
    assert advice is not None
    assert "6.0/min" in advice
    assert reassessment_advice(5.0, history[:3]) is None


def test_heart_rate_from_the_latest_beats_until_they_go_stale() -> None:
    """Beats a notification behind still give HR; none for 10 s gives no HR."""
    t_s, rr_ms = _beats(lambda t: 60.0, 58.0)
    pacer = Pacer(phases=even_phases(6.0), start_s=0.0)
    assert live_figures("d", t_s, rr_ms, pacer=pacer, now_s=60.0).hr_bpm == pytest.approx(60.0)
    assert math.isnan(live_figures("d", t_s, rr_ms, pacer=pacer, now_s=70.0).hr_bpm)
