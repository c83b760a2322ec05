"""Beat timing: RR placed on the wall clock within 50 ms, gaps flagged, no RR invented."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hrv import BeatBatch
from ingest.hrm import RR_UNIT_MS, HeartRateMeasurement, decode
from ingest.timing import NO_RR_MESSAGE, BeatClock, concat_beats, time_notifications
from tests.ingest.replay import START_S, Replay, load_rr_ms, silence, strap_replay


def place(clock: BeatClock, notifications: list[tuple[float, bytes]]) -> BeatBatch:
    """All beats ``clock`` places for ``notifications``, flushed at the end."""
    arrivals = [a for a, _ in notifications]
    beats, _ = time_notifications(clock, arrivals, [decode(p) for _, p in notifications])
    return beats


def timing_errors_s(beats: BeatBatch, replay: Replay) -> np.ndarray:
    """Placed minus true time of each beat, after checking each placed beat is the true one."""
    nearest = np.abs(beats.t_s[:, None] - replay.beat_t_s[None, :]).argmin(axis=1)
    np.testing.assert_array_equal(beats.rr_ms, replay.rr_ms[nearest])
    return np.asarray(beats.t_s - replay.beat_t_s[nearest])


@pytest.fixture
def five_min(data_dir: Path) -> Replay:
    """The 5-minute recording as a strap's notifications."""
    return strap_replay(load_rr_ms(data_dir / "pyhrv_short_5min.csv"))


def test_steady_stream_places_every_beat_within_50_ms(five_min: Replay) -> None:
    """Without gaps every beat comes out once, in order, with its RR, within 50 ms, no gap."""
    beats = place(BeatClock("strap"), five_min.notifications)
    assert len(beats) == five_min.rr_ms.size
    np.testing.assert_array_equal(beats.rr_ms, five_min.rr_ms)
    assert np.abs(beats.t_s - five_min.beat_t_s).max() < 0.05
    assert not beats.gap.any()
    assert np.all(np.diff(beats.t_s) > 0)


def test_new_segment_holds_beats_until_the_bracket_settles(five_min: Replay) -> None:
    """The first notification's beats are held (placing them at arrival would be up to 1 s off)."""
    clock = BeatClock("strap")
    first = clock.feed(*_decoded(five_min.notifications[0]))
    assert len(first.beats) == 0
    placed = sum(len(clock.feed(*_decoded(n)).beats) for n in five_min.notifications[1:40])
    assert placed > 0


def test_disconnect_flags_the_next_beat_and_reanchors(five_min: Replay) -> None:
    """mark_gap (a disconnect) sets gap=True on the first beat after it; timing stays < 50 ms."""
    clock = BeatClock("strap")
    notes = five_min.notifications
    cut = START_S + 120
    before = [n for n in notes if n[0] < cut]
    after = [n for n in notes if n[0] >= cut + 8]
    parts = [place_stream(clock, before), clock.mark_gap(), place_stream(clock, after)]
    beats = concat_beats("strap", [*parts, clock.flush()])
    assert beats.gap.sum() == 1
    first_after = int(np.flatnonzero(beats.gap)[0])
    assert beats.t_s[first_after] > cut + 7
    assert np.abs(timing_errors_s(beats, five_min)).max() < 0.05


def test_silence_longer_than_max_silence_is_a_gap(five_min: Replay) -> None:
    """Five seconds without notifications end the segment: exactly one beat is flagged."""
    beats = place(BeatClock("strap"), silence(five_min, 100, 5))
    assert beats.gap.sum() == 1
    assert np.abs(timing_errors_s(beats, five_min)).max() < 0.05


def test_one_lost_notification_is_detected_from_the_bounds(five_min: Replay) -> None:
    """A single lost notification (1 s, under max_silence_s) is found by the lower bound."""
    notes = five_min.notifications
    lost = next(i for i in range(150, 200) if decode(notes[i][1]).rr_ms)
    beats = place(BeatClock("strap"), notes[:lost] + notes[lost + 1 :])
    assert beats.gap.sum() == 1
    assert len(beats) == five_min.rr_ms.size - len(decode(notes[lost][1]).rr_ms)
    assert np.abs(timing_errors_s(beats, five_min)).max() < 0.05


def test_lost_contact_drops_rr_and_flags_a_gap(five_min: Replay) -> None:
    """RR sent without skin contact are dropped and counted; the next beat is flagged."""
    clock = BeatClock("strap")
    notes = [
        (a, bytes([p[0] & ~0x02]) + p[1:]) if START_S + 60 <= a < START_S + 63 else (a, p)
        for a, p in five_min.notifications
    ]
    arrivals = [a for a, _ in notes]
    beats, hr = time_notifications(clock, arrivals, [decode(p) for _, p in notes])
    assert len(hr) == len(notes) - sum(START_S + 60 <= a < START_S + 63 for a in arrivals)
    assert clock.dropped_no_contact > 0
    assert len(beats) + clock.dropped_no_contact == five_min.rr_ms.size
    assert beats.gap.sum() == 1


def test_hr_only_device_never_gets_rr() -> None:
    """A sensor that never sends RR yields HR samples, no beats, and HRV unavailable."""
    clock = BeatClock("watch")
    steps = [
        clock.feed(START_S + i, HeartRateMeasurement(hr_bpm=70 + i % 3, sensor_contact=True))
        for i in range(30)
    ]
    assert all(len(s.beats) == 0 for s in steps)
    assert all(s.hrv_unavailable for s in steps)
    assert [float(s.hr.hr_bpm[0]) for s in steps[:3]] == [70.0, 71.0, 72.0]
    assert NO_RR_MESSAGE == "no RR: HRV unavailable"


def test_strap_clock_drift_is_followed_over_an_hour(data_dir: Path) -> None:
    """A strap clock 100 ppm fast stays within 50 ms over 60 minutes; summing RR alone does not."""
    replay = strap_replay(load_rr_ms(data_dir / "pyhrv_long_60min.csv"), strap_clock_rate=1.0001)
    beats = place(BeatClock("strap"), replay.notifications)
    assert not beats.gap.any()
    assert np.abs(beats.t_s - replay.beat_t_s).max() < 0.05
    summed_s = replay.beat_t_s[0] + np.cumsum(beats.rr_ms[1:]) / 1000
    assert np.abs(summed_s - replay.beat_t_s[1:]).max() > 0.3


def test_constructor_rejects_nonsense() -> None:
    """Non-positive options and an empty device name are refused with the option's name."""
    with pytest.raises(ValueError, match="settle_width_s"):
        BeatClock("strap", settle_width_s=0)
    with pytest.raises(ValueError, match="device"):
        BeatClock("")


def place_stream(clock: BeatClock, notes: list[tuple[float, bytes]]) -> BeatBatch:
    """Beats placed while feeding ``notes`` one by one (no flush)."""
    return concat_beats(clock.device, [clock.feed(*_decoded(n)).beats for n in notes])


def _decoded(note: tuple[float, bytes]) -> tuple[float, HeartRateMeasurement]:
    return note[0], decode(note[1])


@settings(max_examples=40, deadline=None)
@given(
    period_s=st.floats(min_value=0.5, max_value=2.0),
    seed=st.integers(min_value=0, max_value=2**16),
    cuts=st.lists(st.integers(min_value=1, max_value=290), max_size=4, unique=True),
)
def test_every_beat_comes_out_once_in_order(
    short_rr_ms: np.ndarray, period_s: float, seed: int, cuts: list[int]
) -> None:
    """Whatever the notification period and wherever the caller marks gaps, each RR comes out
    exactly once and in order, times rise within each segment, and each marked gap is flagged."""
    replay = strap_replay(short_rr_ms, period_s=period_s, seed=seed)
    clock = BeatClock("strap")
    parts = []
    for i, note in enumerate(replay.notifications):
        if i in cuts:
            parts.append(clock.mark_gap())
        parts.append(clock.feed(*_decoded(note)).beats)
    beats = concat_beats("strap", [*parts, clock.flush()])
    np.testing.assert_array_equal(beats.rr_ms, replay.rr_ms)
    segment = np.cumsum(beats.gap)
    rising = np.diff(beats.t_s) > 0
    assert np.all(rising | (np.diff(segment) > 0))
    beats_before = np.cumsum([0] + [len(decode(p).rr_ms) for _, p in replay.notifications])
    holes = {int(beats_before[i]) for i in cuts if i < len(replay.notifications)}
    assert int(beats.gap.sum()) == len(holes - {0, int(beats_before[-1])})


@pytest.fixture(scope="module")
def short_rr_ms() -> np.ndarray:
    """RR of the 5-minute recording, whole 1/1024 s units."""
    return load_rr_ms(Path(__file__).parents[1] / "data" / "pyhrv_short_5min.csv")


def test_premature_beats_and_compensatory_pauses_are_not_gaps() -> None:
    """Ectopic beats (60 % RR, then a 140 % pause) every 15 beats: no false gap, all < 50 ms."""
    rr_units = np.full(400, 922.0)
    rr_units[15::15] = 553.0
    rr_units[16::15] = 1291.0
    replay = strap_replay(rr_units * RR_UNIT_MS)
    beats = place(BeatClock("strap"), replay.notifications)
    assert not beats.gap.any()
    assert np.abs(beats.t_s - replay.beat_t_s).max() < 0.05
