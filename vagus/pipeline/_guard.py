"""The input guard: turns whatever a device sends into beats the engine accepts, or counts.

`hrv.StreamEngine` rejects (raises on) beats that do not rise strictly, RR
that is not finite and positive, and grows a device's ring with the beats
of its window. The guard stands in front of it, per device, and turns every
such case into data: a beat is dropped and counted under a `Reject` reason,
and, where the drop leaves a hole, the next kept beat carries a gap flag.
Checked in this order, each against the last beat kept for the device:

- ``bad_time``: a beat time not finite, or beyond `MAX_TIME_S` either side of 0 (the
  engine numbers windows by ``t_s / step_s`` in int64, which such times overflow);
- ``rr_out_of_range``: RR not finite or outside the engine's clipping range
  (`RR_MIN_MS`-`RR_MAX_MS`); the hole becomes a gap;
- ``future``: a beat more than `MAX_FUTURE_S` after ``now`` (the wall clock,
  or a simulation's clock); the hole becomes a gap;
- ``duplicate``: a beat at or before the last kept beat, by at most
  `MAX_JUMP_S` (a QoS 1 redelivery, a repeated notification, an overlap);
- ``too_dense``: a beat closer than `MIN_SPACING_S` to the last kept beat
  (no heart beats faster than 300 bpm, so no window ever holds more than
  ``window_s / MIN_SPACING_S`` beats and no batch can grow the rings).

`check_columns` does the common case, every beat of a device kept, for the
messages of many devices in one vectorized pass (`vagus.events.BeatColumns`),
with the result and state `check` of each message in turn would give; it
leaves the messages of devices with anything else to `check`.

A beat more than `MAX_JUMP_S` away from the last kept beat, forwards (a
strap's clock or a sender's clock that jumped, a device back after hours)
or backwards (the host clock stepped back), starts a new **segment**: the
engine ends the device's recording there instead of filling the hole with
windows, and the beat carries a gap flag. A kept beat more than
`GAP_TOLERANCE_S` later than its own RR says is flagged as a gap (beats
are missing before it).

Pure: arrays and floats in, arrays and counts out.
"""

from __future__ import annotations

import dataclasses
import enum
import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from hrv import RR_MAX_MS, RR_MIN_MS, BeatBatch
from vagus.events import BeatColumns

MAX_JUMP_S = 600.0
"""A larger step between two beats of a device starts a new segment."""

MAX_TIME_S = 1e12
"""Beat times beyond this either side of 0 (about 31,700 years of seconds) are bad times."""

MAX_FUTURE_S = 300.0
"""Beats later than ``now`` by more than this are dropped (a sender's clock far ahead)."""

MIN_SPACING_S = (RR_MIN_MS - 1.0) / 1000.0
"""Beats closer than this to the previous kept beat are dropped (faster than 300 bpm)."""

GAP_TOLERANCE_S = 1.0
"""A beat this much later than its RR after the previous one has beats missing before it."""


class Reject(enum.StrEnum):
    """Why the guard dropped a beat."""

    BAD_TIME = "bad_time"
    RR_OUT_OF_RANGE = "rr_out_of_range"
    FUTURE = "future"
    DUPLICATE = "duplicate"
    TOO_DENSE = "too_dense"


@dataclass(frozen=True, slots=True)
class Segment:
    """Kept beats of one device; ``new`` when they start a new segment (end the old one first)."""

    beats: BeatBatch
    new: bool


@dataclass(frozen=True, slots=True)
class Guarded:
    """What the guard made of one batch: kept beats by segment, drops by reason."""

    segments: tuple[Segment, ...]
    dropped: dict[Reject, int]

    @property
    def kept(self) -> int:
        """Beats kept, over every segment."""
        return sum(len(s.beats) for s in self.segments)


@dataclass(frozen=True, slots=True)
class GuardedColumns:
    """What `InputGuard.check_columns` made of many messages.

    ``kept``: the messages (with beats) of the devices whose every beat is kept,
    whole, with their gap flags set. ``rest``: the indices of the other messages, in order,
    untouched (guard state too): for `InputGuard.check`, one by one.
    """

    kept: BeatColumns
    rest: tuple[int, ...]


@dataclass(slots=True)
class _Track:
    last_t: float = -math.inf
    gap_next: bool = False


@dataclass(slots=True)
class InputGuard:
    """Per-device guard state: the last kept beat's time and a pending gap."""

    _tracks: dict[str, _Track] = field(default_factory=dict)

    def last_beat_s(self) -> dict[str, float]:
        """The last kept beat's time of every device that has one (for persisting)."""
        return {d: t.last_t for d, t in self._tracks.items() if math.isfinite(t.last_t)}

    def restore(self, last_beat_s: dict[str, float]) -> None:
        """Start from persisted last beat times: a redelivered message is then a duplicate."""
        for device, t in last_beat_s.items():
            self._tracks[device] = _Track(last_t=float(t))

    def check(self, batch: BeatBatch, *, now: float) -> Guarded:
        """Split ``batch`` into kept segments and counted drops (see the module docstring)."""
        track = self._tracks.setdefault(batch.device, _Track())
        t, rr = batch.t_s, batch.rr_ms
        if self._all_clean(track, t, rr, now):
            if not len(t):
                return Guarded(segments=(), dropped={})
            steps = np.diff(t, prepend=track.last_t)
            late = steps * 1000.0 > rr + GAP_TOLERANCE_S * 1000.0
            late[0] &= math.isfinite(track.last_t)
            gap = batch.gap | late
            gap[0] |= track.gap_next
            track.last_t = float(t[-1])
            track.gap_next = False
            kept = BeatBatch(device=batch.device, t_s=t, rr_ms=rr, gap=gap)
            return Guarded(segments=(Segment(kept, new=False),), dropped={})
        return self._check_each(batch, track, now)

    def check_columns(self, columns: BeatColumns, *, now: float) -> GuardedColumns:
        """`check` of every message in turn, vectorized across devices, for the devices whose
        beats are all kept (see `GuardedColumns`)."""
        names = columns.devices
        if not names:
            return GuardedColumns(kept=columns, rest=())
        numbers: dict[str, int] = {}
        msg_dev = np.array([numbers.setdefault(d, len(numbers)) for d in names], np.int64)
        known = self._tracks
        tracks = [known.get(d) or known.setdefault(d, _Track()) for d in numbers]
        last_t = np.array([track.last_t for track in tracks], np.float64)
        gap_next = np.array([track.gap_next for track in tracks], np.bool_)
        counts = np.diff(columns.bounds)
        beat_dev = np.repeat(msg_dev, counts)
        order = np.argsort(beat_dev, kind="stable")  # each device's beats, oldest first
        dev, t, rr = beat_dev[order], columns.t_s[order], columns.rr_ms[order]
        first = np.ones(t.size, np.bool_)
        first[1:] = dev[1:] != dev[:-1]
        prev = np.empty_like(t)
        prev[1:] = t[:-1]
        prev[first] = last_t[dev[first]]
        fresh = first & ~np.isfinite(prev)  # a device's first beat ever: no step to judge
        with np.errstate(invalid="ignore", over="ignore"):  # inf - inf, NaN: judged below
            steps = t - prev
            ok = (
                np.isfinite(t)
                & np.isfinite(rr)
                & (np.abs(t) <= MAX_TIME_S)
                & (rr >= RR_MIN_MS)
                & (rr <= RR_MAX_MS)
                & (t <= now + MAX_FUTURE_S)
                & (fresh | ((steps >= MIN_SPACING_S) & (steps <= MAX_JUMP_S)))
            )
            late = (steps * 1000.0 > rr + GAP_TOLERANCE_S * 1000.0) & ~fresh
        bad_dev = np.zeros(len(tracks), np.bool_)
        bad_dev[dev[~ok]] = True
        gap = columns.gap[order] | late
        gap[first] |= gap_next[dev[first]]
        kept_gap = np.empty_like(gap)
        kept_gap[order] = gap
        last = np.ones(t.size, np.bool_)
        last[:-1] = first[1:]
        for d, t_last in zip(dev[last].tolist(), t[last].tolist(), strict=True):
            if not bad_dev[d]:
                tracks[d].last_t = t_last
                tracks[d].gap_next = False
        msg_bad = bad_dev[msg_dev]
        msg_ok = ~msg_bad & (counts > 0)  # an empty message gives nothing, as in `check`
        kept = dataclasses.replace(columns, gap=kept_gap)
        if not msg_ok.all():
            kept = kept.select(msg_ok)
        return GuardedColumns(kept=kept, rest=tuple(np.flatnonzero(msg_bad).tolist()))

    @staticmethod
    def _all_clean(track: _Track, t: np.ndarray, rr: np.ndarray, now: float) -> bool:
        """The common case, vectorized: every beat is kept, no segment starts."""
        if t.size == 0:
            return True
        if not (np.isfinite(t).all() and np.isfinite(rr).all()):
            return False
        if np.abs(t).max() > MAX_TIME_S:
            return False
        if (rr < RR_MIN_MS).any() or (rr > RR_MAX_MS).any() or t[-1] > now + MAX_FUTURE_S:
            return False
        steps = np.diff(t, prepend=track.last_t)
        if not math.isfinite(track.last_t):
            steps[0] = MIN_SPACING_S
        return bool(((steps >= MIN_SPACING_S) & (steps <= MAX_JUMP_S)).all())

    @staticmethod
    def _check_each(batch: BeatBatch, track: _Track, now: float) -> Guarded:
        """Beat by beat, for batches with something to drop or a segment to start."""
        dropped: dict[Reject, int] = {}
        starts: list[int] = []  # index into kept where a new segment begins
        kept: list[int] = []
        gaps: list[bool] = []
        t_all, rr_all, gap_all = batch.t_s.tolist(), batch.rr_ms.tolist(), batch.gap.tolist()
        for i, (t, rr) in enumerate(zip(t_all, rr_all, strict=True)):
            reason: Reject | None = None
            step = t - track.last_t
            if not abs(t) <= MAX_TIME_S:  # NaN too
                reason = Reject.BAD_TIME
            elif not (math.isfinite(rr) and RR_MIN_MS <= rr <= RR_MAX_MS):
                reason = Reject.RR_OUT_OF_RANGE
            elif t > now + MAX_FUTURE_S:
                reason = Reject.FUTURE
            elif math.isfinite(track.last_t) and -MAX_JUMP_S <= step <= 0.0:
                reason = Reject.DUPLICATE
            elif 0.0 < step < MIN_SPACING_S:
                reason = Reject.TOO_DENSE
            if reason is not None:
                dropped[reason] = dropped.get(reason, 0) + 1
                track.gap_next |= reason in (Reject.RR_OUT_OF_RANGE, Reject.FUTURE)
                continue
            jump = math.isfinite(track.last_t) and abs(step) > MAX_JUMP_S
            if jump:
                starts.append(len(kept))
            late = math.isfinite(track.last_t) and step * 1000.0 > rr + GAP_TOLERANCE_S * 1000.0
            gaps.append(bool(gap_all[i]) or track.gap_next or jump or late)
            kept.append(i)
            track.last_t = t
            track.gap_next = False
        return Guarded(segments=_split(batch, kept, gaps, starts), dropped=dropped)


def _split(
    batch: BeatBatch, kept: list[int], gaps: list[bool], starts: list[int]
) -> tuple[Segment, ...]:
    """The kept beats cut at each new segment's first beat."""
    index = np.asarray(kept, np.int64)
    gap = np.asarray(gaps, np.bool_)
    bounds = [0, *starts, len(kept)]
    out = []
    for a, b in itertools.pairwise(bounds):
        if b <= a:
            continue
        beats = BeatBatch(
            device=batch.device,
            t_s=batch.t_s[index[a:b]],
            rr_ms=batch.rr_ms[index[a:b]],
            gap=gap[a:b],
        )
        out.append(Segment(beats, new=a in starts))
    return tuple(out)
