"""The condition language: parsing, evaluation, NaN handling and errors."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from recommender import ConditionSyntaxError, Op, parse_condition
from recommender._conditions import NUMERIC_FIELDS
from tests.recommender.windows import window


def test_parses_field_comparison() -> None:
    """``stress >= 70`` becomes a comparison of one field with a threshold."""
    cond = parse_condition("stress >= 70")
    assert (cond.left, cond.right, cond.op, cond.threshold) == ("stress", None, Op.GE, 70.0)
    assert cond.holds(window(0, 70.0))
    assert not cond.holds(window(0, 69.9))


def test_parses_difference_of_fields() -> None:
    """``hr_bpm - baseline_hr_bpm >= 15`` compares a difference of two fields."""
    cond = parse_condition("hr_bpm - baseline_hr_bpm >= 15")
    assert cond.term == "hr_bpm - baseline_hr_bpm"
    assert cond.holds(window(0, 0, hr_bpm=80.0, baseline_hr_bpm=65.0))
    assert not cond.holds(window(0, 0, hr_bpm=79.0, baseline_hr_bpm=65.0))


def test_negative_thresholds_and_strict_operators() -> None:
    """``ln_rmssd_z <= -1.5`` and ``<`` parse with signed numbers."""
    assert parse_condition("ln_rmssd_z <= -1.5").holds(window(0, 0, ln_rmssd_z=-1.5))
    assert not parse_condition("ln_rmssd_z < -1.5").holds(window(0, 0, ln_rmssd_z=-1.5))


def test_nan_figure_never_satisfies() -> None:
    """A missing baseline (NaN) makes both a condition and its opposite false."""
    w = window(0, 50.0)
    assert not parse_condition("ln_rmssd_z <= 0").holds(w)
    assert not parse_condition("ln_rmssd_z > 0").holds(w)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("stress => 70", "expected"),
        ("__import__('os') >= 1", "expected"),
        ("stres >= 70", "unknown field 'stres'"),
        ("stress >= 70 and hr_bpm > 1", "expected"),
        ("quality >= 1", "unknown field 'quality'"),
        ("stress >= inf", "expected"),
    ],
)
def test_rejects_what_is_not_a_condition(text: str, message: str) -> None:
    """Anything outside the grammar raises with a message saying what is expected."""
    with pytest.raises(ConditionSyntaxError, match=message):
        parse_condition(text)


@given(
    left=st.sampled_from(sorted(NUMERIC_FIELDS)),
    right=st.none() | st.sampled_from(sorted(NUMERIC_FIELDS)),
    op=st.sampled_from(list(Op)),
    threshold=st.floats(-1e6, 1e6, allow_nan=False),
)
def test_round_trips_through_text(left: str, right: str | None, op: Op, threshold: float) -> None:
    """Printing a condition and parsing it back gives the same condition."""
    text = f"{left}{'' if right is None else ' - ' + right} {op} {threshold!r}"
    cond = parse_condition(text)
    again = parse_condition(f"{cond.term} {cond.op} {cond.threshold!r}")
    assert again == cond
    assert math.isclose(cond.threshold, threshold)
