"""RR sent in ms instead of 1/1024 s: the block ratio, the decision, the correction."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.hrm import RR_UNIT_MS, HeartRateMeasurement
from ingest.rr_units import BLOCK, HISTORY, MS_RATIO, RrUnit, RrUnitCheck, block_ratio
from simulators import simulate
from simulators.scenario import Scenario
from simulators.wearable import wearable_trace

DECIDED_BY = HISTORY + 3 * BLOCK
"""Notifications within which a clean strap is decided (two blocks, one spare)."""


def strap_notifications(
    rr_ms: np.ndarray,
    counts: np.ndarray,
    *,
    average: int,
    ema: bool,
    truncate: bool,
    in_ms: bool,
) -> list[HeartRateMeasurement]:
    """What a strap sends for these beats (``counts`` per notification): its HR field over a
    box (or exponential) average of ``average`` RR, rounded (or truncated); RR on the wire in
    1/1024 s, or in ms when ``in_ms``, decoded as 1/1024 s either way."""
    if ema:
        smooth, alpha, level = np.empty_like(rr_ms), 2.0 / (average + 1), float(rr_ms[0])
        for j, rr in enumerate(rr_ms):
            level = alpha * rr + (1 - alpha) * level
            smooth[j] = level
    else:
        smooth = np.convolve(rr_ms, np.ones(average) / average)[: rr_ms.size]
        smooth[: average - 1] = rr_ms[: average - 1]
    rounding = np.floor if truncate else np.round
    wire = np.round(rr_ms) if in_ms else np.round(rr_ms / RR_UNIT_MS)
    out, end = [], 0
    for count in counts.tolist():
        if not count:
            continue
        end += count
        out.append(
            HeartRateMeasurement(
                hr_bpm=int(rounding(60000.0 / smooth[end - 1])),
                sensor_contact=True,
                rr_ms=tuple((wire[end - count : end] * RR_UNIT_MS).tolist()),
            )
        )
    return out


@st.composite
def people(draw: st.DrawFn) -> Scenario:
    """Five minutes of one person: any resting to brisk heart rate, low to high HRV."""
    hr_bpm = draw(st.floats(45, 150))
    return Scenario.model_validate(
        {
            "name": "units",
            "seed": draw(st.integers(0, 2**32 - 1)),
            "artifacts": {"rate": draw(st.sampled_from([0.0, 0.01]))},
            "segments": [
                {
                    "state": draw(st.sampled_from(["calm", "stress", "breathing"])),
                    "duration_min": 5,
                    "hr_bpm": hr_bpm,
                    "rmssd_ms": draw(st.floats(8, 100)),
                    "breathing_hz": min(draw(st.floats(0.1, 0.4)), hr_bpm / 120 - 0.05),
                }
            ],
        }
    )


@settings(max_examples=100, deadline=None)
@given(
    person=people(),
    average=st.integers(1, 10),
    ema=st.booleans(),
    truncate=st.booleans(),
    in_ms=st.booleans(),
)
def test_the_unit_is_found_whatever_the_strap_averages_and_rounds(
    person: Scenario, average: int, ema: bool, truncate: bool, in_ms: bool
) -> None:
    """For any person (45-150 bpm, RMSSD 8-100 ms, some artifacts) and any strap averaging of
    1-10 RR (box or exponential, rounded or truncated to whole bpm), the unit is never the
    wrong one. It is decided within five minutes (within `DECIDED_BY` notifications for a
    rounded box average) for ms above 62 bpm and for 1/1024 s with rounded heart rates; a
    truncated or ms heart rate at 45-60 bpm may leave it undecided (`TRUNCATION_MARGIN`)."""
    sim = simulate(person, seed=person.seed)
    trace = wearable_trace(sim, person.device, np.random.default_rng(person.seed))
    sent = strap_notifications(
        sim.rr_ms, trace.rr_count, average=average, ema=ema, truncate=truncate, in_ms=in_ms
    )
    right = RrUnit.MILLISECONDS if in_ms else RrUnit.UNITS_1024
    hr_bpm = person.segments[0].hr_bpm or 0.0
    check = RrUnitCheck()
    for i, m in enumerate(sent):
        check.take(m)
        assert check.unit in (RrUnit.UNKNOWN, right), check.ratios
        if i + 1 == DECIDED_BY and not (ema or truncate) and hr_bpm >= 62:
            assert check.unit is right, check.ratios
    if (in_ms and hr_bpm >= 62) or not (in_ms or truncate):
        assert check.unit is right, check.ratios


def test_a_box_average_without_rounding_gives_exactly_one_or_the_ms_ratio() -> None:
    """HR fields that are exactly 60000 over the mean of the last 4 RR: ratio 1, and
    1000/1024 with the RR scaled as ms-read-as-1/1024 would scale them."""
    rng = np.random.default_rng(1)
    rr = 800 + 80 * np.sin(np.arange(200) / 3) + rng.normal(0, 20, 200)
    trailing = np.lib.stride_tricks.sliding_window_view(rr, HISTORY)
    hr = 60000.0 / trailing[:, -4:].mean(axis=1)
    assert block_ratio(hr, trailing) == pytest.approx(1.0, abs=1e-12)
    assert block_ratio(hr, trailing * MS_RATIO) == pytest.approx(MS_RATIO, abs=1e-12)


def test_block_ratio_refuses_mismatched_arrays() -> None:
    """N heart rates need N rows of `HISTORY` RR."""
    with pytest.raises(ValueError, match="block_ratio"):
        block_ratio(np.ones(3), np.ones((3, HISTORY - 1)))
    with pytest.raises(ValueError, match="block_ratio"):
        block_ratio(np.ones(0), np.ones((0, HISTORY)))


def steady(n: int, *, in_ms: bool) -> list[HeartRateMeasurement]:
    """``n`` notifications of one beat at 75 bpm (RR 800 ms), RR in 1/1024 s or ms."""
    wire = 800 if in_ms else 800 / RR_UNIT_MS
    return [
        HeartRateMeasurement(hr_bpm=75, sensor_contact=True, rr_ms=(round(wire) * RR_UNIT_MS,))
    ] * n


def test_ms_are_corrected_from_the_decision_on_and_nothing_else_changes() -> None:
    """Before the decision RR pass as decoded; from the notification that decides, each RR
    is the strap's ms value exactly, and heart rate, contact and energy are untouched."""
    check = RrUnitCheck()
    out = [check.take(m) for m in steady(DECIDED_BY, in_ms=True)]
    decided = HISTORY - 2 + 2 * BLOCK  # counted once HISTORY RR are in; the 60th decides
    assert check.unit is RrUnit.MILLISECONDS
    assert [m.rr_ms for m in out[:decided]] == [(800 * RR_UNIT_MS,)] * decided
    assert [m.rr_ms for m in out[decided:]] == [(800.0,)] * (DECIDED_BY - decided)
    assert {(m.hr_bpm, m.sensor_contact, m.energy_kj) for m in out} == {(75, True, None)}
    assert check.corrected_rr == DECIDED_BY - decided


def test_right_units_pass_unchanged() -> None:
    """RR in 1/1024 s are decided as such and never changed."""
    check = RrUnitCheck()
    sent = steady(DECIDED_BY, in_ms=False)
    assert [check.take(m) for m in sent] == sent
    assert check.unit is RrUnit.UNITS_1024
    assert check.corrected_rr == 0


def test_no_decision_from_nothing() -> None:
    """Notifications without RR, without contact or with HR 0 decide nothing and pass."""
    check = RrUnitCheck()
    rr = (800 * RR_UNIT_MS,)
    sent = [
        *[HeartRateMeasurement(hr_bpm=75)] * 200,
        *[HeartRateMeasurement(hr_bpm=75, sensor_contact=False, rr_ms=rr)] * 200,
        *[HeartRateMeasurement(hr_bpm=0, rr_ms=rr)] * 200,
    ]
    assert [check.take(m) for m in sent] == sent
    assert check.unit is RrUnit.UNKNOWN
    assert check.ratios == []


def test_a_ratio_between_the_bands_decides_nothing() -> None:
    """A strap whose RR say 1.5 % less than its HR field (ratio 0.985) matches neither unit."""
    check = RrUnitCheck()
    for _ in range(DECIDED_BY * 2):
        check.take(HeartRateMeasurement(hr_bpm=75, rr_ms=(788.0,)))
    assert check.unit is RrUnit.UNKNOWN
    assert len(check.ratios) >= 4


def test_a_disconnect_restarts_the_trailing_rr() -> None:
    """After `link_down` the trailing RR fill again before a notification counts."""
    check = RrUnitCheck()
    for m in steady(HISTORY + BLOCK - 2, in_ms=True):  # one short of a block
        check.take(m)
    check.link_down()
    for m in steady(HISTORY - 1, in_ms=True):
        check.take(m)
    assert check.ratios == []
    check.take(steady(1, in_ms=True)[0])
    assert len(check.ratios) == 1
