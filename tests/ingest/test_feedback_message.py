"""The feedback wire format: byte-literal decodes, every refusal, topics, schema agreement."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest import (
    MAX_FEEDBACK_BYTES,
    VERDICTS,
    FeedbackMessage,
    FeedbackMessageError,
    FeedbackRejection,
    decode_feedback,
    device_of_feedback_topic,
    encode_feedback,
    feedback_subscription,
    feedback_topic,
)
from recommender import FeedbackVerdict

SCHEMA = json.loads((Path(__file__).parents[2] / "vagus" / "schemas" / "feedback.json").read_text())

FULL = (
    b'{"schema":1,"trigger_id":"c540b7a6-6f97-50cc-9550-cd0e19b358aa",'
    b'"verdict":"false_alarm","t_s":1764236190.0}'
)
"""The example of docs/mqtt.md."""


def test_full_message_decodes() -> None:
    """Every field of the documented example comes through; the device is the topic's."""
    got = decode_feedback(FULL, device="phone-1")
    assert got == FeedbackMessage(
        device="phone-1",
        verdict="false_alarm",
        trigger_id="c540b7a6-6f97-50cc-9550-cd0e19b358aa",
        t_s=1764236190.0,
    )
    jsonschema.validate(json.loads(FULL), SCHEMA)


def test_minimal_message_means_last_suggestion_now() -> None:
    """Without trigger_id and t_s (or with them null) both decode to None."""
    for payload in (
        b'{"schema":1,"verdict":"not_now"}',
        b'{"schema":1,"verdict":"not_now","trigger_id":null,"t_s":null}',
    ):
        got = decode_feedback(payload, device="d1")
        assert (got.trigger_id, got.t_s, got.verdict) == (None, None, "not_now")
        jsonschema.validate(json.loads(payload), SCHEMA)


def test_verdicts_are_the_recommenders() -> None:
    """The codec's verdicts are exactly `recommender.FeedbackVerdict`'s values, and the schema's."""
    assert set(VERDICTS) == {v.value for v in FeedbackVerdict}
    assert set(SCHEMA["properties"]["verdict"]["enum"]) == set(VERDICTS)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"x" * (MAX_FEEDBACK_BYTES + 1), FeedbackRejection.TOO_LARGE),
        (b'{"schema":1,"verdict":"helpful\xff"}', FeedbackRejection.NOT_UTF8),
        (b"{schema:1}", FeedbackRejection.NOT_JSON),
        (b"[" * 600 + b"]" * 600, FeedbackRejection.TOO_LARGE),
        (b"[" * 500 + b"]" * 500, FeedbackRejection.WRONG_SCHEMA),
        (b'["helpful"]', FeedbackRejection.WRONG_SCHEMA),
        (b'{"schema":2,"verdict":"helpful"}', FeedbackRejection.WRONG_SCHEMA),
        (b'{"schema":true,"verdict":"helpful"}', FeedbackRejection.WRONG_SCHEMA),
        (b'{"verdict":"helpful"}', FeedbackRejection.WRONG_SCHEMA),
        (b'{"schema":1,"verdict":"helpful","device":"other"}', FeedbackRejection.WRONG_SCHEMA),
        (b'{"schema":1,"verdict":"helpful","verdict":"not_now"}', FeedbackRejection.WRONG_SCHEMA),
        (b'{"schema":1,"verdict":"great"}', FeedbackRejection.BAD_VERDICT),
        (b'{"schema":1,"verdict":["helpful"]}', FeedbackRejection.BAD_VERDICT),
        (b'{"schema":1,"verdict":"helpful","trigger_id":""}', FeedbackRejection.BAD_TRIGGER_ID),
        (b'{"schema":1,"verdict":"helpful","trigger_id":"a b"}', FeedbackRejection.BAD_TRIGGER_ID),
        (b'{"schema":1,"verdict":"helpful","trigger_id":7}', FeedbackRejection.BAD_TRIGGER_ID),
        (
            b'{"schema":1,"verdict":"helpful","trigger_id":"' + b"a" * 65 + b'"}',
            FeedbackRejection.BAD_TRIGGER_ID,
        ),
        (b'{"schema":1,"verdict":"helpful","t_s":NaN}', FeedbackRejection.BAD_TIME),
        (b'{"schema":1,"verdict":"helpful","t_s":1e400}', FeedbackRejection.BAD_TIME),
        (b'{"schema":1,"verdict":"helpful","t_s":"5"}', FeedbackRejection.BAD_TIME),
        (b'{"schema":1,"verdict":"helpful","t_s":true}', FeedbackRejection.BAD_TIME),
    ],
)
def test_refusals_carry_their_reason(payload: bytes, reason: FeedbackRejection) -> None:
    """Each malformed message raises FeedbackMessageError with its reason, never its content."""
    with pytest.raises(FeedbackMessageError) as info:
        decode_feedback(payload, device="d1")
    assert info.value.reason is reason
    assert b"helpful\xff" not in str(info.value).encode()


def test_topics_name_the_device() -> None:
    """The topic is the identity: valid ids only, one level, under the prefix."""
    assert (
        feedback_topic("home/vagus", "C0:FF:EE:00:00:01") == "home/vagus/C0:FF:EE:00:00:01/feedback"
    )
    assert feedback_subscription("vagus") == "vagus/+/feedback"
    assert device_of_feedback_topic("vagus", "vagus/phone-1/feedback") == "phone-1"
    for topic, reason in [
        ("vagus/a/b/feedback", FeedbackRejection.BAD_TOPIC),
        ("vagus/phone-1/beats", FeedbackRejection.BAD_TOPIC),
        ("other/phone-1/feedback", FeedbackRejection.BAD_TOPIC),
        ("vagus//feedback", FeedbackRejection.BAD_DEVICE),
        ("vagus/-x/feedback", FeedbackRejection.BAD_DEVICE),
    ]:
        with pytest.raises(FeedbackMessageError) as info:
            device_of_feedback_topic("vagus", topic)
        assert info.value.reason is reason, topic
    with pytest.raises(FeedbackMessageError):
        decode_feedback(b'{"schema":1,"verdict":"helpful"}', device="a b")


@given(
    verdict=st.sampled_from(VERDICTS),
    trigger_id=st.none()
    | st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=64),
    t_s=st.none() | st.floats(allow_nan=False, allow_infinity=False),
)
def test_encode_decode_round_trip(verdict: str, trigger_id: str | None, t_s: float | None) -> None:
    """What `encode_feedback` writes, `decode_feedback` reads back unchanged, and it validates."""
    payload = encode_feedback(verdict, trigger_id=trigger_id, t_s=t_s)
    jsonschema.validate(json.loads(payload), SCHEMA)
    got = decode_feedback(payload, device="d1")
    assert (got.verdict, got.trigger_id, got.t_s) == (verdict, trigger_id, t_s)


@given(st.binary(max_size=300))
def test_decoding_is_total(payload: bytes) -> None:
    """Any bytes decode or raise FeedbackMessageError, nothing else."""
    reason: FeedbackRejection | None = None
    try:
        got = decode_feedback(payload, device="d1")
    except FeedbackMessageError as exc:
        reason = exc.reason
    else:
        assert got.verdict in VERDICTS
    assert reason is None or reason in set(FeedbackRejection)


def test_encode_refuses_what_decode_would() -> None:
    """A bad verdict or trigger id is a ValueError at the sender, not a refused message later."""
    with pytest.raises(ValueError, match="bad_verdict"):
        encode_feedback("great")
    with pytest.raises(ValueError, match="bad_trigger_id"):
        encode_feedback("helpful", trigger_id="with space")
