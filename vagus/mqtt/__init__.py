"""MQTT output adapter: triggers, outcomes, metrics, state, status and Home Assistant discovery.

`MqttPublisher` is one task of the daemon; see its module for queue sizes and
the overflow policy. Payload builders and topics are pure and reusable.
"""

from vagus.mqtt.discovery import (
    device_config,
    device_config_topic,
    discovery_messages,
    legacy_removal_messages,
    node_id,
    removal_messages,
)
from vagus.mqtt.errors import (
    BrokerRefusedError,
    BrokerTlsError,
    BrokerUnavailableError,
    JournalCorruptError,
    MqttOutputError,
    SecretUnavailableError,
    TriggerQueueFullError,
)
from vagus.mqtt.journal import JournalEntry, TriggerJournal
from vagus.mqtt.payloads import (
    Message,
    battery_json,
    encode,
    feedback_result_json,
    metrics_json,
    outcome_json,
    state_json,
    trigger_json,
)
from vagus.mqtt.publisher import MqttPublisher
from vagus.mqtt.retry import is_retryable
from vagus.mqtt.settings import MqttSettings
from vagus.mqtt.topics import Topics

__all__ = [
    "BrokerRefusedError",
    "BrokerTlsError",
    "BrokerUnavailableError",
    "JournalCorruptError",
    "JournalEntry",
    "Message",
    "MqttOutputError",
    "MqttPublisher",
    "MqttSettings",
    "SecretUnavailableError",
    "Topics",
    "TriggerJournal",
    "TriggerQueueFullError",
    "battery_json",
    "device_config",
    "device_config_topic",
    "discovery_messages",
    "encode",
    "feedback_result_json",
    "is_retryable",
    "legacy_removal_messages",
    "metrics_json",
    "node_id",
    "outcome_json",
    "removal_messages",
    "state_json",
    "trigger_json",
]
