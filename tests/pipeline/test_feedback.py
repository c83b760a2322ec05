"""Feedback through the pipeline: applied to the trigger, refusals counted, never raised."""

from __future__ import annotations

import math

from hrv import StreamEngine
from recommender import FeedbackStatus, FeedbackVerdict, default_config
from tests.pipeline.strategies import NOW_S, demo_beats
from vagus.events import Feedback
from vagus.pipeline import Emissions, NoticeKind, Pipeline

STRESS = demo_beats("fb-stress")


def _triggered() -> tuple[Pipeline, str]:
    """A pipeline that has seen the demo's stress episode, and the id of its trigger."""
    pipeline = Pipeline(engine=StreamEngine(), rules=default_config())
    out = Emissions()
    out.extend(pipeline.feed(STRESS, now=NOW_S))
    assert len(out.triggers) == 1
    return pipeline, out.triggers[0].id


def test_feedback_without_an_id_answers_the_last_suggestion() -> None:
    """A verdict with no trigger id is applied to the device's latest trigger."""
    pipeline, trigger_id = _triggered()
    t_s = float(STRESS.t_s[-1])
    out = pipeline.feed(Feedback(device="fb-stress", verdict="false_alarm", t_s=t_s), now=NOW_S)
    (result,) = out.feedback
    assert result.trigger_id == trigger_id
    assert result.verdict is FeedbackVerdict.FALSE_ALARM
    assert result.status is FeedbackStatus.APPLIED
    assert not out.notices


def test_refused_feedback_is_counted_not_raised() -> None:
    """Unknown verdicts, unknown or foreign trigger ids, a device without suggestions, a NaN time
    and a second answer each give one FEEDBACK notice with the reason, and no exception."""
    pipeline, trigger_id = _triggered()
    t_s = float(STRESS.t_s[-1])
    cases = [
        (Feedback(device="fb-stress", verdict="meh", t_s=t_s), "unknown_verdict"),
        (Feedback(device="nobody", verdict="helpful", t_s=t_s), "no_trigger"),
        (Feedback(device="fb-stress", verdict="helpful", t_s=math.nan), "bad_time"),
        (
            Feedback(device="fb-stress", verdict="helpful", t_s=t_s, trigger_id="forged"),
            "unknown_trigger",
        ),
        (
            Feedback(device="other", verdict="helpful", t_s=t_s, trigger_id=trigger_id),
            "unknown_trigger",
        ),
    ]
    for event, reason in cases:
        out = pipeline.feed(event, now=NOW_S)
        assert [(n.kind, n.reason) for n in out.notices] == [(NoticeKind.FEEDBACK, reason)]
    first = pipeline.feed(Feedback(device="fb-stress", verdict="helpful", t_s=t_s), now=NOW_S)
    assert first.feedback[0].accepted
    again = pipeline.feed(Feedback(device="fb-stress", verdict="helpful", t_s=t_s), now=NOW_S)
    assert [n.reason for n in again.notices] == ["duplicate"]
