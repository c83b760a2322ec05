"""Home Assistant MQTT discovery: a strap's sensors and trigger event, grouped as one device.

Config topics are ``<discovery_prefix>/<component>/<node_id>/<object_id>/config``
(retained); an empty retained payload on the same topics removes them
(https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from vagus.mqtt.payloads import Message, encode
from vagus.mqtt.topics import Topics

EVENT_TYPE = "breathing_exercise"


@dataclass(frozen=True, slots=True, kw_only=True)
class _Entity:
    component: str
    object_id: str
    name: str
    topic_kind: str
    fields: dict[str, Any]


_ENTITIES = (
    _Entity(
        component="sensor",
        object_id="hr",
        name="Heart rate",
        topic_kind="metrics",
        fields={
            "value_template": "{{ value_json.hr_bpm }}",
            "unit_of_measurement": "bpm",
            "state_class": "measurement",
            "icon": "mdi:heart-pulse",
        },
    ),
    _Entity(
        component="sensor",
        object_id="rmssd",
        name="RMSSD",
        topic_kind="metrics",
        fields={
            "value_template": "{{ value_json.rmssd_ms }}",
            "unit_of_measurement": "ms",
            "state_class": "measurement",
            "icon": "mdi:sine-wave",
        },
    ),
    _Entity(
        component="sensor",
        object_id="stress",
        name="Stress",
        topic_kind="metrics",
        fields={
            "value_template": "{{ value_json.stress }}",
            "unit_of_measurement": "%",
            "state_class": "measurement",
            "icon": "mdi:head-alert",
        },
    ),
    _Entity(
        component="sensor",
        object_id="battery",
        name="Battery",
        topic_kind="battery",
        fields={
            "value_template": "{{ value_json.battery_pct }}",
            "unit_of_measurement": "%",
            "device_class": "battery",
            "state_class": "measurement",
        },
    ),
    _Entity(
        component="event",
        object_id="trigger",
        name="Breathing suggestion",
        topic_kind="trigger",
        fields={
            "event_types": [EVENT_TYPE],
            "value_template": (
                '{ "event_type": "' + EVENT_TYPE + '", "exercise": "{{ value_json.exercise.id }}",'
                ' "rule": "{{ value_json.rule }}", "id": "{{ value_json.id }}" }'
            ),
            "icon": "mdi:weather-windy",
        },
    ),
)


def node_id(device: str) -> str:
    """A discovery node id for ``device``: ``vagus_`` + lower-case letters, digits, ``_``."""
    return "vagus_" + re.sub(r"[^a-z0-9]+", "_", device.lower()).strip("_")


def discovery_messages(discovery_prefix: str, topics: Topics, device: str) -> list[Message]:
    """Retained config messages announcing ``device``'s entities."""
    node = node_id(device)
    ha_device = {
        "identifiers": [node],
        "name": f"Vagus {device}",
        "manufacturer": "Vagus",
        "model": "HRV biofeedback",
    }
    messages = []
    for entity in _ENTITIES:
        config = {
            "name": entity.name,
            "unique_id": f"{node}_{entity.object_id}",
            "state_topic": topics.device(device, entity.topic_kind),
            "availability_topic": topics.status,
            "payload_available": "online",
            "payload_not_available": "offline",
            "device": ha_device,
            "origin": {"name": "vagus"},
            **entity.fields,
        }
        messages.append(
            Message(
                topic=_config_topic(discovery_prefix, entity, node),
                payload=encode(config),
                qos=1,
                retain=True,
            )
        )
    return messages


def removal_messages(discovery_prefix: str, device: str) -> list[Message]:
    """Empty retained configs: Home Assistant removes ``device``'s entities."""
    node = node_id(device)
    return [
        Message(topic=_config_topic(discovery_prefix, e, node), payload=b"", qos=1, retain=True)
        for e in _ENTITIES
    ]


def _config_topic(discovery_prefix: str, entity: _Entity, node: str) -> str:
    return f"{discovery_prefix}/{entity.component}/{node}/{entity.object_id}/config"
