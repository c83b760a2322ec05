"""`WebState` and `Broadcast` (pure and loop-only): bounded rings, suggestions, slow pages."""

from __future__ import annotations

import asyncio
import math

import numpy as np

from hrv import Quality
from recommender import Evaluator, default_config
from tests.recommender.windows import episodes, series, window
from vagus.web import HISTORY_S, Broadcast, WebState, WindowRing
from vagus.web._broadcast import event_stream


def test_ring_keeps_the_newest_windows_in_order() -> None:
    """Past its capacity the ring overwrites the oldest; `since` returns arrival order."""
    ring = WindowRing(4)
    for t in range(10):
        ring.append(window(float(t), float(t), quality=Quality.GAP if t == 8 else Quality.OK))
    columns = ring.since()
    assert len(ring) == 4
    assert columns.t_end_s.tolist() == [6.0, 7.0, 8.0, 9.0]
    assert columns.stress.tolist() == [6.0, 7.0, 8.0, 9.0]
    assert columns.quality == (Quality.OK, Quality.OK, Quality.GAP, Quality.OK)
    assert ring.since(7.0).t_end_s.tolist() == [8.0, 9.0]
    assert len(WindowRing(3).since()) == 0


def test_state_keeps_one_hour_per_device_whatever_runs_in() -> None:
    """Rings are sized from the step; older than an hour before the newest is not returned."""
    state = WebState(step_s=5.0)
    assert state.ring_capacity == 721
    for t in np.arange(0.0, 3 * HISTORY_S, 5.0):
        state.window(window(float(t), 50.0, device="a"))
    columns = state.devices["a"].ring.since()
    assert len(columns) == 721
    assert columns.t_end_s[-1] - columns.t_end_s[0] == HISTORY_S


def test_level_keeps_its_last_verdict_through_missing_scores() -> None:
    """A window without a stress score (NaN) keeps the last level; a score moves it."""
    state = WebState(step_s=5.0)
    assert state.window(window(0.0, 80.0)).level == "high"
    assert state.window(window(5.0, math.nan, hr_bpm=70.0, ln_rmssd=3.5)).level == "high"
    assert state.window(window(10.0, 20.0)).level == "calm"


def test_suggestion_lasts_as_long_as_its_exercise_by_the_device_clock() -> None:
    """The trigger is in progress until its exercise's duration has passed in window time;
    an answer applies to that trigger only."""
    trigger = Evaluator(default_config()).feed_many(series(episodes((100, 400)), until_s=900))
    first = trigger.triggers[0]
    state = WebState(step_s=5.0)
    live = state.trigger(first)
    assert live.suggestion == first
    assert state.answered(first.device, "another-id", "helpful") is None
    assert state.answered(first.device, first.id, "helpful") is live
    assert live.answer == "helpful"
    state.window(window(first.t_s + first.exercise.duration_s - 1, 50.0, device=first.device))
    assert live.suggestion == first
    state.window(window(first.t_s + first.exercise.duration_s, 50.0, device=first.device))
    assert live.suggestion is None


async def test_a_page_that_falls_behind_is_disconnected_not_waited_for() -> None:
    """A full stream queue ends that page's stream (counted); the others still get events."""
    broadcast = Broadcast(size=2)
    slow, fast = broadcast.subscribe(), broadcast.subscribe()
    for i in range(3):
        broadcast.publish("device", {"i": i})
        fast.queue.get_nowait()
    assert broadcast.dropped_streams == 1
    assert len(broadcast) == 1
    chunks = [chunk async for chunk in event_stream(broadcast, slow, b"")]
    assert chunks == [b"retry: 2000\n\n"]  # ended: the browser reconnects to a fresh snapshot
    broadcast.publish("device", {"i": 3})
    assert fast.queue.get_nowait() == b'event: device\ndata: {"i":3}\n\n'


async def test_quiet_streams_send_keepalives_and_end_on_close() -> None:
    """A quiet stream sends a comment line every keepalive period; `close` ends it."""
    broadcast = Broadcast()
    stream = broadcast.subscribe()
    chunks = event_stream(broadcast, stream, b"first", keepalive_s=0.05)
    assert await anext(chunks) == b"retry: 2000\n\nfirst"
    assert await anext(chunks) == b": keepalive\n\n"
    broadcast.close()
    assert [chunk async for chunk in chunks] == []
    assert len(broadcast) == 0
    await asyncio.sleep(0)
