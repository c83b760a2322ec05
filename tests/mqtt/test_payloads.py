"""Payload builders, topics and discovery (pure): every payload validates against its schema."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import jsonschema
import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hrv import Quality, WindowMetrics, sliding_windows
from recommender import Evaluator, Feedback, FeedbackVerdict, StressLevel, default_config
from tests.recommender.windows import episodes, series, window
from vagus.mqtt import (
    Topics,
    battery_json,
    discovery_messages,
    encode,
    feedback_result_json,
    legacy_removal_messages,
    metrics_json,
    node_id,
    outcome_json,
    removal_messages,
    state_json,
    trigger_json,
)
from vagus.mqtt.payloads import metrics_payload
from vagus.schemas import load_schema

CHECKER = jsonschema.FormatChecker()


def check(kind: str, payload: object) -> None:
    jsonschema.validate(json.loads(encode(payload)), load_schema(kind), format_checker=CHECKER)  # type: ignore[arg-type]


def test_trigger_and_outcome_payloads_validate() -> None:
    """A real trigger and outcome from the evaluator match their schemas."""
    step = Evaluator(default_config()).feed_many(series(episodes((100, 400)), until_s=900))
    assert step.triggers
    assert step.outcomes
    for trigger in step.triggers:
        payload = trigger_json(trigger)
        check("trigger", payload)
        assert payload["id"] == trigger.id
        assert payload["exercise"]["phases"][0] == {"kind": "inhale", "duration_s": 5.5}
    for outcome in step.outcomes:
        check("outcome", outcome_json(outcome))


def test_metrics_nan_become_null() -> None:
    """Missing figures (NaN) are sent as null and still validate."""
    payload = metrics_json(window(10.0, 50.0, quality=Quality.ARTIFACTS))
    check("metrics", payload)
    assert payload["ln_rmssd_z"] is None
    assert payload["quality"] == "artifacts"
    assert math.isclose(payload["stress"], 50.0)


def test_state_and_battery_validate() -> None:
    """Retained state and battery payloads match their schemas."""
    check("state", state_json("d1", StressLevel.HIGH, 5.0, 81.0))
    check("battery", battery_json("d1", 87, 5.0))
    with pytest.raises(jsonschema.ValidationError):
        check("battery", battery_json("d1", 130, 5.0))


def test_encode_refuses_nan() -> None:
    """Raw NaN can never reach the wire (payload builders map it to null first)."""
    with pytest.raises(ValueError, match="JSON compliant"):
        encode({"x": math.nan})


def test_topics() -> None:
    """Topics live under the prefix; device names that would break a topic are refused."""
    topics = Topics(prefix="home/vagus")
    assert topics.trigger("C0:FF:EE:00:00:01") == "home/vagus/C0:FF:EE:00:00:01/trigger"
    assert topics.status == "home/vagus/status"
    for bad in ("a/b", "a+", "#", ""):
        with pytest.raises(ValueError, match="topic level"):
            topics.state(bad)


def test_discovery_is_one_device_config() -> None:
    """One retained device-based config: dev, o, cmps with the four sensors, the suggestion
    event and three verdict buttons; removal and the legacy per-entity clean-up are empty."""
    device = "C0:FF:EE:00:00:01"
    topics = Topics()
    (message,) = discovery_messages("homeassistant", topics, device, version="1.2.3")
    node = node_id(device)
    assert node == "vagus_c0_ff_ee_00_00_01"
    assert message.topic == f"homeassistant/device/{node}/config"
    assert message.retain
    assert message.qos == 1
    config = json.loads(message.payload)
    jsonschema.validate(config, load_schema("ha_discovery"))
    assert config["dev"]["ids"] == [node]
    assert config["o"] == {"name": "vagus", "sw": "1.2.3"}
    cmps = config["cmps"]
    assert {k: c["p"] for k, c in cmps.items()} == {
        "hr": "sensor",
        "rmssd": "sensor",
        "stress": "sensor",
        "battery": "sensor",
        "trigger": "event",
        "helpful": "button",
        "not_now": "button",
        "false_alarm": "button",
    }
    assert cmps["trigger"]["state_topic"] == topics.trigger(device)
    assert cmps["trigger"]["event_types"] == ["breathing_exercise"]
    feedback_schema = load_schema("feedback")
    for verdict in ("helpful", "not_now", "false_alarm"):
        button = cmps[verdict]
        assert button["command_topic"] == topics.feedback(device)
        press = json.loads(button["payload_press"])
        jsonschema.validate(press, feedback_schema)
        assert press == {"schema": 1, "verdict": verdict}
    assert len({c["unique_id"] for c in cmps.values()}) == len(cmps)
    (removal,) = removal_messages("homeassistant", device)
    assert (removal.topic, removal.payload, removal.retain) == (message.topic, b"", True)
    legacy = legacy_removal_messages("homeassistant", device)
    assert sorted(m.topic for m in legacy) == sorted(
        [
            f"homeassistant/sensor/{node}/hr/config",
            f"homeassistant/sensor/{node}/rmssd/config",
            f"homeassistant/sensor/{node}/stress/config",
            f"homeassistant/sensor/{node}/battery/config",
            f"homeassistant/event/{node}/trigger/config",
        ]
    )
    assert all(m.payload == b"" and m.retain for m in legacy)


def test_feedback_result_payload_validates() -> None:
    """A result from the evaluator (applied, then duplicate) matches its schema."""
    evaluator = Evaluator(default_config())
    step = evaluator.feed_many(series(episodes((100, 400)), until_s=900))
    trigger = step.triggers[0]
    answer = Feedback(trigger_id=trigger.id, verdict=FeedbackVerdict.FALSE_ALARM, t_s=950.0)
    applied = feedback_result_json(evaluator.feedback(trigger.device, answer))
    again = feedback_result_json(evaluator.feedback(trigger.device, answer))
    check("feedback_result", applied)
    check("feedback_result", again)
    assert applied["status"] == "applied"
    assert applied["accepted"] is True
    assert applied["changes"], "a false alarm raises a threshold"
    assert again["status"] == "duplicate"
    assert again["changes"] == {}


FIGURE_VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0, 1e-300, 1e300]),
)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), quality=st.sampled_from(list(Quality)), n_beats=st.integers(0, 10_000))
def test_metrics_payload_is_metrics_json_encoded(
    data: st.DataObject, quality: Quality, n_beats: int
) -> None:
    """The fast payload is byte for byte ``orjson.dumps(metrics_json(window))`` for any
    figures (NaN and infinities become null)."""
    floats = {
        f.name: data.draw(FIGURE_VALUES, label=f.name)
        for f in dataclasses.fields(WindowMetrics)
        if f.name not in ("device", "t_end_s", "n_beats", "quality")
    }
    w = WindowMetrics(
        device="C0:FF:EE:00:00:01", t_end_s=1.8e9, n_beats=n_beats, quality=quality, **floats
    )
    assert metrics_payload(w) == orjson.dumps(metrics_json(w))


def test_metrics_payloads_of_a_real_recording_validate(data_dir: Path) -> None:
    """Every window of the 60-minute recording: the payload validates and is the dict's."""
    rr = np.loadtxt(data_dir / "pyhrv_long_60min.csv", skiprows=1)
    windows = list(sliding_windows(rr, t_s=np.cumsum(rr) / 1000.0).records("pyhrv"))
    assert len(windows) > 700
    schema = load_schema("metrics")
    for w in windows:
        payload = metrics_payload(w)
        assert payload == orjson.dumps(metrics_json(w))
        jsonschema.validate(json.loads(payload), schema, format_checker=CHECKER)
