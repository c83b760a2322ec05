"""What sources tell the pipeline: beats, device status, and deliveries awaiting an ack."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from hrv import BeatBatch, BoolArray, FloatArray


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


@dataclass(frozen=True, slots=True, eq=False)
class BeatColumns:
    """The beats of many messages (of one or many devices) in one set of columns.

    Message ``i`` came from ``devices[i]`` and holds beats ``bounds[i]:bounds[i + 1]``,
    oldest first, as a `BeatBatch` would; a device may send several messages.
    What an intake takes from its broker in one go (`of_lists`), so the pipeline
    judges, pushes and acknowledges them together instead of one by one.
    """

    devices: tuple[str, ...]
    bounds: NDArray[np.int64]
    t_s: FloatArray
    rr_ms: FloatArray
    gap: BoolArray

    @classmethod
    def of_lists(
        cls,
        devices: Sequence[str],
        t_s: Sequence[float | None],
        rr_ms: Sequence[float | None],
        gap: Sequence[bool],
        counts: Sequence[int],
    ) -> BeatColumns:
        """Messages' beats as concatenated lists (None becomes NaN) and beats per message."""
        bounds = np.zeros(len(counts) + 1, np.int64)
        np.cumsum(counts, out=bounds[1:])
        return cls(
            devices=tuple(devices),
            bounds=bounds,
            t_s=np.array(t_s, np.float64).reshape(-1),
            rr_ms=np.array(rr_ms, np.float64).reshape(-1),
            gap=np.array(gap, np.bool_).reshape(-1),
        )

    @classmethod
    def join(cls, events: Sequence[BeatBatch | BeatColumns]) -> BeatColumns:
        """Beats events, in order, as one `BeatColumns`."""
        if len(events) == 1 and isinstance(events[0], BeatColumns):
            return events[0]
        parts = [e if isinstance(e, BeatColumns) else cls.of_batch(e) for e in events]
        counts = np.concatenate([np.diff(part.bounds) for part in parts])
        bounds = np.zeros(counts.size + 1, np.int64)
        np.cumsum(counts, out=bounds[1:])
        return cls(
            devices=tuple(d for part in parts for d in part.devices),
            bounds=bounds,
            t_s=np.concatenate([part.t_s for part in parts]),
            rr_ms=np.concatenate([part.rr_ms for part in parts]),
            gap=np.concatenate([part.gap for part in parts]),
        )

    @classmethod
    def of_batch(cls, batch: BeatBatch) -> BeatColumns:
        """One `BeatBatch` as a single message."""
        bounds = np.array([0, len(batch)], np.int64)
        return cls(
            devices=(batch.device,), bounds=bounds, t_s=batch.t_s, rr_ms=batch.rr_ms, gap=batch.gap
        )

    def __post_init__(self) -> None:
        n = int(self.bounds[-1]) if self.bounds.size else 0
        if self.bounds.size != len(self.devices) + 1 or not (
            self.t_s.size == self.rr_ms.size == self.gap.size == n
        ):
            raise ValueError("BeatColumns: bounds, devices and columns disagree")

    def __len__(self) -> int:
        """Beats in all messages."""
        return int(self.t_s.size)

    def batch(self, i: int) -> BeatBatch:
        """Message ``i`` as a `BeatBatch`."""
        lo, hi = int(self.bounds[i]), int(self.bounds[i + 1])
        return BeatBatch(
            device=self.devices[i],
            t_s=self.t_s[lo:hi],
            rr_ms=self.rr_ms[lo:hi],
            gap=self.gap[lo:hi],
        )

    def select(self, keep: BoolArray) -> BeatColumns:
        """The messages where ``keep`` (one flag per message), in order."""
        counts = np.diff(self.bounds)
        beats = np.repeat(keep, counts)
        bounds = np.zeros(int(keep.sum()) + 1, np.int64)
        np.cumsum(counts[keep], out=bounds[1:])
        return BeatColumns(
            devices=tuple(d for d, k in zip(self.devices, keep.tolist(), strict=True) if k),
            bounds=bounds,
            t_s=self.t_s[beats],
            rr_ms=self.rr_ms[beats],
            gap=self.gap[beats],
        )

    def batches(self) -> list[BeatBatch]:
        """Every message as a `BeatBatch`, in order."""
        return [self.batch(i) for i in range(len(self.devices))]


SourceEvent = BeatBatch | BeatColumns | DeviceStatus | Feedback
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
