"""From a link's queue to placed beats: decode each notification and time it.

The pure `decode` and `BeatClock` do the work; this adapter only moves items:
a `LinkDown` marker ends the timing segment (the next beat has ``gap=True``),
a malformed payload is counted and skipped, `Closed` ends the stream (held
beats are flushed first). Between the decoder and the clock, `RrUnitCheck`
finds RR sent in ms instead of 1/1024 s and corrects them (a new segment
starts where it decides so).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import numpy as np

from ingest.ble_queue import Closed, LinkDown, NotificationQueue
from ingest.errors import DecodeError
from ingest.hrm import decode
from ingest.rr_units import RrUnit, RrUnitCheck
from ingest.timing import BeatClock, HrSamples, Timed

__all__ = ["StreamCounters", "timed_notifications"]


@dataclass(slots=True)
class StreamCounters:
    """Running counts of what `timed_notifications` skipped or saw."""

    decode_errors: int = 0
    link_downs: int = 0
    last_decode_error: DecodeError | None = None


async def timed_notifications(
    queue: NotificationQueue,
    clock: BeatClock,
    counters: StreamCounters | None = None,
    units: RrUnitCheck | None = None,
) -> AsyncIterator[Timed]:
    """Yield one `Timed` per notification (and per gap that released held beats) until closed."""
    counters = counters if counters is not None else StreamCounters()
    units = units if units is not None else RrUnitCheck()
    while True:
        item = await queue.get()
        if isinstance(item, Closed):
            flushed = clock.flush()
            if len(flushed):
                yield Timed(beats=flushed, hr=_no_hr(clock.device), hrv_unavailable=False)
            return
        if isinstance(item, LinkDown):
            counters.link_downs += 1
            units.link_down()
            released = clock.mark_gap()
            if len(released):
                yield Timed(beats=released, hr=_no_hr(clock.device), hrv_unavailable=False)
            continue
        arrival_s, payload = item
        try:
            measurement = decode(payload)
        except DecodeError as exc:
            counters.decode_errors += 1
            counters.last_decode_error = exc
            continue
        unit = units.unit
        measurement = units.take(measurement)
        if units.unit is not unit and units.unit is RrUnit.MILLISECONDS:
            released = clock.mark_gap()  # no segment holds beats of both units
            if len(released):
                yield Timed(beats=released, hr=_no_hr(clock.device), hrv_unavailable=False)
        yield clock.feed(arrival_s, measurement)


def _no_hr(device: str) -> HrSamples:
    return HrSamples(device=device, t_s=np.zeros(0), hr_bpm=np.zeros(0))
