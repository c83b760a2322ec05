"""The daemon: sources -> engine -> rules -> outputs under one supervisor."""

from vagus.daemon._events import DeviceStatus, SourceEvent
from vagus.daemon._outputs import FilesOutput, InfluxOutput, MqttOutput, Output
from vagus.daemon._sources import (
    INBOX_SIZE,
    Inbox,
    link_status,
    parse_beats_message,
    play_virtual_strap,
    receive_mqtt_beats,
    run_strap_link,
)
from vagus.daemon._supervisor import Daemon, SourceFactory, Summary

__all__ = [
    "INBOX_SIZE",
    "Daemon",
    "DeviceStatus",
    "FilesOutput",
    "Inbox",
    "InfluxOutput",
    "MqttOutput",
    "Output",
    "SourceEvent",
    "SourceFactory",
    "Summary",
    "link_status",
    "parse_beats_message",
    "play_virtual_strap",
    "receive_mqtt_beats",
    "run_strap_link",
]
