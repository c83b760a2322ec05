"""JSON of the page's API (pure): records in, JSON-ready dicts out; feedback requests in.

Each payload carries ``schema`` = ``vagus.web.<kind>/<version>``; the JSON
Schemas live in `vagus/schemas/web_<kind>.json` and reuse the MQTT ones for
a window (``vagus.metrics/1``), a trigger and an outcome. NaN is ``null``.
"""

from __future__ import annotations

import json
from typing import Any

from ingest.device_ids import device_id_problem
from vagus.events import Feedback
from vagus.mqtt.payloads import metrics_json, number, outcome_json, trigger_json
from vagus.web._state import DeviceLive, WebState, WindowColumns
from vagus.web.errors import FeedbackRequestError

DEVICE_SCHEMA = "vagus.web.device/1"
DEVICES_SCHEMA = "vagus.web.devices/1"
WINDOWS_SCHEMA = "vagus.web.windows/1"
FEEDBACK_SCHEMA = "vagus.web.feedback/1"

VERDICTS = ("helpful", "not_now", "false_alarm", "did_exercise")
"""What a person may say about a suggestion (`vagus.events.Feedback.verdict`)."""

MAX_FEEDBACK_BYTES = 4096
"""Largest feedback request body."""

MAX_TRIGGER_ID_CHARS = 64

Json = dict[str, Any]


def device_json(live: DeviceLive) -> Json:
    """One device's card: link, battery, level, latest window, suggestion in progress."""
    suggestion = live.suggestion
    return {
        "schema": DEVICE_SCHEMA,
        "device": live.device,
        "link": live.link,
        "connected": live.connected,
        "battery_pct": live.battery_pct,
        "level": None if live.level is None else live.level.value,
        "window": None if live.window is None else metrics_json(live.window),
        "suggestion": None if suggestion is None else trigger_json(suggestion),
        "answer": live.answer if suggestion is not None else None,
        "outcome": None if live.outcome is None else outcome_json(live.outcome),
    }


def devices_json(state: WebState, *, report: str | None) -> Json:
    """``/api/devices``: every device's card, and where the session report is (or null)."""
    return {
        "schema": DEVICES_SCHEMA,
        "devices": [device_json(live) for live in state.devices.values()],
        "report": report,
    }


def windows_json(device: str, columns: WindowColumns) -> Json:
    """``/api/devices/{id}/windows``: windows as columns of equal length, oldest first."""
    return {
        "schema": WINDOWS_SCHEMA,
        "device": device,
        "t_end_s": [float(t) for t in columns.t_end_s],
        "hr_bpm": [number(v) for v in columns.hr_bpm],
        "rmssd_ms": [number(v) for v in columns.rmssd_ms],
        "stress": [number(v) for v in columns.stress],
        "quality": [q.value for q in columns.quality],
    }


def feedback_json(feedback: Feedback) -> Json:
    """The answer to an accepted ``POST /api/feedback``: the feedback as the daemon got it."""
    return {
        "schema": FEEDBACK_SCHEMA,
        "device": feedback.device,
        "verdict": feedback.verdict,
        "trigger_id": feedback.trigger_id,
        "t_s": feedback.t_s,
    }


def parse_feedback(body: bytes, *, known: WebState, t_s: float) -> Feedback:
    """A feedback request's body as a `Feedback` at ``t_s``; `FeedbackRequestError` says why not.

    The body is ``{"device": ..., "verdict": ..., "trigger_id": ...}`` (``trigger_id``
    optional or null: the device's last suggestion; ``schema`` optional). The device must
    be one the page shows; whether the trigger exists is the pipeline's to judge.
    """
    if len(body) > MAX_FEEDBACK_BYTES:
        raise FeedbackRequestError(f"body over {MAX_FEEDBACK_BYTES} bytes", status=413)
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise FeedbackRequestError("body is not JSON") from None
    if not isinstance(data, dict):
        raise FeedbackRequestError("body is not a JSON object")
    extra = set(data) - {"schema", "device", "verdict", "trigger_id"}
    if extra:
        raise FeedbackRequestError(f"unknown keys: {', '.join(sorted(extra))}")
    if data.get("schema", FEEDBACK_SCHEMA) != FEEDBACK_SCHEMA:
        raise FeedbackRequestError(f"schema must be {FEEDBACK_SCHEMA!r}")
    device, verdict, trigger_id = data.get("device"), data.get("verdict"), data.get("trigger_id")
    if not isinstance(device, str) or device_id_problem(device) is not None:
        raise FeedbackRequestError("device must be a device id")
    if verdict not in VERDICTS:
        raise FeedbackRequestError(f"verdict must be one of {', '.join(VERDICTS)}")
    if trigger_id is not None and not (
        isinstance(trigger_id, str) and 0 < len(trigger_id) <= MAX_TRIGGER_ID_CHARS
    ):
        raise FeedbackRequestError(f"trigger_id must be null or 1 to {MAX_TRIGGER_ID_CHARS} chars")
    if device not in known.devices:
        raise FeedbackRequestError(f"no device {device!r} here", status=404)
    return Feedback(device=device, verdict=verdict, t_s=t_s, trigger_id=trigger_id)
