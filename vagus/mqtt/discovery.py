"""Home Assistant MQTT discovery: one device-based config per strap (sensors, buttons, event).

Since Home Assistant 2024.11 a device announces all its entities in one
retained message on ``<discovery_prefix>/device/<node_id>/config``: ``dev``
(the device), ``o`` (the origin: this program), the settings its components
share (availability, QoS), and ``cmps``, one entry per entity with its
platform in ``p`` (https://www.home-assistant.io/integrations/mqtt/#device-discovery-payload).
An empty retained payload on that topic removes the device and its entities.

The components: sensors for heart rate, RMSSD, stress and battery; an
``event`` for suggestions (on the trigger topic); and ``button``\\ s
"Helpful", "Not now" and "False alarm" whose press publishes a feedback
message without ``trigger_id`` (the device's last suggestion) on the
feedback topic, so a dashboard or a phone notification action can answer.

Before device-based discovery, Vagus announced one config per entity on
``<discovery_prefix>/<component>/<node_id>/<object_id>/config``;
`legacy_removal_messages` clears those (empty retained payloads).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ingest.feedback_message import encode_feedback
from vagus.mqtt.payloads import Message, encode
from vagus.mqtt.topics import Topics

EVENT_TYPE = "breathing_exercise"

FEEDBACK_BUTTONS = (
    ("helpful", "Helpful", "mdi:thumb-up"),
    ("not_now", "Not now", "mdi:bell-sleep"),
    ("false_alarm", "False alarm", "mdi:thumb-down"),
)
"""The verdict buttons: verdict (also the component id), name, icon."""


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
"""The entities of the per-entity discovery, still the sensors and event of the device."""


def node_id(device: str) -> str:
    """A discovery node id for ``device``: ``vagus_`` + lower-case letters, digits, ``_``."""
    return "vagus_" + re.sub(r"[^a-z0-9]+", "_", device.lower()).strip("_")


def device_config_topic(discovery_prefix: str, device: str) -> str:
    """``<discovery_prefix>/device/<node_id>/config``."""
    return f"{discovery_prefix}/device/{node_id(device)}/config"


def device_config(topics: Topics, device: str, *, version: str = "") -> dict[str, Any]:
    """The device-based discovery config of ``device`` (see the module docs)."""
    node = node_id(device)
    components: dict[str, dict[str, Any]] = {}
    for entity in _ENTITIES:
        components[entity.object_id] = {
            "p": entity.component,
            "name": entity.name,
            "unique_id": f"{node}_{entity.object_id}",
            "state_topic": topics.device(device, entity.topic_kind),
            **entity.fields,
        }
    for verdict, name, icon in FEEDBACK_BUTTONS:
        components[verdict] = {
            "p": "button",
            "name": name,
            "unique_id": f"{node}_{verdict}",
            "command_topic": topics.feedback(device),
            "payload_press": encode_feedback(verdict).decode(),
            "icon": icon,
        }
    origin: dict[str, str] = {"name": "vagus"}
    if version:
        origin["sw"] = version
    return {
        "dev": {
            "ids": [node],
            "name": f"Vagus {device}",
            "mf": "Vagus",
            "mdl": "HRV biofeedback",
        },
        "o": origin,
        "availability_topic": topics.status,
        "payload_available": "online",
        "payload_not_available": "offline",
        "qos": 1,
        "cmps": components,
    }


def discovery_messages(
    discovery_prefix: str, topics: Topics, device: str, *, version: str = ""
) -> list[Message]:
    """The retained config message announcing ``device`` and its entities."""
    return [
        Message(
            topic=device_config_topic(discovery_prefix, device),
            payload=encode(device_config(topics, device, version=version)),
            qos=1,
            retain=True,
        )
    ]


def removal_messages(discovery_prefix: str, device: str) -> list[Message]:
    """An empty retained config: Home Assistant removes ``device`` and its entities."""
    return [
        Message(
            topic=device_config_topic(discovery_prefix, device), payload=b"", qos=1, retain=True
        )
    ]


def legacy_removal_messages(discovery_prefix: str, device: str) -> list[Message]:
    """Empty retained payloads on the per-entity config topics earlier versions used."""
    node = node_id(device)
    return [
        Message(
            topic=f"{discovery_prefix}/{e.component}/{node}/{e.object_id}/config",
            payload=b"",
            qos=1,
            retain=True,
        )
        for e in _ENTITIES
    ]
