"""One strap's link, kept alive: find, connect, subscribe, stream, back off, again.

`StrapLink.run` drives the `ingest.ble_state` table and reports every state
change as a `LinkChange` through ``on_change``. bleak's notification callback
only stamps the injected clock and enqueues ``(arrival_s, bytes)`` into the
bounded `NotificationQueue` (overflow policy there); decoding and timing
happen downstream (`ingest.ble_stream`). After a link loss the queue gets a
`LinkDown` marker, the link backs off (`backoff_delay`), scans, reconnects
and re-subscribes. Leaving `run` (`stop`, or cancellation) stops
notifications and disconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bleak.exc import BleakError

from ingest.backoff import backoff_delay
from ingest.ble_backend import (
    BATTERY_LEVEL,
    HEART_RATE_MEASUREMENT,
    MANUFACTURER_NAME,
    MODEL_NUMBER,
    BleBackend,
    FoundDevice,
    GattClient,
    Target,
)
from ingest.ble_queue import NotificationQueue
from ingest.ble_retry import is_retryable
from ingest.ble_state import LinkEvent, LinkState, transition
from ingest.errors import ConnectError, DeviceNotFoundError, MissingCharacteristicError

__all__ = ["DeviceInfo", "LinkChange", "StrapLink"]

_FAILED_IN = {
    LinkState.SCANNING: LinkEvent.NOT_FOUND,
    LinkState.CONNECTING: LinkEvent.CONNECT_FAILED,
    LinkState.STREAMING: LinkEvent.LINK_LOST,
}
"""The event a retryable failure is, by the state it struck in."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceInfo:
    """What a connected strap tells about itself; None where it offers nothing."""

    address: str
    name: str
    manufacturer: str | None = None
    model: str | None = None
    battery_pct: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkChange:
    """A strap's link moved from ``before`` to ``after`` on ``event`` at ``t_s``."""

    target: str
    t_s: float
    event: LinkEvent
    before: LinkState
    after: LinkState
    attempt: int
    info: DeviceInfo | None = None
    error: str | None = None


class StrapLink:
    """Keeps one strap connected and its notifications flowing into ``queue``.

    ``clock`` stamps notifications (seconds; wall clock by default, since
    beats are stored with epoch times); ``sleep`` waits out back-offs; ``rng``
    jitters them. All are injected so tests run fast and deterministically.
    """

    def __init__(
        self,
        target: Target,
        backend: BleBackend,
        *,
        queue_size: int = 256,
        scan_timeout_s: float = 10.0,
        connect_timeout_s: float = 20.0,
        on_change: Callable[[LinkChange], None] | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.target = target
        self.queue = NotificationQueue(queue_size)
        self.state = LinkState.IDLE
        self.info: DeviceInfo | None = None
        self._backend = backend
        self._scan_timeout_s = scan_timeout_s
        self._connect_timeout_s = connect_timeout_s
        self._on_change = on_change
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._attempt = 0
        self._wake = asyncio.Event()
        self._stopping = False
        self._link_id = 0
        self._lost_link_id = -1

    def stop(self) -> None:
        """Ask `run` to stop notifications, disconnect and return."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """Stream until `stop` or cancellation; raise the first error that is not retryable."""
        self._fire(LinkEvent.START)
        try:
            while not self._stopping:
                try:
                    await self._session()
                except Exception as exc:
                    if not is_retryable(exc):
                        self._fire(LinkEvent.FATAL, error=str(exc))
                        raise
                    self._fire(_FAILED_IN[self.state], error=str(exc) or type(exc).__name__)
                if self._stopping:
                    break
                await self._sleep(backoff_delay(self._attempt, self._rng))
                self._attempt += 1
                self._fire(LinkEvent.RETRY)
        finally:
            if self.state not in (LinkState.FAILED, LinkState.STOPPED):
                self._fire(LinkEvent.STOP)
            self.queue.close()

    async def _session(self) -> None:
        """One connection: find, connect, subscribe, stream until lost or stopped."""
        async with asyncio.timeout(self._scan_timeout_s + 1.0):
            device = await self._backend.find(self.target, self._scan_timeout_s)
        if device is None:
            raise DeviceNotFoundError(self.target.label, self._scan_timeout_s)
        self._fire(LinkEvent.FOUND)
        self._link_id += 1
        link_id = self._link_id
        self._wake.clear()
        async with asyncio.timeout(self._connect_timeout_s):
            client = await self._backend.connect(
                device, lambda: self._lost(link_id), self._connect_timeout_s
            )
        try:
            async with asyncio.timeout(self._connect_timeout_s):
                try:
                    info = await self._subscribe(client, device)
                except (BleakError, OSError, EOFError) as exc:
                    raise ConnectError(device.address, f"subscribing: {exc}") from exc
            self.info = info
            self._attempt = 0
            self._fire(LinkEvent.SUBSCRIBED, info=info)
            while not self._stopping and self._lost_link_id != link_id:
                await self._wake.wait()
                self._wake.clear()
            if self._lost_link_id == link_id:
                self.queue.link_down(self._clock(), "link lost")
                self._fire(LinkEvent.LINK_LOST)
        finally:
            await _close(client)

    async def _subscribe(self, client: GattClient, device: FoundDevice) -> DeviceInfo:
        """Read battery and device information when offered, then start 0x2A37 notifications."""
        if client.services.get_characteristic(HEART_RATE_MEASUREMENT) is None:
            raise MissingCharacteristicError(device.address, HEART_RATE_MEASUREMENT)
        battery = await _read(client, BATTERY_LEVEL)
        manufacturer = await _read(client, MANUFACTURER_NAME)
        model = await _read(client, MODEL_NUMBER)
        await client.start_notify(HEART_RATE_MEASUREMENT, self._on_notify)
        return DeviceInfo(
            address=device.address,
            name=device.name,
            manufacturer=_text(manufacturer),
            model=_text(model),
            battery_pct=battery[0] if battery else None,
        )

    def _on_notify(self, _characteristic: Any, data: bytearray) -> None:
        """bleak's callback: stamp and enqueue, nothing else (never blocks)."""
        self.queue.put(self._clock(), bytes(data))

    def _lost(self, link_id: int) -> None:
        """bleak's disconnected callback; ignores calls about an earlier connection."""
        if link_id == self._link_id:
            self._lost_link_id = link_id
            self._wake.set()

    def _fire(
        self, event: LinkEvent, *, info: DeviceInfo | None = None, error: str | None = None
    ) -> None:
        before, self.state = self.state, transition(self.state, event)
        if self._on_change is not None:
            self._on_change(
                LinkChange(
                    target=self.target.label,
                    t_s=self._clock(),
                    event=event,
                    before=before,
                    after=self.state,
                    attempt=self._attempt,
                    info=info,
                    error=error,
                )
            )


async def _read(client: GattClient, uuid: str) -> bytes | None:
    """The value of ``uuid`` when the device offers it, else None."""
    if client.services.get_characteristic(uuid) is None:
        return None
    return bytes(await client.read_gatt_char(uuid))


def _text(value: bytes | None) -> str | None:
    """A GATT utf8s value without trailing NULs (Core Spec Vol 3, Part G, 3.3.3.5)."""
    return None if value is None else value.decode("utf-8", "replace").rstrip("\x00") or None


async def _close(client: GattClient) -> None:
    """Stop notifications (when still connected) and disconnect, bounded in time.

    Disconnecting after a link loss too releases the client's own resources
    (bleak's BlueZ client holds a D-Bus connection per client). Errors here
    are deliberately suppressed: the link may already be gone, and shutdown
    must go on (cancellation is not an `Exception` and passes).
    """
    with contextlib.suppress(Exception):
        async with asyncio.timeout(5.0):
            if client.is_connected:
                await client.stop_notify(HEART_RATE_MEASUREMENT)
    with contextlib.suppress(Exception):
        async with asyncio.timeout(5.0):
            await client.disconnect()
