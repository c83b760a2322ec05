"""MQTT topic names under the configured prefix (one place for every topic)."""

from __future__ import annotations

from dataclasses import dataclass

_FORBIDDEN = frozenset("+#/\0")


def check_device(device: str) -> str:
    """``device`` if it can be one topic level (no ``+ # /``, not empty); else ValueError."""
    if not device or _FORBIDDEN & set(device):
        raise ValueError(f"device {device!r} cannot be an MQTT topic level (no + # / or empty)")
    return device


@dataclass(frozen=True, slots=True, kw_only=True)
class Topics:
    """Topic names of one installation: ``<prefix>/<device>/<kind>`` and ``<prefix>/status``."""

    prefix: str = "vagus"

    @property
    def status(self) -> str:
        """Retained ``online``; the last will sets ``offline``."""
        return f"{self.prefix}/status"

    def device(self, device: str, kind: str) -> str:
        """``<prefix>/<device>/<kind>``, e.g. kind ``trigger``, ``metrics``, ``state``."""
        return f"{self.prefix}/{check_device(device)}/{kind}"

    def trigger(self, device: str) -> str:
        """Breathing-exercise suggestions (QoS 1, not retained)."""
        return self.device(device, "trigger")

    def outcome(self, device: str) -> str:
        """What each suggestion did (QoS 1, not retained)."""
        return self.device(device, "outcome")

    def metrics(self, device: str) -> str:
        """One message per window (QoS 0, may be dropped under backpressure)."""
        return self.device(device, "metrics")

    def state(self, device: str) -> str:
        """calm / elevated / high (retained)."""
        return self.device(device, "state")

    def battery(self, device: str) -> str:
        """Battery level of the strap (retained)."""
        return self.device(device, "battery")

    def feedback(self, device: str) -> str:
        """A person's answers to suggestions, read by the daemon (QoS 1)."""
        return self.device(device, "feedback")

    def feedback_result(self, device: str) -> str:
        """What the daemon did with each answer (QoS 1, not retained)."""
        return self.device(device, "feedback/result")

    def session(self, device: str) -> str:
        """A breathing session's pacer and live figures, and its summary (QoS 0, not retained)."""
        return self.device(device, "session")
