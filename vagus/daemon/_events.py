"""What sources tell the daemon besides beats: device status changes."""

from __future__ import annotations

from dataclasses import dataclass

from hrv import BeatBatch


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceStatus:
    """A wearable's link, battery and contact at ``t_s`` (None where unknown)."""

    device: str
    t_s: float
    connected: bool
    link: str
    battery_pct: int | None = None
    contact: bool | None = None
    note: str | None = None


SourceEvent = BeatBatch | DeviceStatus
"""What the sources put into the daemon's inbox."""
