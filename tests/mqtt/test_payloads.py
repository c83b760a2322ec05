"""Payload builders, topics and discovery (pure): every payload validates against its schema."""

from __future__ import annotations

import json
import math

import jsonschema
import pytest

from hrv import Quality
from recommender import Evaluator, StressLevel, default_config
from tests.recommender.windows import episodes, series, window
from vagus.mqtt import (
    Topics,
    battery_json,
    discovery_messages,
    encode,
    metrics_json,
    node_id,
    outcome_json,
    removal_messages,
    state_json,
    trigger_json,
)
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


def test_discovery_groups_entities_under_one_device() -> None:
    """HR, RMSSD, stress, battery sensors and a trigger event share one HA device."""
    messages = discovery_messages("homeassistant", Topics(), "C0:FF:EE:00:00:01")
    node = node_id("C0:FF:EE:00:00:01")
    assert node == "vagus_c0_ff_ee_00_00_01"
    topics = sorted(m.topic for m in messages)
    assert topics == sorted(
        [
            f"homeassistant/sensor/{node}/hr/config",
            f"homeassistant/sensor/{node}/rmssd/config",
            f"homeassistant/sensor/{node}/stress/config",
            f"homeassistant/sensor/{node}/battery/config",
            f"homeassistant/event/{node}/trigger/config",
        ]
    )
    configs = [json.loads(m.payload) for m in messages]
    for config in configs:
        jsonschema.validate(config, load_schema("ha_discovery"))
    assert {json.dumps(c["device"]) for c in configs} == {json.dumps(configs[0]["device"])}
    assert all(m.retain and m.qos == 1 for m in messages)
    removal = removal_messages("homeassistant", "C0:FF:EE:00:00:01")
    assert sorted(m.topic for m in removal) == topics
    assert all(m.payload == b"" and m.retain for m in removal)
