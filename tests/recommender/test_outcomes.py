"""Outcome verdicts and the person's exercise preference."""

from __future__ import annotations

import pytest

from recommender import Verdict, choose_exercise, judge, rank_exercises


@pytest.mark.parametrize(
    ("d_ln", "d_hr", "verdict"),
    [
        (0.1, 0.0, Verdict.IMPROVED),
        (0.0, -3.0, Verdict.IMPROVED),
        (-0.01, -5.0, Verdict.NO_CHANGE),
        (0.05, 0.0, Verdict.NO_CHANGE),
        (-0.1, 0.0, Verdict.WORSE),
    ],
)
def test_verdict_thresholds(d_ln: float, d_hr: float, verdict: Verdict) -> None:
    """Δln(RMSSD) ≥ 0.1, or a 3 bpm HR drop without HRV loss, is an improvement."""
    got = judge(delta_ln_rmssd=d_ln, delta_hr_bpm=d_hr, n_before=5, n_after=5, min_windows=3)
    assert got is verdict


def test_too_few_windows_is_insufficient() -> None:
    """Fewer valid windows than ``min_windows`` on either side gives no verdict."""
    got = judge(delta_ln_rmssd=1.0, delta_hr_bpm=-9, n_before=2, n_after=9, min_windows=3)
    assert got is Verdict.INSUFFICIENT_DATA


def test_ranking_prefers_what_worked() -> None:
    """Exercises rank by mean Δln(RMSSD); untried (0) above harmful; ties keep rule order."""
    ladder = ("resonance", "box", "sigh", "4-7-8")
    history = {"resonance": (-0.2, -0.1), "sigh": (0.3,), "4-7-8": (0.0,)}
    assert rank_exercises(ladder, history) == ("sigh", "box", "4-7-8", "resonance")
    assert rank_exercises(ladder, {}) == ladder


def test_escalation_walks_the_ladder_and_lengthens() -> None:
    """Each unhelpful try moves to the next-ranked exercise, up to double length."""
    ladder = ("resonance", "box")
    assert choose_exercise(ladder, {}, 0) == ("resonance", 1.0)
    assert choose_exercise(ladder, {}, 1) == ("box", 1.5)
    assert choose_exercise(ladder, {}, 5) == ("box", 2.0)
