"""The exercise catalog: phase patterns, rates and the personal resonance rate."""

from __future__ import annotations

import pytest

from recommender import BOX, FOUR_SEVEN_EIGHT, PHYSIOLOGICAL_SIGH, PhaseKind, catalog, resonance


def test_default_resonance_is_five_and_a_half_seconds_each_way() -> None:
    """The catalog's resonance breathing is 5.5 s in / 5.5 s out (~5.45 breaths/min)."""
    ex = catalog()["resonance"]
    assert [p.kind for p in ex.phases] == [PhaseKind.INHALE, PhaseKind.EXHALE]
    assert [p.duration_s for p in ex.phases] == pytest.approx([5.5, 5.5])
    assert ex.breaths_per_min == pytest.approx(60 / 11)


@pytest.mark.parametrize("rate", [4.5, 6.0, 7.0])
def test_personal_resonance_rate(rate: float) -> None:
    """A personal rate sets equal halves of 30 / rate seconds."""
    ex = resonance(rate)
    assert ex.breaths_per_min == pytest.approx(rate)
    assert ex.phases[0].duration_s == pytest.approx(30 / rate)


@pytest.mark.parametrize("rate", [4.4, 7.1])
def test_resonance_rate_out_of_range(rate: float) -> None:
    """Rates outside 4.5-7 breaths/min are refused."""
    with pytest.raises(ValueError, match=r"4\.5-7"):
        resonance(rate)


def test_fixed_patterns() -> None:
    """Box is 4-4-4-4 (3.75/min), 4-7-8 is 19 s a cycle, the sigh is a double inhale."""
    assert [p.duration_s for p in BOX.phases] == [4, 4, 4, 4]
    assert BOX.breaths_per_min == pytest.approx(3.75)
    assert [p.duration_s for p in FOUR_SEVEN_EIGHT.phases] == [4, 7, 8]
    assert [p.kind for p in PHYSIOLOGICAL_SIGH.phases] == [
        PhaseKind.INHALE,
        PhaseKind.INHALE,
        PhaseKind.EXHALE,
    ]
    assert set(catalog()) == {"resonance", "box", "4-7-8", "sigh"}


def test_lengthened_keeps_pattern() -> None:
    """Escalation lengthens an exercise without changing its pace."""
    longer = BOX.lengthened(1.5)
    assert longer.duration_s == pytest.approx(360)
    assert longer.phases == BOX.phases
