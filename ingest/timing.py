"""Beat timing: RR intervals, which carry no timestamps, placed on the wall clock.

A 0x2A37 notification lists the RR intervals completed since the previous
notification, oldest first, but not when the beats happened. Within a
*segment* (a stretch without gaps) the beats are placed by summing RR
(the "summed-RR clock", whose last beat is at ``P_i`` for notification
``i``), and one offset ``o`` maps that clock to wall time: ``t = P + o``.

The offset is bracketed by two facts about each arrival time ``a_i``
(the lower/upper envelope method used for sender/receiver clock offsets,
e.g. Paxson, "On calibrating measurements of packet transit times",
SIGMETRICS 1998):

- upper bound: the last beat of notification ``i`` happened at or before
  its arrival, so ``o <= a_i - P_i``;
- lower bound: a strap reports every beat completed before it notifies, so
  the first beat ``F_i`` of notification ``i`` happened after the previous
  notification arrived: ``o > a_{i-1} - F_i``.

The estimate is the middle of ``[max lower, min upper]`` over the last
``window`` notifications. The strap's and the host's clocks drift apart
(crystals: tens of ppm, a few ms per minute), so each bound is widened by
``max_drift_ppm`` times its age before use (the "dispersion" of NTP, RFC
5905 section 11.2): old bounds lose their grip and the estimate follows the
drift. Bounds crossed by transport jitter still give their middle. When a
new notification contradicts the bracket by more than ``gap_tolerance_s``,
beats were lost or duplicated and the segment ends (re-anchor). A new
segment's beats are held until the bracket is narrower than
``settle_width_s`` (or ``settle_max_s`` has passed), so beats right after a
reconnect are placed as well as later ones. The constant part of the BLE
transport latency cannot be observed and stays in the timestamps
(typically well under 50 ms).

A segment ends, and the first beat after it has ``gap=True``, when: the
caller reports a gap (`BeatClock.mark_gap`, e.g. a disconnect); no
notification arrived for ``max_silence_s``; notifications arrived without
RR for ``max_silence_s``; the sensor reports no skin contact (its RR are
dropped and counted: they are not heartbeats); or the bounds contradict.

Notifications without RR (optical sensors, some watches) still give HR
samples (`HrSamples`; notifications saying "no contact" give none, their
HR is not a heart rate); then HRV is unavailable (`NO_RR_MESSAGE`) and no
RR is ever invented. No clock reads: arrival times are data.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np

from hrv import BeatBatch, BoolArray, FloatArray
from ingest.hrm import HeartRateMeasurement

__all__ = [
    "NO_RR_MESSAGE",
    "BeatClock",
    "HrSamples",
    "Timed",
    "concat_beats",
    "time_notifications",
]

NO_RR_MESSAGE: Final = "no RR: HRV unavailable"


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class HrSamples:
    """Heart rate as reported by the device, one sample per notification, oldest first."""

    device: str
    t_s: FloatArray
    hr_bpm: FloatArray

    def __post_init__(self) -> None:
        t_s = np.ascontiguousarray(self.t_s, dtype=np.float64)
        hr_bpm = np.ascontiguousarray(self.hr_bpm, dtype=np.float64)
        if t_s.ndim != 1 or t_s.shape != hr_bpm.shape:
            raise ValueError(f"HrSamples arrays differ: t_s {t_s.shape}, hr_bpm {hr_bpm.shape}")
        object.__setattr__(self, "t_s", t_s)
        object.__setattr__(self, "hr_bpm", hr_bpm)

    def __len__(self) -> int:
        return int(self.t_s.size)


@dataclass(frozen=True, slots=True, kw_only=True)
class Timed:
    """What one step of `BeatClock` produced: beats now placed, the HR sample, and RR status.

    ``beats`` may hold beats of earlier notifications (held while a segment
    settled) and is often empty. ``hrv_unavailable`` is True while no RR has
    arrived for ``max_silence_s`` (report `NO_RR_MESSAGE`).
    """

    beats: BeatBatch
    hr: HrSamples
    hrv_unavailable: bool


class _Bounds:
    """The last ``capacity`` notifications' offset bounds, in a ring of numpy arrays."""

    __slots__ = ("_arrival_s", "_count", "_lower", "_next", "_upper", "drift")

    def __init__(self, capacity: int, drift: float) -> None:
        self.drift = drift
        self._arrival_s = np.empty(capacity)
        self._upper = np.empty(capacity)
        self._lower = np.empty(capacity)
        self._next = 0
        self._count = 0

    def add(self, arrival_s: float, upper: float, lower: float) -> None:
        """Keep one notification's bounds (``lower`` is -inf when unknown), dropping the oldest."""
        i = self._next
        self._arrival_s[i], self._upper[i], self._lower[i] = arrival_s, upper, lower
        self._next = (i + 1) % self._arrival_s.size
        self._count = min(self._count + 1, self._arrival_s.size)

    def bracket(self, now_s: float) -> tuple[float, float]:
        """(lower, upper) bound of the offset at ``now_s``, each widened by drift since taken."""
        n = self._count
        slack = self.drift * (now_s - self._arrival_s[:n])
        return float(np.max(self._lower[:n] - slack)), float(np.min(self._upper[:n] + slack))

    def offset_s(self, now_s: float) -> float:
        """The middle of the bracket (its upper end while no lower bound is known)."""
        lower, upper = self.bracket(now_s)
        return upper if lower == -math.inf else (upper + lower) / 2


@dataclass(slots=True)
class _Segment:
    """Mutable state of one gap-free stretch; times on the summed-RR clock are seconds."""

    started_s: float
    prev_arrival_s: float
    bounds: _Bounds
    spacing_s: float = math.inf
    """Time between the two latest notifications (inf until there are two)."""
    last_beat_summed_s: float = 0.0
    last_rr_s: float = 0.0
    settled: bool = False
    held_summed_s: list[FloatArray] = field(default_factory=list)
    held_rr_ms: list[FloatArray] = field(default_factory=list)
    held_gap: list[BoolArray] = field(default_factory=list)


class BeatClock:
    """Places one device's RR intervals on the wall clock; fed ``(arrival_s, measurement)``.

    See the module docstring for the method. Not thread-safe; one per device.
    With the defaults, on 80 stretches of the 60-minute test recording sent
    like a Polar strap (1 s notifications, 5-20 ms latency), a new segment's
    beats were held a median 17 s (90th percentile 37 s, at most
    ``settle_max_s``) and then placed within 50 ms in 79 of 80 (the worst,
    52 ms, reached ``settle_max_s`` with the bracket still 82 ms wide).
    """

    def __init__(
        self,
        device: str,
        *,
        max_silence_s: float = 3.0,
        gap_tolerance_s: float = 0.25,
        settle_width_s: float = 0.08,
        settle_max_s: float = 60.0,
        max_drift_ppm: float = 200.0,
        window: int = 600,
    ) -> None:
        if not device:
            raise ValueError("BeatClock.device must not be empty")
        for name, value in (
            ("max_silence_s", max_silence_s),
            ("gap_tolerance_s", gap_tolerance_s),
            ("settle_width_s", settle_width_s),
            ("settle_max_s", settle_max_s),
            ("max_drift_ppm", max_drift_ppm),
            ("window", window),
        ):
            if not value > 0:
                raise ValueError(f"BeatClock {name}={value} must be positive")
        self.device = device
        self.max_silence_s = max_silence_s
        self.gap_tolerance_s = gap_tolerance_s
        self.settle_width_s = settle_width_s
        self.settle_max_s = settle_max_s
        self.max_drift_ppm = max_drift_ppm
        self.window = window
        self.dropped_no_contact = 0
        """RR values dropped because the sensor reported no skin contact."""
        self._segment: _Segment | None = None
        self._gap_next = False
        self._last_arrival_s: float | None = None
        self._last_rr_arrival_s: float | None = None

    def feed(self, arrival_s: float, m: HeartRateMeasurement) -> Timed:
        """Take one notification that arrived at ``arrival_s`` (seconds, same clock throughout)."""
        parts: list[BeatBatch] = []
        last, last_rr = self._last_arrival_s, self._last_rr_arrival_s
        if m.sensor_contact is False:
            self.dropped_no_contact += len(m.rr_ms)
            parts.append(self.mark_gap())
        elif (last is not None and arrival_s - last > self.max_silence_s) or (
            m.rr_ms and last_rr is not None and arrival_s - last_rr > self.max_silence_s
        ):
            parts.append(self.mark_gap())
        self._last_arrival_s = arrival_s
        if m.rr_ms and m.sensor_contact is not False:
            self._last_rr_arrival_s = arrival_s
            parts.append(self._add_rr(arrival_s, np.asarray(m.rr_ms, dtype=np.float64)))
        elif self._segment is not None:
            self._segment.spacing_s = arrival_s - self._segment.prev_arrival_s
            self._segment.prev_arrival_s = arrival_s
        rr_at = self._last_rr_arrival_s
        contact = m.sensor_contact is not False
        return Timed(
            beats=self._concat(parts),
            hr=HrSamples(
                device=self.device,
                t_s=np.array([arrival_s] if contact else []),
                hr_bpm=np.array([float(m.hr_bpm)] if contact else []),
            ),
            hrv_unavailable=rr_at is None or arrival_s - rr_at > self.max_silence_s,
        )

    def mark_gap(self) -> BeatBatch:
        """End the current segment (e.g. on a disconnect); returns beats it still held."""
        segment, self._segment = self._segment, None
        if segment is None:
            return self._concat([])
        self._gap_next = True
        return self._release(segment, segment.prev_arrival_s)

    def flush(self) -> BeatBatch:
        """Release beats held by an unsettled segment (at shutdown); the segment goes on."""
        segment = self._segment
        if segment is None or segment.settled:
            return self._concat([])
        segment.settled = True
        return self._release(segment, segment.prev_arrival_s)

    def _add_rr(self, arrival_s: float, rr_ms: FloatArray) -> BeatBatch:
        rel_s = np.cumsum(rr_ms) / 1000.0
        gap = np.zeros(rr_ms.size, dtype=np.bool_)
        segment = self._segment
        released: list[BeatBatch] = []
        if segment is not None:
            summed_s = segment.last_beat_summed_s + rel_s
            upper = arrival_s - float(summed_s[-1])
            lower = segment.prev_arrival_s - float(summed_s[0])
            if self._contradicts(segment, arrival_s, upper, lower):
                released.append(self.mark_gap())
                segment = None
        if segment is None:
            segment = self._segment = _Segment(
                started_s=arrival_s,
                prev_arrival_s=arrival_s,
                bounds=_Bounds(self.window, self.max_drift_ppm * 1e-6),
            )
            summed_s = rel_s - rel_s[-1]
            upper, lower = arrival_s, -math.inf
            gap[0], self._gap_next = self._gap_next, False
        segment.bounds.add(arrival_s, upper, lower)
        segment.held_summed_s.append(summed_s)
        segment.held_rr_ms.append(rr_ms)
        segment.held_gap.append(gap)
        segment.last_beat_summed_s = float(summed_s[-1])
        segment.last_rr_s = float(rr_ms[-1]) / 1000.0
        segment.spacing_s = arrival_s - segment.prev_arrival_s
        segment.prev_arrival_s = arrival_s
        lower, upper = segment.bounds.bracket(arrival_s)
        if not segment.settled and (
            upper - lower <= self.settle_width_s
            or arrival_s - segment.started_s >= self.settle_max_s
        ):
            segment.settled = True
        if segment.settled:
            released.append(self._release(segment, arrival_s))
        return self._concat(released)

    def _contradicts(self, segment: _Segment, now_s: float, upper: float, lower: float) -> bool:
        """True when a new notification's bounds show beats lost or duplicated before it.

        Beyond ``gap_tolerance_s``: its first beat would precede the previous
        arrival (lost beats), or its last beat would follow its own arrival
        (duplicated RR). Or a notification looks lost: this one came more than
        1.5 times the previous spacing after the last, and the silence since
        its last beat is longer than 1.5 times the RR before it (the next beat
        is overdue). Requiring both keeps pauses (a long RR after a premature
        beat) from passing for losses. A loss that trips none of these is
        caught by the next notification's lower bound; the beats in between
        are then misplaced by the lost RR.
        """
        tol = self.gap_tolerance_s
        old_lower, old_upper = segment.bounds.bracket(now_s)
        silence_s = upper - segment.bounds.offset_s(now_s)
        late = now_s - segment.prev_arrival_s > 1.5 * segment.spacing_s
        return (
            lower > old_upper + tol
            or upper < old_lower - tol
            or (late and silence_s > 1.5 * segment.last_rr_s + tol)
        )

    def _release(self, segment: _Segment, now_s: float) -> BeatBatch:
        if not segment.held_rr_ms:
            return self._concat([])
        offset_s = segment.bounds.offset_s(now_s)
        beats = BeatBatch(
            device=self.device,
            t_s=np.concatenate(segment.held_summed_s) + offset_s,
            rr_ms=np.concatenate(segment.held_rr_ms),
            gap=np.concatenate(segment.held_gap),
        )
        segment.held_summed_s.clear()
        segment.held_rr_ms.clear()
        segment.held_gap.clear()
        return beats

    def _concat(self, parts: Sequence[BeatBatch]) -> BeatBatch:
        return concat_beats(self.device, parts)


def concat_beats(device: str, parts: Sequence[BeatBatch]) -> BeatBatch:
    """One `BeatBatch` of ``device`` holding ``parts`` in order (empty when none)."""
    return BeatBatch(
        device=device,
        t_s=np.concatenate([p.t_s for p in parts]) if parts else np.zeros(0),
        rr_ms=np.concatenate([p.rr_ms for p in parts]) if parts else np.zeros(0),
        gap=np.concatenate([p.gap for p in parts]) if parts else np.zeros(0, dtype=np.bool_),
    )


def time_notifications(
    clock: BeatClock,
    arrivals_s: Sequence[float],
    measurements: Sequence[HeartRateMeasurement],
) -> tuple[BeatBatch, HrSamples]:
    """Feed a whole recorded notification sequence to ``clock``: all beats, all HR samples."""
    if len(arrivals_s) != len(measurements):
        raise ValueError(f"{len(arrivals_s)} arrival times for {len(measurements)} measurements")
    steps = [clock.feed(a, m) for a, m in zip(arrivals_s, measurements, strict=True)]
    beats = concat_beats(clock.device, [*(s.beats for s in steps), clock.flush()])
    hr = HrSamples(
        device=clock.device,
        t_s=np.concatenate([s.hr.t_s for s in steps]) if steps else np.zeros(0),
        hr_bpm=np.concatenate([s.hr.hr_bpm for s in steps]) if steps else np.zeros(0),
    )
    return beats, hr
