"""A replaying fake of the Bluetooth surface (`ingest.ble_backend.BleBackend`) for fast tests.

A script says what each connection attempt meets: a `Session` replays real
0x2A37 payloads at their arrival times (moving the injected `FakeClock`),
then drops the link or ends the test; an exception fails the attempt;
`HANG` never answers (the link's timeout fires); `NOT_FOUND` makes the scan
come back empty; `SCAN_HANG` makes it never return. `Harness` runs one
`StrapLink` on it together with the beat pipeline.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

from hrv import BeatBatch
from ingest.ble_backend import (
    BATTERY_LEVEL,
    HEART_RATE_MEASUREMENT,
    MANUFACTURER_NAME,
    MODEL_NUMBER,
    FoundDevice,
    NotifyCallback,
    Target,
)
from ingest.ble_link import LinkChange, StrapLink
from ingest.ble_state import LinkEvent
from ingest.ble_stream import StreamCounters, timed_notifications
from ingest.timing import BeatClock, Timed, concat_beats
from tests.ingest.replay import START_S

STRAP_ADDRESS: Final = "C0:FF:EE:00:00:01"
HANG: Final = "hang"
NOT_FOUND: Final = "not found"
SCAN_HANG: Final = "scan hang"


@dataclass
class FakeClock:
    """Seconds; the fake strap moves it to each notification's arrival time."""

    now_s: float = 0.0

    def __call__(self) -> float:
        return self.now_s


@dataclass
class Session:
    """One granted connection: replay ``notifications``, then lose the link (or finish)."""

    notifications: list[tuple[float, bytes]]
    link_loss: bool = True


ScriptItem = Session | BaseException | str


@dataclass
class FakeServices:
    """GATT table of the fake strap: the characteristics it offers."""

    offered: set[str]

    def get_characteristic(self, specifier: str) -> object | None:
        return specifier if specifier in self.offered else None


@dataclass
class FakeClient:
    """A connected fake strap; records what the adapter did to it."""

    address: str
    session: Session
    on_disconnect: Callable[[], None]
    clock: FakeClock
    values: dict[str, bytes]
    when_done: Callable[[], None]
    offers_hrm: bool = True
    is_connected: bool = True
    calls: list[str] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None

    @property
    def services(self) -> FakeServices:
        hrm = {HEART_RATE_MEASUREMENT} if self.offers_hrm else set()
        return FakeServices({*hrm, *self.values})

    async def read_gatt_char(self, char_specifier: str) -> bytearray:
        self.calls.append(f"read {char_specifier[4:8]}")
        return bytearray(self.values[char_specifier])

    async def start_notify(self, char_specifier: str, callback: NotifyCallback) -> None:
        self.calls.append(f"start_notify {char_specifier[4:8]}")
        self._task = asyncio.get_running_loop().create_task(self._replay(callback))

    async def stop_notify(self, char_specifier: str) -> None:
        self.calls.append(f"stop_notify {char_specifier[4:8]}")

    async def disconnect(self) -> None:
        self.calls.append("disconnect")
        self.is_connected = False
        if self._task is not None:
            self._task.cancel()

    async def _replay(self, callback: NotifyCallback) -> None:
        for arrival_s, payload in self.session.notifications:
            self.clock.now_s = arrival_s
            callback(HEART_RATE_MEASUREMENT, bytearray(payload))
            await asyncio.sleep(0)
        if self.session.link_loss:
            self.clock.now_s += 0.5
            self.is_connected = False
            self.on_disconnect()
        else:
            self.when_done()


class FakeBackend:
    """A `BleBackend` following ``script``; calls ``when_done`` once the script is used up."""

    def __init__(
        self,
        script: Sequence[ScriptItem],
        clock: FakeClock,
        *,
        device: FoundDevice | None = None,
        values: dict[str, bytes] | None = None,
        offers_hrm: bool = True,
    ) -> None:
        self.offers_hrm = offers_hrm
        self.script = list(script)
        self.clock = clock
        self.device = device or FoundDevice(
            name="Polar H10 5A3C1B2D", address="C0:FF:EE:00:00:01", rssi_dbm=-58
        )
        self.values = (
            values
            if values is not None
            else {
                BATTERY_LEVEL: bytes([87]),
                MANUFACTURER_NAME: b"Polar Electro Oy",
                MODEL_NUMBER: b"Polar H10\x00",
            }
        )
        self.when_done: Callable[[], None] = lambda: None
        self.clients: list[FakeClient] = []

    async def discover(self, timeout_s: float) -> list[FoundDevice]:
        return [self.device]

    async def find(self, target: Target, timeout_s: float) -> FoundDevice | None:
        if not self.script:
            self.when_done()
            return None
        if self.script[0] == NOT_FOUND:
            self.script.pop(0)
            return None
        if self.script[0] == SCAN_HANG:
            self.script.pop(0)
            await asyncio.Event().wait()
        return self.device if target.matches(self.device) else None

    async def connect(
        self, device: FoundDevice, on_disconnect: Callable[[], None], timeout_s: float
    ) -> FakeClient:
        item = self.script.pop(0)
        if isinstance(item, BaseException):
            raise item
        if item == HANG:
            await asyncio.Event().wait()
        assert isinstance(item, Session)
        client = FakeClient(
            address=device.address,
            session=item,
            on_disconnect=on_disconnect,
            clock=self.clock,
            values=self.values,
            when_done=self.when_done,
            offers_hrm=self.offers_hrm,
        )
        self.clients.append(client)
        return client


class Harness:
    """One link on a fake backend, with its changes, back-off waits and timed output."""

    def __init__(self, script: Sequence[ScriptItem]) -> None:
        self.clock = FakeClock(START_S)
        self.backend = FakeBackend(script, self.clock)
        self.changes: list[LinkChange] = []
        self.waits_s: list[float] = []
        self.link = StrapLink(
            Target.parse(STRAP_ADDRESS),
            self.backend,
            on_change=self.changes.append,
            clock=self.clock,
            sleep=self._sleep,
            rng=random.Random(3),
            scan_timeout_s=0.05,
            connect_timeout_s=0.05,
        )
        self.backend.when_done = self.link.stop
        self.counters = StreamCounters()

    async def _sleep(self, delay_s: float) -> None:
        self.waits_s.append(delay_s)
        self.clock.now_s += delay_s
        await asyncio.sleep(0)

    async def run(self) -> list[Timed]:
        """Run link and consumer together until the script ends."""
        clock = BeatClock("strap")
        async with asyncio.timeout(20), asyncio.TaskGroup() as group:
            group.create_task(self.link.run())
            return [t async for t in timed_notifications(self.link.queue, clock, self.counters)]

    def events(self) -> list[LinkEvent]:
        return [c.event for c in self.changes]


def beats_of(steps: list[Timed]) -> BeatBatch:
    return concat_beats("strap", [s.beats for s in steps])
