"""Windows first, rules after: `Pipeline.take` emits windows at once, `Pipeline.judge` runs the
rules on them later, in order, and the result is what `Pipeline.feed` gives."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hrv import WindowMetrics
from recommender import Evaluator, FeedbackStatus, Step, default_config
from tests.pipeline.strategies import NOW_S, Op, Traffic, chunks, op_lists
from tests.pipeline.test_pipeline import CALM, GOOD, HOSTILE, STRESS, by_device, new_pipeline, same
from vagus.events import BeatColumns, Feedback
from vagus.pipeline import Emissions, NoticeKind


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    ops=op_lists(n_good=len(GOOD), n_hostile=len(HOSTILE)),
    cuts=st.lists(st.integers(1, 12), min_size=1, max_size=30),
    limits=st.lists(st.one_of(st.none(), st.integers(0, 40)), min_size=1, max_size=30),
)
def test_taking_and_judging_later_equals_feeding(
    ops: list[Op], cuts: list[int], limits: list[int | None]
) -> None:
    """Hostile traffic taken in runs of 1-12 messages, with the rules run on 0-40 of the
    waiting windows (or all of them, or none) between takes and the rest at the flush, gives
    every device the windows, triggers and notices (in order) and the totals of `feed_many`;
    each take's windows come out with that take, never later."""
    ops = [*ops, *(Op(kind="good", who=i % len(GOOD), n=60) for i in range(6))]
    batches = Traffic(GOOD, HOSTILE).play(ops)
    fed, taken = new_pipeline(), new_pipeline()
    want, got = Emissions(), Emissions()
    start, k = 0, 0
    while start < len(batches):
        run = batches[start : start + cuts[k % len(cuts)]]
        fed_step = fed.feed_many([BeatColumns.join(run)], now=NOW_S)
        want.extend(fed_step)
        took = taken.take_many([BeatColumns.join(run)], now=NOW_S)
        same(took.windows, fed_step.windows)
        assert not took.triggers
        assert not took.outcomes
        assert taken.pending >= len(took.windows)
        got.extend(took)
        limit = limits[k % len(limits)]
        pending = taken.pending
        got.extend(taken.judge(limit))
        assert taken.pending == (0 if limit is None else max(pending - limit, 0))
        start += len(run)
        k += 1
    want.extend(fed.flush())
    got.extend(taken.flush())
    assert taken.pending == 0
    assert by_device(got) == by_device(want)
    assert taken.totals == fed.totals
    assert taken.snapshot() == fed.snapshot()


def test_feedback_is_judged_after_the_windows_taken_before_it() -> None:
    """The stress episode taken but not judged, then a "false alarm" without a trigger id:
    the rules first judge the waiting windows (the suggestion comes out with the answer) and
    the answer applies to that suggestion."""
    pipeline = new_pipeline()
    took = pipeline.take(STRESS, now=NOW_S)
    assert took.windows
    assert not took.triggers
    assert pipeline.pending == len(took.windows)
    answer = Feedback(device=STRESS.device, verdict="false_alarm", t_s=float(STRESS.t_s[-1]))
    out = pipeline.take(answer, now=NOW_S)
    (trigger,) = out.triggers
    (result,) = out.feedback
    assert result.trigger_id == trigger.id
    assert result.status is FeedbackStatus.APPLIED
    assert pipeline.pending == 0


def test_rules_failing_later_quarantine_only_that_device(monkeypatch: pytest.MonkeyPatch) -> None:
    """Device B's rules raise on its 30th window, judged after both devices' beats were taken:
    B alone is quarantined (its windows already out stay out, its waiting ones are not judged
    any more), A's triggers are those of A alone."""
    a, b = STRESS, CALM
    pipeline = new_pipeline()
    evaluator = pipeline.evaluator
    real_feed = evaluator.feed
    judged: list[str] = []

    def feed(window: WindowMetrics, **kwargs: object) -> Step:
        judged.append(window.device)
        if window.device == b.device and judged.count(b.device) == 30:
            raise RuntimeError("boom")
        return real_feed(window, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(evaluator, "feed", feed)
    out = Emissions()
    for part in zip(chunks(a, [50]), chunks(b, [50]), strict=False):
        out.extend(pipeline.take_many(list(part), now=NOW_S))
    b_windows = [w for w in out.windows if w.device == b.device]
    assert len(b_windows) > 40
    out.extend(pipeline.judge())
    (notice,) = [n for n in out.notices if n.kind is NoticeKind.QUARANTINED]
    assert (notice.device, notice.reason) == (b.device, "RuntimeError: boom")
    assert judged.count(b.device) == 30
    assert [w for w in out.windows if w.device == b.device] == b_windows
    alone = Evaluator(default_config())
    want = [t for w in out.windows if w.device == a.device for t in alone.feed(w).triggers]
    same([t for t in out.triggers if t.device == a.device], want)
    assert len(want) == 1
