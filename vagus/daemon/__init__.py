"""The daemon: sources -> inbox -> pipeline -> one queue and task per output, one supervisor."""

from vagus.daemon._feed import FeedCounters, Output, OutputFeed
from vagus.daemon._mqtt_intake import IntakeCounters, receive_mqtt_beats
from vagus.daemon._outputs import FilesOutput, InfluxOutput, MqttOutput
from vagus.daemon._sources import (
    Inbox,
    link_status,
    play_virtual_strap,
    run_strap_link,
)
from vagus.daemon._supervisor import INBOX_SIZE, Daemon, SourceFactory, Summary
from vagus.daemon._watchdog import WATCHDOG_EXIT_CODE, Watchdog

__all__ = [
    "INBOX_SIZE",
    "WATCHDOG_EXIT_CODE",
    "Daemon",
    "FeedCounters",
    "FilesOutput",
    "Inbox",
    "InfluxOutput",
    "IntakeCounters",
    "MqttOutput",
    "Output",
    "OutputFeed",
    "SourceFactory",
    "Summary",
    "Watchdog",
    "link_status",
    "play_virtual_strap",
    "receive_mqtt_beats",
    "run_strap_link",
]
