"""The feedback wire format: ``<prefix>/<device>/feedback`` (``vagus/schemas/feedback.json``).

A person's answer to a suggestion, from a phone, a Home Assistant button or
``vagus feedback``::

    {"schema":1,"trigger_id":"c540b7a6-6f97-50cc-9550-cd0e19b358aa","verdict":"false_alarm","t_s":1764236190.0}

``trigger_id`` absent (or null) means the device's last suggestion; ``t_s``
absent (or null) means "when the daemon receives it". The one place that
knows the format: the daemon's MQTT intake decodes with `device_of_feedback_topic`
and `decode_feedback`, the CLI and the Home Assistant discovery encode with
`encode_feedback`. Sans-IO: bytes in, a `FeedbackMessage` out.

**The topic is the identity**, as for beats: the device comes from the topic
and is checked with `ingest.device_ids.device_id_problem`; the payload names
no device.

**Decoding is total.** For any bytes, `decode_feedback` returns a message or
raises `FeedbackMessageError` whose ``reason`` is one `FeedbackRejection`.
Checks run cheapest first: size (at most `MAX_FEEDBACK_BYTES`, which also
bounds the JSON nesting far below the parser's recursion limit), UTF-8,
JSON, schema, verdict, trigger id, time. Whether the trigger exists is the
pipeline's question, not the codec's.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from ingest.device_topics import (
    DuplicateKeyError,
    TopicError,
    check_device,
    device_of,
    device_topic,
    strict_object,
    subscription,
)
from ingest.errors import FeedbackMessageError, FeedbackRejection

__all__ = [
    "MAX_FEEDBACK_BYTES",
    "MAX_TRIGGER_ID_LEN",
    "VERDICTS",
    "FeedbackMessage",
    "decode_feedback",
    "device_of_feedback_topic",
    "encode_feedback",
    "feedback_subscription",
    "feedback_topic",
]

SCHEMA_VERSION = 1
"""Value of the ``schema`` field."""

MAX_FEEDBACK_BYTES = 1024
"""Largest payload decoded (a full message is about 130 bytes)."""

MAX_TRIGGER_ID_LEN = 64
"""Longest trigger id accepted (Vagus's own are 36-character UUIDs)."""

VERDICTS = ("helpful", "not_now", "false_alarm", "did_exercise")
"""The verdicts a person can give (the values of `recommender.FeedbackVerdict`)."""

_T = TypeVar("_T")
_LEVEL = "feedback"
_REQUIRED = frozenset({"schema", "verdict"})
_FIELDS = frozenset({"schema", "verdict", "trigger_id", "t_s"})
_TRIGGER_ID = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no spaces


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedbackMessage:
    """One decoded feedback message; None where the sender left a field out."""

    device: str
    verdict: str
    trigger_id: str | None = None
    t_s: float | None = None

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict {self.verdict!r} is not one of {', '.join(VERDICTS)}")


def encode_feedback(
    verdict: str, *, trigger_id: str | None = None, t_s: float | None = None
) -> bytes:
    """The message of one answer (fields left out when None); ValueError for a bad verdict,
    trigger id or time, so nothing the decoder would refuse is ever sent."""
    message: dict[str, Any] = {"schema": SCHEMA_VERSION, "verdict": verdict}
    if trigger_id is not None:
        message["trigger_id"] = trigger_id
    if t_s is not None:
        message["t_s"] = t_s
    payload = json.dumps(message, separators=(",", ":"), allow_nan=False).encode()
    try:
        _check_fields(message)
    except FeedbackMessageError as exc:
        raise ValueError(str(exc)) from exc
    return payload


def decode_feedback(payload: bytes, *, device: str) -> FeedbackMessage:
    """The answer in ``payload``, received on the topic of ``device`` (see the module docs).

    Raises `FeedbackMessageError` (and nothing else) when the message is refused.
    """
    _check_device(device)
    if len(payload) > MAX_FEEDBACK_BYTES:
        raise FeedbackMessageError(
            FeedbackRejection.TOO_LARGE, f"{len(payload)} bytes, at most {MAX_FEEDBACK_BYTES}"
        )
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FeedbackMessageError(FeedbackRejection.NOT_UTF8) from exc
    try:
        data = json.loads(text, object_pairs_hook=strict_object)
    except DuplicateKeyError as exc:
        raise FeedbackMessageError(FeedbackRejection.WRONG_SCHEMA, "duplicate key") from exc
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise FeedbackMessageError(FeedbackRejection.NOT_JSON) from exc
    if not isinstance(data, dict):
        raise FeedbackMessageError(FeedbackRejection.WRONG_SCHEMA, "not an object")
    message = {k: v for k, v in data.items() if v is not None or k in _REQUIRED}
    _check_fields(message)
    t_s = message.get("t_s")
    return FeedbackMessage(
        device=device,
        verdict=message["verdict"],
        trigger_id=message.get("trigger_id"),
        t_s=None if t_s is None else float(t_s),
    )


def feedback_topic(prefix: str, device: str) -> str:
    """``<prefix>/<device>/feedback``; `FeedbackMessageError` (``bad_device``) for a bad id."""
    return _topic_call(device_topic, prefix, device, _LEVEL)


def feedback_subscription(prefix: str) -> str:
    """``<prefix>/+/feedback``: the feedback of every device."""
    return subscription(prefix, _LEVEL)


def device_of_feedback_topic(prefix: str, topic: str) -> str:
    """The device of a feedback ``topic`` under ``prefix``; `FeedbackMessageError` with
    ``bad_topic`` (not ``<prefix>/<one level>/feedback``) or ``bad_device``."""
    return _topic_call(device_of, prefix, topic, _LEVEL)


def _check_fields(message: dict[str, Any]) -> None:
    keys = message.keys()
    if not keys >= _REQUIRED or not keys <= _FIELDS:
        raise FeedbackMessageError(
            FeedbackRejection.WRONG_SCHEMA,
            "an object with schema and verdict, optionally trigger_id and t_s",
        )
    version = message["schema"]
    if isinstance(version, bool) or not isinstance(version, int | float) or version != 1:
        raise FeedbackMessageError(
            FeedbackRejection.WRONG_SCHEMA, f"schema must be {SCHEMA_VERSION}"
        )
    if not isinstance(message["verdict"], str) or message["verdict"] not in VERDICTS:
        raise FeedbackMessageError(FeedbackRejection.BAD_VERDICT, f"one of {', '.join(VERDICTS)}")
    trigger_id = message.get("trigger_id")
    if trigger_id is not None and (
        not isinstance(trigger_id, str)
        or len(trigger_id) > MAX_TRIGGER_ID_LEN
        or _TRIGGER_ID.fullmatch(trigger_id) is None
    ):
        raise FeedbackMessageError(
            FeedbackRejection.BAD_TRIGGER_ID,
            f"1 to {MAX_TRIGGER_ID_LEN} printable ASCII characters without spaces",
        )
    t_s = message.get("t_s")
    if t_s is not None and (
        isinstance(t_s, bool) or not isinstance(t_s, int | float) or not _finite(t_s)
    ):
        raise FeedbackMessageError(FeedbackRejection.BAD_TIME, "a finite number of seconds")


def _finite(value: int | float) -> bool:
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an integer beyond the float range
        return False


def _check_device(device: str) -> None:
    _topic_call(check_device, device)


def _topic_call(fn: Callable[..., _T], *args: str) -> _T:
    """``fn(*args)`` with a `TopicError` turned into this codec's typed error."""
    try:
        return fn(*args)
    except TopicError as exc:
        raise FeedbackMessageError(FeedbackRejection(exc.reason), exc.detail) from exc
