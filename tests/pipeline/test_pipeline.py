"""The pipeline: guard, engine and rules per device, equal to the batch face for clean input."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hrv import BeatBatch, StreamEngine, WindowMetrics, sliding_windows
from hrv._artifacts import BLOCK, HISTORY, LOOKAHEAD
from recommender import Evaluator, RecommenderConfig, Trigger, default_config
from recommender._rules import QuietHours
from tests.pipeline.strategies import (
    NOW_S,
    Op,
    Traffic,
    chunks,
    demo_beats,
    long_stress_beats,
    op_lists,
    steady_beats,
    take,
)
from vagus.events import BeatColumns, DeviceStatus
from vagus.pipeline import (
    MIN_SPACING_S,
    QUARANTINE_S,
    Emissions,
    InputGuard,
    NoticeKind,
    Pipeline,
    Reject,
)


def new_pipeline(
    rules: RecommenderConfig | None = None, local_time: Callable[[float], dt.time] | None = None
) -> Pipeline:
    """A pipeline with the default 60 s / 5 s windows and the default rules."""
    return Pipeline(engine=StreamEngine(), rules=rules or default_config(), local_time=local_time)


def run(pipeline: Pipeline, batches: list[BeatBatch], *, flush: bool = True) -> Emissions:
    """Feed ``batches`` with ``now`` at each batch's last beat (a replay's clock), then flush."""
    out = Emissions()
    for batch in batches:
        now = float(batch.t_s[-1]) if len(batch) else 0.0
        out.extend(pipeline.feed(batch, now=now))
    if flush:
        out.extend(pipeline.flush())
    return out


def same(a: list[WindowMetrics] | list[Trigger], b: list[WindowMetrics] | list[Trigger]) -> None:
    """Equal records, bit for bit: repr round-trips floats, and NaN equals NaN."""
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert repr(x) == repr(y)


def batch_windows(beats: BeatBatch, **kwargs: object) -> list[WindowMetrics]:
    """`hrv.sliding_windows` of ``beats`` as records (the batch face, the reference)."""
    table = sliding_windows(beats.rr_ms, t_s=beats.t_s, gap=beats.gap, **kwargs)  # type: ignore[arg-type]
    return list(table.records(beats.device))


def of(device: str, out: Emissions) -> tuple[list[WindowMetrics], list[Trigger]]:
    """``device``'s windows and triggers among ``out``'s."""
    return (
        [w for w in out.windows if w.device == device],
        [t for t in out.triggers if t.device == device],
    )


STRESS = demo_beats("good-stress")
CALM = demo_beats("good-other", seed=5, start_t_s=STRESS.t_s[0] + 7.3)
LONG = long_stress_beats("long")


def test_timelines_are_clean() -> None:
    """The valid devices' timelines pass the guard whole, and the stress one really triggers."""
    for beats in (STRESS, CALM, LONG):
        assert InputGuard().check(beats, now=NOW_S).kept == len(beats)
    assert len(run(new_pipeline(), [STRESS]).triggers) == 1


# -- equal to the batch face ---------------------------------------------------------------


def test_replay_of_a_real_recording_equals_sliding_windows(data_dir: Path) -> None:
    """The 60-minute pyHRV recording fed in 97-beat batches, then flushed, gives exactly
    `sliding_windows` (every column, bit for bit) and the evaluator's triggers on them."""
    rr = np.loadtxt(data_dir / "pyhrv_long_60min.csv", skiprows=1)
    beats = BeatBatch(device="pyhrv", t_s=np.cumsum(rr) / 1000.0, rr_ms=rr)
    pipeline = new_pipeline()
    out = run(pipeline, chunks(beats, [97]))
    want = batch_windows(beats)
    assert len(want) == 719
    same(out.windows, want)
    same(out.triggers, list(Evaluator(default_config()).feed_many(want).triggers))
    assert sum(len(b) for b in out.beats) == len(beats) == pipeline.totals.beats
    assert pipeline.totals.windows == 719
    assert pipeline.totals.dropped == {}
    assert not out.notices


def test_redelivered_batches_change_nothing() -> None:
    """Every batch of the stress scenario delivered twice (QoS 1): the second copy gives no
    beats and no windows, only a ``duplicate`` notice of its size; the result is a clean run's."""
    pipeline = new_pipeline()
    out = Emissions()
    for batch in chunks(STRESS, [23, 41, 7]):
        out.extend(pipeline.feed(batch, now=float(batch.t_s[-1])))
        again = pipeline.feed(batch, now=float(batch.t_s[-1]))
        assert not again.beats
        assert not again.windows
        assert [(n.kind, n.reason, n.count) for n in again.notices] == [
            (NoticeKind.DROPPED, Reject.DUPLICATE, len(batch))
        ]
    out.extend(pipeline.flush())
    clean = run(new_pipeline(), [STRESS])
    same(out.windows, clean.windows)
    same(out.triggers, clean.triggers)
    assert len(out.triggers) == 1
    assert pipeline.totals.dropped == {STRESS.device: {"duplicate": len(STRESS)}}


def test_status_events_pass_through() -> None:
    """A `DeviceStatus` comes back out as it went in, and nothing else happens."""
    status = DeviceStatus(device="d", t_s=1.0, connected=True, link="ble", battery_pct=80)
    out = new_pipeline().feed(status, now=1.0)
    assert out.statuses == [status]
    assert not out.beats
    assert not out.notices


# -- restarts ----------------------------------------------------------------------------------


def restart(old: Pipeline) -> Pipeline:
    """A fresh pipeline restored from ``old``'s snapshot after a JSON round trip."""
    state = json.loads(json.dumps(old.snapshot()))
    fresh = new_pipeline()
    fresh.restore(state, old.engine.baselines())
    return fresh


def test_restored_pipeline_drops_a_redelivered_batch() -> None:
    """After snapshot -> JSON -> restore, the last batch before the restart, delivered again
    (its ack was lost in the crash), is dropped whole as duplicates."""
    parts = chunks(STRESS, [50])
    old = new_pipeline()
    run(old, parts[:6], flush=False)
    fresh = restart(old)
    again = fresh.feed(parts[5], now=float(parts[5].t_s[-1]))
    assert not again.beats
    assert not again.windows
    assert fresh.totals.dropped == {STRESS.device: {"duplicate": len(parts[5])}}
    assert fresh.feed(parts[6], now=float(parts[6].t_s[-1])).beats[0].t_s.size == len(parts[6])


def test_restart_mid_episode_does_not_trigger_again() -> None:
    """A restart one minute after a trigger, stress going on: the restored pipeline does not
    fire again within ``min_gap_s`` (a fresh one, as a control, does)."""
    parts = chunks(LONG, [20])
    old = new_pipeline()
    before = Emissions()
    i = 0
    while not before.triggers:
        before.extend(old.feed(parts[i], now=float(parts[i].t_s[-1])))
        i += 1
    (first,) = before.triggers
    while parts[i].t_s[0] < first.t_s + 60.0:
        before.extend(old.feed(parts[i], now=float(parts[i].t_s[-1])))
        i += 1
    min_gap_s = default_config().min_gap_s
    restored = run(restart(old), parts[i - 1 :])  # the last batch again, then the rest
    assert restored.windows  # the episode goes on being measured
    assert not [t for t in restored.triggers if t.t_s < first.t_s + min_gap_s]
    control = run(new_pipeline(), parts[i:])
    assert [t for t in control.triggers if t.t_s < first.t_s + min_gap_s]


def test_absurd_times_do_not_reach_the_engine() -> None:
    """Beats at -1e300 s or -1e20 s (int64 window numbers would overflow) are dropped as
    ``bad_time`` before the engine: no warning, no quarantine, no window at an absurd time,
    and the device's valid beats after them give the batch face's windows."""
    pipeline = new_pipeline()
    for t in ([-1e300], [-1e20, -1e20 + 20_000.0]):
        junk = BeatBatch(device=CALM.device, t_s=np.array(t), rr_ms=np.full(len(t), 800.0))
        out = pipeline.feed(junk, now=NOW_S)
        assert [(n.kind, n.reason, n.count) for n in out.notices] == [
            (NoticeKind.DROPPED, Reject.BAD_TIME, len(t))
        ]
    out = run(pipeline, chunks(CALM, [40]))
    same(out.windows, batch_windows(CALM))
    assert pipeline.totals.quarantines == 0


# -- quiet hours ---------------------------------------------------------------------------


def quiet_rules() -> RecommenderConfig:
    """The default rules with quiet hours from 22:00 to 07:00."""
    quiet = QuietHours(start=dt.time(22), end=dt.time(7))
    return default_config().model_copy(update={"quiet_hours": quiet})


def test_quiet_hours_are_ignored_without_a_local_time() -> None:
    """Without ``local_time`` (a replay), quiet hours do not apply: the episode triggers."""
    assert len(run(new_pipeline(quiet_rules()), [STRESS]).triggers) == 1


def test_quiet_hours_apply_with_a_local_time() -> None:
    """With ``local_time`` saying 03:00, the trigger is suppressed; saying 12:00, it fires,
    at the same window as without quiet hours."""
    at_night = run(new_pipeline(quiet_rules(), lambda t: dt.time(3)), [STRESS])
    assert at_night.windows
    assert not at_night.triggers
    at_noon = run(new_pipeline(quiet_rules(), lambda t: dt.time(12)), [STRESS])
    same(at_noon.triggers, run(new_pipeline(), [STRESS]).triggers)


# -- quarantine --------------------------------------------------------------------------------


@pytest.mark.parametrize("fail_at", [0, 9])
def test_a_failing_device_is_quarantined_alone_and_recovers(
    fail_at: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Device B's push raises once (on its first batch, or mid-stream): B alone gets a
    QUARANTINED notice naming the error, its beats are dropped as ``quarantined`` for
    `QUARANTINE_S` of beat time, then a RECOVERED notice and windows again, equal to the batch
    face of its beats from then on (gap-flagged start, baseline kept). Device A's windows and
    triggers are those of A alone."""
    a, b = STRESS, CALM
    pipeline = new_pipeline()
    real_push = pipeline.engine.push
    calls = {"n": 0}

    def push(batch: BeatBatch) -> list[WindowMetrics]:
        if batch.device == b.device:
            calls["n"] += 1
            if calls["n"] == fail_at + 1:
                raise RuntimeError("boom")
        return real_push(batch)

    monkeypatch.setattr(pipeline.engine, "push", push)
    a_parts, b_parts = chunks(a, [30]), chunks(b, [30])
    out = Emissions()
    baseline_at_failure = None
    for k in range(max(len(a_parts), len(b_parts))):
        for parts in (a_parts, b_parts):
            if k < len(parts):
                step = pipeline.feed(parts[k], now=NOW_S)
                if any(n.kind is NoticeKind.QUARANTINED for n in step.notices):
                    baseline_at_failure = pipeline.engine.baseline(b.device)
                out.extend(step)
    out.extend(pipeline.flush())

    kinds = [(n.device, n.kind) for n in out.notices if n.kind is not NoticeKind.DROPPED]
    assert kinds == [(b.device, NoticeKind.QUARANTINED), (b.device, NoticeKind.RECOVERED)]
    (quarantined,) = [n for n in out.notices if n.kind is NoticeKind.QUARANTINED]
    assert quarantined.reason == "RuntimeError: boom"
    assert pipeline.totals.quarantines == 1

    a_windows, a_triggers = of(a.device, out)
    alone = run(new_pipeline(), a_parts)
    same(a_windows, alone.windows)
    same(a_triggers, alone.triggers)
    assert len(a_triggers) == 1

    failed_end = float(b_parts[fail_at].t_s[-1])
    since = failed_end + QUARANTINE_S
    after = b.t_s >= since
    skipped = int(((b.t_s > failed_end) & ~after).sum())
    assert pipeline.totals.dropped == {b.device: {"quarantined": skipped}}
    resumed = BeatBatch(
        device=b.device,
        t_s=b.t_s[after],
        rr_ms=b.rr_ms[after],
        gap=np.concatenate([[True], b.gap[after][1:]]),
    )
    b_windows, _ = of(b.device, out)
    before_failure = batch_windows(take(b, 0, 30 * fail_at)) if fail_at else []
    first_after = next(i for i, w in enumerate(b_windows) if w.t_end_s > since)
    # Before the failure: a prefix of the batch result of the beats pushed until then (the
    # windows whose beats were decided); none after it until the recovery.
    pre = b_windows[:first_after]
    assert len(pre) > 20 if fail_at else not pre
    same(pre, before_failure[: len(pre)])
    assert len(b_windows) > first_after + 50
    assert baseline_at_failure is not None
    same(b_windows[first_after:], batch_windows(resumed, baseline=baseline_at_failure))


# -- the property: hostile traffic cannot hurt valid devices ---------------------------------

GOOD = [STRESS, CALM]
HOSTILE = [steady_beats(f"hostile-{i}", 700, offset_s=13.0 * i) for i in range(3)]


def ring_bound(engine: StreamEngine) -> int:
    """The most beats a device's ring may need: one window plus one step of beats at most
    `MIN_SPACING_S` apart (or the artifact detector's history, if longer), the undecided
    block and its lookahead, and one round of a push; rounded up to a power of two."""
    per_window = math.ceil((engine.window_s + engine.step_s) / MIN_SPACING_S) + 1
    need = max(per_window, HISTORY) + BLOCK + LOOKAHEAD + engine.round_beats
    return 1 << (need - 1).bit_length()


def memory_bound(engine: StreamEngine, n_devices: int) -> int:
    """Bytes of an engine with rows for twice ``n_devices`` (rows grow by doubling), each with
    a ring of `ring_bound` beats."""
    ref = StreamEngine(window_s=engine.window_s, step_s=engine.step_s, capacity=ring_bound(engine))
    ref.register([f"d{i}" for i in range(2 * n_devices)])
    return ref.memory_bytes()


def test_memory_bound_is_tight_enough() -> None:
    """The bound for 60 s windows is a 512-beat ring: 60 s of beats 0.199 s apart fit."""
    assert ring_bound(StreamEngine()) == 512
    assert memory_bound(StreamEngine(), 5) < 200_000


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(ops=op_lists(n_good=len(GOOD), n_hostile=len(HOSTILE)), sizes=st.integers(1, 200))
def test_hostile_traffic_never_hurts_valid_devices(ops: list[Op], sizes: int) -> None:
    """Valid batches, re-sent batches, overlaps, shuffled beats, NaN / infinite / None /
    negative / huge RR, NaN times, clock jumps both ways, future beats, 1 ms bursts, garbage
    floats and empty batches, interleaved over three hostile devices and two valid ones
    (sliced at random): feeding never raises, every device's ring stays within `ring_bound`
    and the engine within `memory_bound`, and each valid device gets exactly the windows and
    triggers of a pipeline fed only its batches, which are `sliding_windows` of its beats and
    the evaluator's triggers on them (the stress device really triggers)."""
    ops = [*ops, *(Op(kind="good", who=i % len(GOOD), n=sizes) for i in range(6))]
    batches = Traffic(GOOD, HOSTILE).play(ops)
    pipeline = new_pipeline()
    out = Emissions()
    cap = ring_bound(pipeline.engine)
    max_bytes = memory_bound(pipeline.engine, len(GOOD) + len(HOSTILE))
    for batch in batches:
        out.extend(pipeline.feed(batch, now=NOW_S))
        assert pipeline.engine.ring_beats <= cap
        assert pipeline.engine.memory_bytes() <= max_bytes
    out.extend(pipeline.flush())

    for beats in GOOD:
        windows, triggers = of(beats.device, out)
        alone = run(new_pipeline(), [b for b in batches if b.device == beats.device])
        same(windows, alone.windows)
        same(triggers, alone.triggers)
        want = batch_windows(beats)
        same(windows, want)
        same(triggers, list(Evaluator(default_config()).feed_many(want).triggers))
        assert not [n for n in out.notices if n.device == beats.device]
        assert beats.device not in pipeline.totals.dropped
    assert len(of(STRESS.device, out)[1]) == 1


# -- many messages at once (feed_many) ---------------------------------------------------------


def by_device(out: Emissions) -> dict[str, tuple[list[str], list[str], list[tuple[str, str, int]]]]:
    """Each device's windows and triggers (as reprs) and notices, in order."""
    seen: dict[str, tuple[list[str], list[str], list[tuple[str, str, int]]]] = {}
    for w in out.windows:
        seen.setdefault(w.device, ([], [], []))[0].append(repr(w))
    for t in out.triggers:
        seen.setdefault(t.device, ([], [], []))[1].append(repr(t))
    for n in out.notices:
        seen.setdefault(n.device, ([], [], []))[2].append((str(n.kind), n.reason, n.count))
    return seen


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    ops=op_lists(n_good=len(GOOD), n_hostile=len(HOSTILE)),
    sizes=st.integers(1, 200),
    cuts=st.lists(st.integers(1, 12), min_size=1, max_size=30),
    as_columns=st.booleans(),
)
def test_feed_many_equals_feeding_one_by_one(
    ops: list[Op], sizes: int, cuts: list[int], as_columns: bool
) -> None:
    """The hostile traffic of the property above, fed in runs of 1-12 batches at once with
    `Pipeline.feed_many` (as `BeatBatch`es, or joined into one `BeatColumns`), gives every
    device the windows, triggers and notices (in order) and the totals of feeding the batches
    one by one; the kept beats are the same."""
    ops = [*ops, *(Op(kind="good", who=i % len(GOOD), n=sizes) for i in range(6))]
    batches = Traffic(GOOD, HOSTILE).play(ops)
    one = new_pipeline()
    alone = Emissions()
    for batch in batches:
        alone.extend(one.feed(batch, now=NOW_S))
    many = new_pipeline()
    together = Emissions()
    start, k = 0, 0
    while start < len(batches):
        run_ = batches[start : start + cuts[k % len(cuts)]]
        events = [BeatColumns.join(run_)] if as_columns else run_
        together.extend(many.feed_many(events, now=NOW_S))
        start += len(run_)
        k += 1
    alone.extend(one.flush())
    together.extend(many.flush())
    assert by_device(together) == by_device(alone)
    assert many.totals == one.totals
    kept = [(b.device, b.t_s.tobytes(), b.gap.tobytes()) for b in together.beat_batches()]
    want = [(b.device, b.t_s.tobytes(), b.gap.tobytes()) for b in alone.beat_batches()]
    assert sorted(kept) == sorted(want)


def test_feed_many_keeps_other_events_in_order() -> None:
    """Status events between beats come out in order, and beats before and after them are
    all taken (runs of beats either side of an event)."""
    parts = chunks(STRESS, [40])
    status = DeviceStatus(device=STRESS.device, t_s=NOW_S, connected=True, link="streaming")
    out = new_pipeline().feed_many([*parts[:3], status, *parts[3:]], now=NOW_S)
    assert out.statuses == [status]
    assert sum(len(b) for b in out.beat_batches()) == len(STRESS)


def test_one_engine_call_failing_quarantines_only_the_failing_device(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When the engine call for many devices raises (device B's beats make it fail), the
    devices are pushed again one by one: B alone is quarantined, A's windows and trigger are
    those of A alone."""
    a, b = STRESS, CALM
    pipeline = new_pipeline()
    engine = pipeline.engine
    real_columns, real_push = engine.push_columns, engine.push
    fail = {"left": 1}

    def push_columns(device_idx: np.ndarray, *args: object, **kwargs: object) -> object:
        if fail["left"] and engine.register(b.device)[0] in device_idx:
            raise RuntimeError("boom")
        return real_columns(device_idx, *args, **kwargs)  # type: ignore[arg-type]

    def push(batch: BeatBatch) -> list[WindowMetrics]:
        if batch.device == b.device and fail["left"]:
            fail["left"] = 0
            raise RuntimeError("boom")
        return real_push(batch)

    monkeypatch.setattr(engine, "push_columns", push_columns)
    monkeypatch.setattr(engine, "push", push)
    a_parts, b_parts = chunks(a, [30]), chunks(b, [30])
    out = Emissions()
    for k in range(max(len(a_parts), len(b_parts))):
        events = [p[k] for p in (a_parts, b_parts) if k < len(p)]
        out.extend(pipeline.feed_many(events, now=NOW_S))
    out.extend(pipeline.flush())
    kinds = [(n.device, n.kind) for n in out.notices if n.kind is not NoticeKind.DROPPED]
    assert kinds == [(b.device, NoticeKind.QUARANTINED), (b.device, NoticeKind.RECOVERED)]
    a_windows, a_triggers = of(a.device, out)
    alone = run(new_pipeline(), a_parts)
    same(a_windows, alone.windows)
    same(a_triggers, alone.triggers)
    assert len(a_triggers) == 1
