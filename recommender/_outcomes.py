"""Judging an exercise by its outcome, and preferring the exercises that work for a person.

Method (deterministic): an outcome compares the mean ln(RMSSD) and mean HR
of the valid windows in the minutes before a trigger with those in the
minutes after it. ln(RMSSD) is the vagal marker of choice for short
recordings (Task Force of the ESC/NASPE, Circulation 93:1043, 1996; Plews et
al., Sports Med. 43:773, 2013). A change of 0.1 in ln(RMSSD) is about a 10 %
change in RMSSD, above its typical short-term variation (Plews 2013 put the
smallest worthwhile change near 0.5 × its coefficient of variation); 3 bpm is
this project's threshold for a meaningful HR drop.

Preference: each exercise scores the mean Δln(RMSSD) of its last judged
outcomes for this person (0 when it has none, so untried exercises rank
above ones that made things worse); a rule's exercises are ranked by score,
ties kept in the rule's own order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from recommender._records import Verdict

IMPROVED_DELTA_LN_RMSSD = 0.1
WORSE_DELTA_LN_RMSSD = -0.1
IMPROVED_DELTA_HR_BPM = -3.0


def judge(
    *, delta_ln_rmssd: float, delta_hr_bpm: float, n_before: int, n_after: int, min_windows: int
) -> Verdict:
    """Verdict of one outcome from its before/after differences (thresholds in module doc)."""
    if n_before < min_windows or n_after < min_windows:
        return Verdict.INSUFFICIENT_DATA
    if delta_ln_rmssd >= IMPROVED_DELTA_LN_RMSSD or (
        delta_ln_rmssd >= 0 and delta_hr_bpm <= IMPROVED_DELTA_HR_BPM
    ):
        return Verdict.IMPROVED
    if delta_ln_rmssd <= WORSE_DELTA_LN_RMSSD:
        return Verdict.WORSE
    return Verdict.NO_CHANGE


def exercise_score(deltas: Sequence[float]) -> float:
    """Mean Δln(RMSSD) of an exercise's judged outcomes; 0 (neutral) without any."""
    return sum(deltas) / len(deltas) if deltas else 0.0


def rank_exercises(
    ladder: Sequence[str], history: Mapping[str, Sequence[float]]
) -> tuple[str, ...]:
    """``ladder`` ordered best first by `exercise_score`, ties in ladder order."""
    order = sorted(
        range(len(ladder)), key=lambda i: (-exercise_score(history.get(ladder[i], ())), i)
    )
    return tuple(ladder[i] for i in order)


def choose_exercise(
    ladder: Sequence[str], history: Mapping[str, Sequence[float]], escalation: int
) -> tuple[str, float]:
    """Exercise id and duration factor for a rule at ``escalation`` (unhelpful tries in a row).

    Escalation walks down the ranked ladder (a different exercise) and
    lengthens it by half per level, at most double.
    """
    ranked = rank_exercises(ladder, history)
    level = max(escalation, 0)
    return ranked[min(level, len(ranked) - 1)], 1.0 + 0.5 * min(level, 2)
