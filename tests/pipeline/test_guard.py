"""The input guard: every drop reason, gap flags and segments, on small literal batches."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hrv import RR_MAX_MS, RR_MIN_MS, BeatBatch
from vagus.events import BeatColumns
from vagus.pipeline import (
    GAP_TOLERANCE_S,
    MAX_FUTURE_S,
    MAX_JUMP_S,
    MAX_TIME_S,
    MIN_SPACING_S,
    Guarded,
    InputGuard,
    Reject,
)
from vagus.pipeline._guard import _Track

DEV = "C0:FF:EE:00:00:01"
NOW = 10_000.0
nan, inf = math.nan, math.inf


def beats(t: list[float], rr: list[float | None], gap: list[bool] | None = None) -> BeatBatch:
    """A batch of literal beats (``None`` RR becomes NaN, as numpy makes it)."""
    return BeatBatch(
        device=DEV,
        t_s=np.array(t, np.float64),
        rr_ms=np.array(rr, np.float64),
        gap=np.array(gap if gap is not None else [False] * len(t), np.bool_),
    )


def kept(g: Guarded) -> list[tuple[list[float], list[float], list[bool], bool]]:
    """Every kept segment as plain lists: (times, RR, gap flags, starts a new segment)."""
    return [
        (s.beats.t_s.tolist(), s.beats.rr_ms.tolist(), s.beats.gap.tolist(), s.new)
        for s in g.segments
    ]


def primed(t: list[float], rr: list[float]) -> InputGuard:
    """A guard that has already kept the beats ``t`` (clean, one batch)."""
    guard = InputGuard()
    first = guard.check(beats(t, rr), now=NOW)
    assert first.kept == len(t)
    assert not first.dropped
    return guard


def test_clean_batch_is_kept_whole() -> None:
    """Four beats 0.8 s apart with RR 800 ms: all kept in one segment, no flags, nothing dropped."""
    g = InputGuard().check(beats([1.0, 1.8, 2.6, 3.4], [800.0] * 4), now=NOW)
    assert kept(g) == [([1.0, 1.8, 2.6, 3.4], [800.0] * 4, [False] * 4, False)]
    assert g.dropped == {}
    assert g.kept == 4


def test_empty_batch_gives_nothing() -> None:
    """A batch without beats keeps and drops nothing, and leaves no trace."""
    guard = InputGuard()
    g = guard.check(beats([], []), now=NOW)
    assert (g.segments, g.dropped) == ((), {})
    assert guard.last_beat_s() == {}


def test_sender_gap_flags_pass_through() -> None:
    """A gap flag the sender set on a beat stays set on the kept beat."""
    g = InputGuard().check(beats([1.0, 1.8, 2.6], [800.0] * 3, [False, True, False]), now=NOW)
    assert kept(g)[0][2] == [False, True, False]


def test_redelivered_batch_is_all_duplicates() -> None:
    """The same batch twice (a QoS 1 redelivery): the second time every beat is a duplicate."""
    guard = primed([1.0, 1.8, 2.6], [800.0] * 3)
    g = guard.check(beats([1.0, 1.8, 2.6], [800.0] * 3), now=NOW)
    assert g.segments == ()
    assert g.dropped == {Reject.DUPLICATE: 3}
    assert guard.last_beat_s() == {DEV: 2.6}


def test_overlap_keeps_only_the_new_beats() -> None:
    """[1.0 1.8 2.6] then [1.8 2.6 3.4 4.2]: the two seen beats are duplicates, 3.4 and 4.2 kept
    without a gap flag (they follow the last kept beat at their RR)."""
    guard = primed([1.0, 1.8, 2.6], [800.0] * 3)
    g = guard.check(beats([1.8, 2.6, 3.4, 4.2], [800.0] * 4), now=NOW)
    assert kept(g) == [([3.4, 4.2], [800.0, 800.0], [False, False], False)]
    assert g.dropped == {Reject.DUPLICATE: 2}


def test_out_of_order_beat_is_dropped_as_duplicate() -> None:
    """[1.0 2.6 1.8 3.4]: 1.8 comes after 2.6 was kept, so it is dropped; the rest is kept."""
    g = InputGuard().check(beats([1.0, 2.6, 1.8, 3.4], [800.0] * 4), now=NOW)
    # 2.6 follows 1.0 by 1.6 s with an RR of 0.8 s: within the 1 s tolerance, no gap.
    assert kept(g) == [([1.0, 2.6, 3.4], [800.0] * 3, [False] * 3, False)]
    assert g.dropped == {Reject.DUPLICATE: 1}


def test_same_time_twice_in_one_batch_is_a_duplicate() -> None:
    """A beat repeated inside one batch (a repeated notification) is kept once."""
    g = InputGuard().check(beats([1.0, 1.8, 1.8, 2.6], [800.0] * 4), now=NOW)
    assert kept(g) == [([1.0, 1.8, 2.6], [800.0] * 3, [False] * 3, False)]
    assert g.dropped == {Reject.DUPLICATE: 1}


@pytest.mark.parametrize("bad", [nan, inf, -inf, None, 0.0, -800.0, 150.0, 3500.0, 1e300])
def test_rr_out_of_range_is_dropped_and_flags_a_gap(bad: float | None) -> None:
    """RR NaN, ±inf, None (NaN), 0, negative, 150 or 3500 ms: the beat is dropped and the next
    kept beat carries a gap flag (0.8 s steps, so the flag is not the late-beat rule's)."""
    g = InputGuard().check(beats([0.8, 1.6, 2.4, 3.2], [800.0, bad, 800.0, 800.0]), now=NOW)
    assert kept(g) == [([0.8, 2.4, 3.2], [800.0] * 3, [False, True, False], False)]
    assert g.dropped == {Reject.RR_OUT_OF_RANGE: 1}


def test_rr_at_the_clipping_limits_is_kept() -> None:
    """RR exactly `RR_MIN_MS` (200) and `RR_MAX_MS` (3000) are in range."""
    g = InputGuard().check(beats([1.0, 4.0, 4.2], [800.0, RR_MAX_MS, RR_MIN_MS]), now=NOW)
    assert g.dropped == {}
    assert kept(g)[0][1] == [800.0, 3000.0, 200.0]


def test_bad_rr_at_a_batch_end_flags_the_next_batch() -> None:
    """A dropped last beat leaves its gap pending: the next batch's first beat is flagged."""
    guard = InputGuard()
    guard.check(beats([0.8, 1.6], [800.0, nan]), now=NOW)
    g = guard.check(beats([2.4, 3.2], [800.0, 800.0]), now=NOW)
    assert kept(g) == [([2.4, 3.2], [800.0, 800.0], [True, False], False)]


@pytest.mark.parametrize("bad", [nan, inf, -inf, -1e300, -2 * MAX_TIME_S, 1e300])
def test_bad_time_is_dropped(bad: float) -> None:
    """A beat at time NaN, ±inf or beyond ±`MAX_TIME_S` (the engine's int64 window numbers
    would overflow: it emitted a window at -4.6e19 s) is dropped as ``bad_time``; its
    neighbours are kept."""
    g = InputGuard().check(beats([0.8, bad, 1.6], [800.0, 800.0, 800.0]), now=NOW)
    assert kept(g) == [([0.8, 1.6], [800.0, 800.0], [False, False], False)]
    assert g.dropped == {Reject.BAD_TIME: 1}


def test_times_up_to_max_time_are_kept() -> None:
    """A beat at exactly -`MAX_TIME_S` is a time (a recording's odd origin), not a bad one."""
    g = InputGuard().check(beats([-MAX_TIME_S], [800.0]), now=NOW)
    assert g.kept == 1


def test_nan_time_is_checked_before_rr() -> None:
    """A beat with both time and RR NaN counts once, as ``bad_time``."""
    g = InputGuard().check(beats([nan, 0.8], [nan, 800.0]), now=NOW)
    assert g.dropped == {Reject.BAD_TIME: 1}


def test_beat_far_in_the_future_is_dropped_and_flags_a_gap() -> None:
    """A beat later than ``now + MAX_FUTURE_S`` is dropped; the next kept beat is flagged.
    ``now + MAX_FUTURE_S`` itself is not in the future."""
    edge = NOW + MAX_FUTURE_S
    guard = primed([edge - 1.6, edge - 0.8], [800.0, 800.0])
    g = guard.check(beats([edge + 0.5, edge], [800.0, 800.0]), now=NOW)
    assert kept(g) == [([edge], [800.0], [True], False)]
    assert g.dropped == {Reject.FUTURE: 1}


def test_a_far_future_sender_clock_is_dropped_whole() -> None:
    """A sender whose clock is a day ahead gets nothing in, and leaves the guard's state alone."""
    guard = primed([1.0, 1.8], [800.0, 800.0])
    g = guard.check(beats([NOW + 86400.0, NOW + 86400.8], [800.0, 800.0]), now=NOW)
    assert g.segments == ()
    assert g.dropped == {Reject.FUTURE: 2}
    assert guard.last_beat_s() == {DEV: 1.8}


def test_sixty_thousand_beats_in_a_minute_are_too_dense() -> None:
    """60,000 beats 1 ms apart: kept beats are at least `MIN_SPACING_S` apart (at most one per
    0.199 s, about 302), the rest are ``too_dense``; nothing else is counted."""
    t = 1.7e9 + np.arange(60_000) / 1000.0
    g = InputGuard().check(BeatBatch(device=DEV, t_s=t, rr_ms=np.full(t.size, 800.0)), now=2e9)
    (segment,) = g.segments
    steps = np.diff(segment.beats.t_s)
    assert (steps >= MIN_SPACING_S).all()
    assert g.kept <= 60.0 / MIN_SPACING_S + 1
    assert g.kept >= 60.0 / (MIN_SPACING_S + 0.001) - 1  # greedy: every first beat past 0.199 s
    assert g.dropped == {Reject.TOO_DENSE: 60_000 - g.kept}
    assert not segment.beats.gap.any()


def test_too_dense_beat_just_below_the_spacing() -> None:
    """A beat 0.198 s after the last kept one is dropped; one 0.2 s after is kept."""
    g = InputGuard().check(beats([1.0, 1.198, 1.2], [800.0, 200.0, 200.0]), now=NOW)
    assert kept(g) == [([1.0, 1.2], [800.0, 200.0], [False, False], False)]
    assert g.dropped == {Reject.TOO_DENSE: 1}


def test_late_beat_is_flagged_as_a_gap() -> None:
    """A beat 2.5 s after the last with RR 1000 ms (more than RR + `GAP_TOLERANCE_S` later)
    has beats missing before it; 2.0 s after (exactly RR + 1 s) does not."""
    assert GAP_TOLERANCE_S == 1.0
    g = InputGuard().check(beats([1.0, 3.0, 5.5, 6.5], [1000.0] * 4), now=NOW)
    assert kept(g) == [([1.0, 3.0, 5.5, 6.5], [1000.0] * 4, [False, False, True, False], False)]


def test_late_first_beat_of_a_batch_is_flagged() -> None:
    """Late is judged against the previous batch's last beat too."""
    guard = primed([1.0, 2.0], [1000.0, 1000.0])
    g = guard.check(beats([10.0, 11.0], [1000.0, 1000.0]), now=NOW)
    assert kept(g) == [([10.0, 11.0], [1000.0, 1000.0], [True, False], False)]


def test_forward_jump_starts_a_new_segment() -> None:
    """A beat more than `MAX_JUMP_S` after the last starts a new segment with a gap flag;
    exactly `MAX_JUMP_S` later does not start one."""
    g = InputGuard().check(
        beats([1.0, 1.0 + MAX_JUMP_S, 2.0 + 2 * MAX_JUMP_S, 2.8 + 2 * MAX_JUMP_S], [800.0] * 4),
        now=NOW,
    )
    assert kept(g) == [
        ([1.0, 601.0], [800.0] * 2, [False, True], False),  # 601.0: late, not a jump
        ([1202.0, 1202.8], [800.0] * 2, [True, False], True),
    ]
    assert g.dropped == {}


def test_backward_clock_step_starts_a_new_segment() -> None:
    """The host clock stepped back by more than `MAX_JUMP_S`: its beats are kept, as a new
    segment, not dropped as duplicates; a step back of exactly `MAX_JUMP_S` is a duplicate."""
    guard = primed([5000.0, 5000.8], [800.0, 800.0])
    same = guard.check(beats([5000.8 - MAX_JUMP_S], [800.0]), now=NOW)
    assert same.dropped == {Reject.DUPLICATE: 1}
    g = guard.check(beats([100.0, 100.8], [800.0, 800.0]), now=NOW)
    assert kept(g) == [([100.0, 100.8], [800.0] * 2, [True, False], True)]
    assert guard.last_beat_s() == {DEV: 100.8}


def test_jump_inside_a_batch_splits_it() -> None:
    """One batch with a jump back in the middle: two segments, the second marked new."""
    guard = primed([5000.0], [800.0])
    g = guard.check(beats([5000.8, 5001.6, 10.0, 10.8], [800.0] * 4), now=NOW)
    assert kept(g) == [
        ([5000.8, 5001.6], [800.0] * 2, [False, False], False),
        ([10.0, 10.8], [800.0] * 2, [True, False], True),
    ]


def test_devices_are_guarded_apart() -> None:
    """One device's last beat does not make another's beats duplicates."""
    guard = primed([1.0, 1.8], [800.0, 800.0])
    other = BeatBatch(device="other", t_s=np.array([1.0, 1.8]), rr_ms=np.array([800.0, 800.0]))
    assert guard.check(other, now=NOW).kept == 2
    assert guard.last_beat_s() == {DEV: 1.8, "other": 1.8}


def test_restored_last_beat_makes_a_redelivery_a_duplicate() -> None:
    """After `restore` of persisted last beat times, an old batch is a duplicate and the next
    beats are judged late against the restored time."""
    guard = InputGuard()
    guard.restore({DEV: 2.6})
    assert guard.check(beats([1.0, 1.8, 2.6], [800.0] * 3), now=NOW).dropped == {
        Reject.DUPLICATE: 3
    }
    g = guard.check(beats([3.4, 4.2], [800.0] * 2), now=NOW)
    assert kept(g) == [([3.4, 4.2], [800.0] * 2, [False, False], False)]


# -- fast path == slow path ----------------------------------------------------------------


@st.composite
def clean_batches(draw: st.DrawFn) -> tuple[_Track, BeatBatch]:
    """A guard state and a batch the guard keeps whole: spaced, in range, no jump."""
    start = draw(st.sampled_from([-math.inf, 0.0, 1.7e9]))
    gap_next = draw(st.booleans()) and math.isfinite(start)
    n = draw(st.integers(0, 40))
    steps = draw(st.lists(st.floats(MIN_SPACING_S + 1e-6, 30.0), min_size=n, max_size=n))
    rr = draw(st.lists(st.floats(RR_MIN_MS, RR_MAX_MS), min_size=n, max_size=n))
    gap = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    origin = 1.7e9 if math.isinf(start) else start
    t = origin + np.cumsum(np.array(steps, np.float64))
    batch = BeatBatch(device=DEV, t_s=t, rr_ms=np.array(rr, np.float64), gap=np.array(gap, bool))
    return _Track(last_t=start, gap_next=gap_next), batch


@settings(max_examples=200, deadline=None)
@given(clean_batches())
def test_fast_path_equals_beat_by_beat(case: tuple[_Track, BeatBatch]) -> None:
    """A clean batch through `check` (vectorized) and through `_check_each` (beat by beat)
    gives the same segments bit for bit, the same drops (none) and the same guard state."""
    track, batch = case
    now = 2e9
    assert InputGuard._all_clean(track, batch.t_s, batch.rr_ms, now)
    fast_guard = InputGuard()
    fast_guard._tracks[DEV] = _Track(track.last_t, track.gap_next)
    fast = fast_guard.check(batch, now=now)
    slow_track = _Track(track.last_t, track.gap_next)
    slow = InputGuard._check_each(batch, slow_track, now)
    assert fast.dropped == slow.dropped == {}
    assert len(fast.segments) == len(slow.segments) == (1 if len(batch) else 0)
    for a, b in zip(fast.segments, slow.segments, strict=True):
        assert a.new == b.new
        assert a.beats.device == b.beats.device
        for name in ("t_s", "rr_ms", "gap"):
            x, y = getattr(a.beats, name), getattr(b.beats, name)
            assert x.dtype == y.dtype, name
            assert x.tobytes() == y.tobytes(), name
    if len(batch):
        assert fast_guard._tracks[DEV] == slow_track


# -- many messages at once == one by one -----------------------------------------------------


@st.composite
def message_lists(draw: st.DrawFn) -> list[BeatBatch]:
    """Messages of up to four devices: mostly clean continuations, sometimes a duplicate,
    a jump, a NaN, an out-of-range RR or an empty message."""
    devices = [f"d{i}" for i in range(draw(st.integers(1, 4)))]
    clock = {d: 1.7e9 + 3.1 * i for i, d in enumerate(devices)}
    out = []
    for _ in range(draw(st.integers(1, 12))):
        device = draw(st.sampled_from(devices))
        n = draw(st.integers(0, 5))
        steps = draw(st.lists(st.floats(0.25, 2.5), min_size=n, max_size=n))
        t = clock[device] + np.cumsum(np.array(steps, np.float64))
        rr = np.array(draw(st.lists(st.floats(300.0, 1500.0), min_size=n, max_size=n)))
        trouble = draw(st.sampled_from(["none"] * 6 + ["dup", "jump", "nan", "rr", "future"]))
        if n and trouble == "dup":
            t = t - (t[-1] - clock[device]) - 0.5
        elif n and trouble == "jump":
            t = t + MAX_JUMP_S + 1.0
        elif n and trouble == "nan":
            t[draw(st.integers(0, n - 1))] = nan
        elif n and trouble == "rr":
            rr[0] = RR_MAX_MS + 1.0
        elif n and trouble == "future":
            t = t + 1e6
        if n and np.isfinite(t[-1]):
            clock[device] = max(clock[device], float(t[-1]))
        gap = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), np.bool_)
        out.append(BeatBatch(device=device, t_s=t, rr_ms=rr, gap=gap))
    return out


@settings(max_examples=300, deadline=None)
@given(message_lists(), st.booleans())
def test_check_columns_equals_check_of_each_message(
    messages: list[BeatBatch], primed_first: bool
) -> None:
    """`check_columns` of many messages, then `check` of the messages it leaves, gives each
    device the kept beats (times, RR, gap flags, bit for bit), drops and final guard state of
    `check` of every message in turn; it leaves exactly the devices with something to drop or
    a segment to start."""
    one, many = InputGuard(), InputGuard()
    if primed_first:  # one device with a last beat already (a restart)
        for guard in (one, many):
            guard.restore({messages[0].device: 1.7e9 - 1.0})
    now = 1.7e9 + 1000.0
    want: dict[str, list[tuple[bytes, bytes, bytes]]] = {}
    want_drops: dict[str, dict[Reject, int]] = {}
    for m in messages:
        g = one.check(m, now=now)
        for s in g.segments:
            want.setdefault(m.device, []).append(
                (s.beats.t_s.tobytes(), s.beats.rr_ms.tobytes(), s.beats.gap.tobytes())
            )
        for reason, n in g.dropped.items():
            drops = want_drops.setdefault(m.device, {})
            drops[reason] = drops.get(reason, 0) + n
    columns = BeatColumns.join(messages)
    guarded = many.check_columns(columns, now=now)
    got: dict[str, list[tuple[bytes, bytes, bytes]]] = {}
    got_drops: dict[str, dict[Reject, int]] = {}
    for b in guarded.kept.batches():
        got.setdefault(b.device, []).append((b.t_s.tobytes(), b.rr_ms.tobytes(), b.gap.tobytes()))
    left = {messages[i].device for i in guarded.rest}
    assert not left & {b.device for b in guarded.kept.batches()}
    for i in guarded.rest:
        g = many.check(messages[i], now=now)
        for s in g.segments:
            got.setdefault(messages[i].device, []).append(
                (s.beats.t_s.tobytes(), s.beats.rr_ms.tobytes(), s.beats.gap.tobytes())
            )
        for reason, n in g.dropped.items():
            drops = got_drops.setdefault(messages[i].device, {})
            drops[reason] = drops.get(reason, 0) + n
    joined = {d: b"".join(p[0] for p in parts) for d, parts in got.items()}
    assert joined == {d: b"".join(p[0] for p in parts) for d, parts in want.items()}
    for k in (1, 2):
        assert {d: b"".join(p[k] for p in v) for d, v in got.items()} == {
            d: b"".join(p[k] for p in v) for d, v in want.items()
        }
    assert got_drops == want_drops
    assert many._tracks == one._tracks
    assert all(d in left for d in want_drops)
