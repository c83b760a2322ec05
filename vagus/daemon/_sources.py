"""Sources of the daemon: BLE straps and virtual straps (raw beats from MQTT: `_mqtt_intake`).

Straps, real or virtual, go through the same path: ``(arrival_s, bytes)``
into an `ingest.NotificationQueue`, then `ingest.timed_notifications`
(decode + beat timing) into the daemon's inbox. The inbox is bounded
(`INBOX_SIZE`); a full inbox makes a source wait (backpressure), and a
strap's own queue then drops and counts notifications (its overflow policy,
flagged as a gap) instead of blocking bleak's callback.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from ingest.ble_link import LinkChange, StrapLink
from ingest.ble_queue import NotificationQueue
from ingest.ble_state import LinkState
from ingest.ble_stream import StreamCounters, timed_notifications
from ingest.rr_units import RrUnit, RrUnitCheck
from ingest.timing import NO_RR_MESSAGE, BeatClock
from simulators import VirtualStrap
from vagus.events import DeviceStatus, InboxItem

log = logging.getLogger(__name__)

Inbox = asyncio.Queue[InboxItem | None]
"""The engine's inbox; ``None`` is the supervisor's own end marker, never put by a source."""


async def pump_notifications(
    device: str, queue: NotificationQueue, inbox: Inbox, counters: StreamCounters
) -> None:
    """Decode and time a strap's notifications and put its beats into ``inbox`` until closed.

    Said once per device (a warning): RR found to be sent in ms (corrected from then on,
    `ingest.rr_units`), and notifications without RR (HRV unavailable; also a status note
    each time that changes); the closing line counts what was skipped."""
    clock = BeatClock(device)
    units = RrUnitCheck()
    rr_missing = False
    said_ms = said_no_rr = False
    without_rr = 0
    first_s: float | None = None
    async for timed in timed_notifications(queue, clock, counters, units):
        if units.unit is RrUnit.MILLISECONDS and not said_ms:
            said_ms = True
            log.warning(
                "%s: RR intervals arrive in ms, not 1/1024 s (heart rate x RR / 60000 = %.3f "
                "where 1 is expected); corrected from now on",
                device,
                units.ratios[-1],
            )
        if len(timed.beats):
            await inbox.put(timed.beats)
        if not len(timed.hr):
            continue
        now_s = float(timed.hr.t_s[-1])
        first_s = now_s if first_s is None else first_s
        # A strap's first notifications often carry no RR yet: not a verdict until max_silence_s.
        missing = timed.hrv_unavailable and now_s - first_s > clock.max_silence_s
        without_rr += missing
        if missing and not said_no_rr:
            said_no_rr = True
            log.warning("%s: notifications without RR intervals: %s", device, NO_RR_MESSAGE)
        if missing != rr_missing:
            rr_missing = missing
            note = NO_RR_MESSAGE if rr_missing else None
            await inbox.put(
                DeviceStatus(device=device, t_s=now_s, connected=True, link="streaming", note=note)
            )
    if queue.dropped or counters.decode_errors or clock.dropped_no_contact or without_rr:
        log.warning(
            "%s: %d notifications dropped (queue full), %d malformed, %d RR without skin contact,"
            " %d notifications without RR (%d RR corrected from ms)",
            device,
            queue.dropped,
            counters.decode_errors,
            clock.dropped_no_contact,
            without_rr,
            units.corrected_rr,
        )
    elif units.corrected_rr:
        log.info("%s: %d RR corrected from ms", device, units.corrected_rr)


async def until_stopped(work: Coroutine[Any, Any, None], stopping: asyncio.Event) -> None:
    """Run ``work`` until it ends or ``stopping`` is set (then cancel it); errors propagate."""
    task = asyncio.ensure_future(work)
    stop = asyncio.ensure_future(stopping.wait())
    try:
        await asyncio.wait([task, stop], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.cancel()
        if not task.done():
            task.cancel()
            await asyncio.wait([task])
    if not task.cancelled() and task.exception() is not None:
        raise task.exception()  # type: ignore[misc]


async def play_virtual_strap(strap: VirtualStrap, inbox: Inbox, stopping: asyncio.Event) -> None:
    """Play a virtual strap (payloads, battery, link changes, paced in time) until its end or
    ``stopping``; then the beats its timing still holds are flushed into ``inbox``."""
    trace = strap.trace
    queue = NotificationQueue(256)
    counters = StreamCounters()
    await inbox.put(
        DeviceStatus(
            device=strap.device,
            t_s=strap.start_t_s,
            connected=True,
            link="streaming",
            battery_pct=int(trace.battery_pct[0]) if len(trace.battery_pct) else None,
        )
    )

    async def feed() -> None:
        battery_i, link_i = 1, 0  # battery reading 0 went out with the first status
        async for arrival_s, payload in strap:
            t_rel = arrival_s - strap.start_t_s
            while battery_i < len(trace.battery_t_s) and trace.battery_t_s[battery_i] <= t_rel:
                pct = int(trace.battery_pct[battery_i])
                battery_i += 1
                await inbox.put(
                    DeviceStatus(
                        device=strap.device,
                        t_s=arrival_s,
                        connected=True,
                        link="streaming",
                        battery_pct=pct,
                    )
                )
            while link_i < len(trace.link_t_s) and trace.link_t_s[link_i] <= t_rel:
                up = bool(trace.link_up[link_i])
                t_link = strap.start_t_s + float(trace.link_t_s[link_i])
                link_i += 1
                if not up:
                    queue.link_down(t_link, "link lost")
                await inbox.put(
                    DeviceStatus(
                        device=strap.device,
                        t_s=t_link,
                        connected=up,
                        link="streaming" if up else "backing_off",
                    )
                )
            queue.put(arrival_s, payload)

    async def feed_then_close() -> None:
        try:
            await until_stopped(feed(), stopping)
        finally:
            queue.close()

    async with asyncio.TaskGroup() as group:
        group.create_task(feed_then_close(), name=f"simulate[{strap.device}]")
        group.create_task(
            pump_notifications(strap.device, queue, inbox, counters), name=f"timing[{strap.device}]"
        )
    end_t = strap.start_t_s + (float(trace.t_s[-1]) if len(trace) else 0.0)
    await inbox.put(DeviceStatus(device=strap.device, t_s=end_t, connected=False, link="ended"))


async def run_strap_link(
    link: StrapLink, device: str, inbox: Inbox, stopping: asyncio.Event
) -> None:
    """Keep a BLE strap connected and its beats flowing into ``inbox`` until ``stopping``;
    then notifications stop, the strap is disconnected and held beats are flushed."""
    counters = StreamCounters()

    async def stop_link() -> None:
        await stopping.wait()
        link.stop()

    async with asyncio.TaskGroup() as group:
        stopper = group.create_task(stop_link(), name=f"stop[{device}]")
        runner = group.create_task(link.run(), name=f"ingest[{link.target.label}]")
        runner.add_done_callback(lambda _: stopper.cancel())
        group.create_task(
            pump_notifications(device, link.queue, inbox, counters), name=f"timing[{device}]"
        )


def link_status(device: str) -> Callable[[LinkChange], DeviceStatus]:
    """Map a strap's `LinkChange` to the daemon's `DeviceStatus`."""

    def convert(change: LinkChange) -> DeviceStatus:
        battery = change.info.battery_pct if change.info is not None else None
        return DeviceStatus(
            device=device,
            t_s=change.t_s,
            connected=change.after is LinkState.STREAMING,
            link=str(change.after),
            battery_pct=battery,
            note=change.error,
        )

    return convert
