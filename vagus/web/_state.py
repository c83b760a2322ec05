"""What the page shows, kept as data (pure): each device's latest figures and last hour.

`WebState` is fed the daemon's records by `WebOutput` and answers the API:
a `DeviceLive` per device (link, battery, latest window, stress level, the
suggestion in progress, the last outcome and the person's answer) and a
`WindowRing` per device holding the last `HISTORY_S` of windows as columns.
Memory is bounded: a ring holds at most ``HISTORY_S / step_s + 1`` windows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from hrv import FloatArray, Quality, WindowMetrics
from recommender import Outcome, StressLevel, Trigger, stress_level
from vagus.events import DeviceStatus

HISTORY_S = 3600.0
"""How much of each device's past the page can chart: one hour of windows."""

QUALITIES: tuple[Quality, ...] = tuple(Quality)
"""Quality verdicts by their code in `WindowRing.quality`."""

_CODE = {quality: code for code, quality in enumerate(QUALITIES)}


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowColumns:
    """Some windows of one device as columns, oldest first (NaN: not available)."""

    t_end_s: FloatArray
    hr_bpm: FloatArray
    rmssd_ms: FloatArray
    stress: FloatArray
    quality: tuple[Quality, ...]

    def __len__(self) -> int:
        return len(self.t_end_s)


class WindowRing:
    """The last ``capacity`` windows of one device, columnar; the oldest is overwritten."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"WindowRing capacity must be >= 1, got {capacity}")
        self.capacity = capacity
        self._t = np.empty(capacity)
        self._figures = np.empty((3, capacity))  # hr_bpm, rmssd_ms, stress
        self._quality = np.empty(capacity, dtype=np.uint8)
        self._next = 0  # slot the next window goes to
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def append(self, window: WindowMetrics) -> None:
        """Keep ``window`` (overwriting the oldest when full)."""
        i = self._next
        self._t[i] = window.t_end_s
        self._figures[:, i] = (window.hr_bpm, window.rmssd_ms, window.stress)
        self._quality[i] = _CODE[Quality(window.quality)]
        self._next = (i + 1) % self.capacity
        self._size = min(self._size + 1, self.capacity)

    def since(self, t_s: float | None = None) -> WindowColumns:
        """Windows ending after ``t_s`` (all kept when None) and within `HISTORY_S` of the
        newest, in the order they arrived."""
        order = (np.arange(self._size) + self._next - self._size) % self.capacity
        t = self._t[order]
        keep = t >= t[-1] - HISTORY_S if self._size else np.zeros(0, dtype=bool)
        if t_s is not None:
            keep &= t > t_s
        order = order[keep]
        hr, rmssd, stress = self._figures[:, order]
        return WindowColumns(
            t_end_s=self._t[order],
            hr_bpm=hr,
            rmssd_ms=rmssd,
            stress=stress,
            quality=tuple(QUALITIES[code] for code in self._quality[order]),
        )


@dataclass(slots=True)
class DeviceLive:
    """Everything the page shows of one device."""

    device: str
    ring: WindowRing
    link: str = "starting"
    connected: bool | None = None
    battery_pct: int | None = None
    window: WindowMetrics | None = None
    level: StressLevel | None = None  # the last verdict (a NaN stress keeps it)
    trigger: Trigger | None = None
    answer: str | None = None  # the person's verdict on `trigger`, from this page
    outcome: Outcome | None = None
    updated_s: float = field(default=math.nan)

    @property
    def suggestion(self) -> Trigger | None:
        """The suggestion in progress: the last trigger, until its exercise's time is over
        by the device's own clock (its latest window)."""
        trigger = self.trigger
        if trigger is None:
            return None
        now = trigger.t_s if self.window is None else max(self.window.t_end_s, trigger.t_s)
        return trigger if now < trigger.t_s + trigger.exercise.duration_s else None


class WebState:
    """Every device's `DeviceLive`; ``step_s`` (the engine's) sizes the rings."""

    def __init__(self, *, step_s: float) -> None:
        if not (math.isfinite(step_s) and step_s > 0):
            raise ValueError(f"WebState step_s must be > 0, got {step_s}")
        self.ring_capacity = math.ceil(HISTORY_S / step_s) + 1
        self.devices: dict[str, DeviceLive] = {}

    def live(self, device: str) -> DeviceLive:
        """The device's record, made on first sight."""
        live = self.devices.get(device)
        if live is None:
            live = self.devices[device] = DeviceLive(device, WindowRing(self.ring_capacity))
        return live

    def window(self, window: WindowMetrics) -> DeviceLive:
        live = self.live(window.device)
        live.window = window
        live.ring.append(window)
        live.level = stress_level(window.stress) or live.level
        live.updated_s = window.t_end_s
        return live

    def status(self, status: DeviceStatus) -> DeviceLive:
        live = self.live(status.device)
        live.link = status.link
        live.connected = status.connected
        if status.battery_pct is not None:
            live.battery_pct = status.battery_pct
        live.updated_s = status.t_s
        return live

    def trigger(self, trigger: Trigger) -> DeviceLive:
        live = self.live(trigger.device)
        live.trigger = trigger
        live.answer = None
        return live

    def outcome(self, outcome: Outcome) -> DeviceLive:
        live = self.live(outcome.device)
        live.outcome = outcome
        return live

    def answered(self, device: str, trigger_id: str, verdict: str) -> DeviceLive | None:
        """Note the person's verdict on the device's current trigger (None: not that one)."""
        live = self.devices.get(device)
        if live is None or live.trigger is None or live.trigger.id != trigger_id:
            return None
        live.answer = verdict
        return live
