"""What sources tell the pipeline: beats, device status, and deliveries awaiting an ack."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hrv import BeatBatch


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceStatus:
    """A wearable's link and battery at ``t_s`` (None where unknown)."""

    device: str
    t_s: float
    connected: bool
    link: str
    battery_pct: int | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Feedback:
    """What a person said about a suggestion (MQTT feedback topic, the web page, the CLI).

    ``verdict`` is one of ``helpful``, ``not_now``, ``false_alarm``,
    ``did_exercise``; ``trigger_id`` None means the device's last suggestion.
    The pipeline validates it (the trigger must exist for that device).
    """

    device: str
    verdict: str
    t_s: float
    trigger_id: str | None = None


SourceEvent = BeatBatch | DeviceStatus | Feedback
"""What a source tells the daemon."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """An event whose sender wants to hear once the pipeline has taken it.

    ``ack`` is called (on the event loop, never raising) after the pipeline
    processed ``event``, or dropped it as bad input: an MQTT intake
    acknowledges the broker's QoS 1 message only then, so a crash or SIGTERM
    before that leaves the message with the broker, to be delivered again.
    """

    event: SourceEvent
    ack: Callable[[], None]


InboxItem = SourceEvent | Delivery
"""One item of the daemon's inbox."""
