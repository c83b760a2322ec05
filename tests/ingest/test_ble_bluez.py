"""The ingest adapter through unpatched bleak and bleak-retry-connector against the fake BlueZ.

Scan, connect by name, battery and device-information reads, notifications,
a link loss reaching the reconnect logic, re-subscription, clean shutdown,
and a strap that never shows up: all over D-Bus on the private system bus.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import numpy as np
import pytest

from ingest.ble_backend import BleakBackend, Target
from ingest.ble_link import LinkChange, StrapLink
from ingest.ble_scan import scan
from ingest.ble_state import LinkEvent, LinkState
from ingest.ble_stream import timed_notifications
from ingest.errors import BluetoothUnavailableError
from ingest.timing import BeatClock, Timed, concat_beats
from simulators.bluez import FakeBluez, VirtualPeripheral
from tests.ingest.replay import START_S, load_rr_ms, strap_replay

pytestmark = [pytest.mark.bluez, pytest.mark.integration]

STRAP = "C0:FF:EE:00:00:11"
DECOY = "C0:FF:EE:00:00:12"
SPEED = 10.0
"""The strap plays its notifications this many times faster than real time."""


async def test_scan_lists_heart_rate_straps_only(bleak_bus: str) -> None:
    """scan() through bleak sees the strap's name, address and RSSI, and not the decoy."""
    strap = VirtualPeripheral(address=STRAP, name="Polar H10 11", rssi_dbm=-55)
    decoy = VirtualPeripheral(
        address=DECOY, name="Kettle", advertised_uuids=["0000fe95-0000-1000-8000-00805f9b34fb"]
    )
    async with FakeBluez(bleak_bus, peripherals=[strap, decoy]):
        found = await scan(0.4)
    assert [(d.name, d.address) for d in found] == [("Polar H10 11", STRAP)]
    assert found[0].rssi_dbm in (-55, -56)


async def test_stream_survives_link_loss_and_shuts_down_cleanly(
    bleak_bus: str, data_dir: Path
) -> None:
    """Connect by name, read info, stream; a link loss backs off, reconnects, re-subscribes."""
    replay = strap_replay(load_rr_ms(data_dir / "pyhrv_short_5min.csv", limit_s=60))
    strap = VirtualPeripheral(address=STRAP, notifications=replay.notifications, speed=SPEED)
    loop = asyncio.get_running_loop()
    origin = loop.time()
    changes: list[LinkChange] = []

    def simulated_clock() -> float:
        return START_S + (loop.time() - origin) * SPEED

    async with FakeBluez(bleak_bus, peripherals=[strap]):
        link = StrapLink(
            Target.parse("Polar H10 0A1B2C3D"),
            BleakBackend(),
            on_change=changes.append,
            clock=simulated_clock,
            rng=random.Random(5),
            scan_timeout_s=2.0,
            connect_timeout_s=5.0,
        )
        steps: list[Timed] = []
        got = {15: asyncio.Event(), 40: asyncio.Event()}

        async def consume() -> None:
            async for step in timed_notifications(link.queue, BeatClock("strap")):
                steps.append(step)
                received = sum(len(s.hr) for s in steps)
                for count, event in got.items():
                    if received >= count:
                        event.set()

        async def drive() -> None:
            await got[15].wait()
            assert strap.link_loss()
            await got[40].wait()
            link.stop()

        async with asyncio.timeout(30), asyncio.TaskGroup() as group:
            group.create_task(link.run(), name="ingest[strap]")
            group.create_task(consume())
            group.create_task(drive())
        assert not strap.connected
        assert not strap.notifying

    events = [c.event for c in changes]
    assert events.count(LinkEvent.SUBSCRIBED) == 2
    assert LinkEvent.LINK_LOST in events
    assert events.index(LinkEvent.LINK_LOST) < events.index(LinkEvent.RETRY)
    assert link.state is LinkState.STOPPED
    info = changes[events.index(LinkEvent.SUBSCRIBED)].info
    assert info is not None
    assert (info.battery_pct, info.manufacturer, info.model) == (100, "Polar Electro Oy", "H10")
    assert info.address == STRAP

    beats = concat_beats("strap", [s.beats for s in steps])
    assert int(beats.gap.sum()) == 1
    cut = int(np.flatnonzero(beats.gap)[0])
    first_end = _slice_end(replay.rr_ms, beats.rr_ms[:cut])
    second_end = _slice_end(replay.rr_ms, beats.rr_ms[cut:])
    assert second_end - (beats.rr_ms.size - cut) > first_end  # beats were lost in between
    assert np.all(np.diff(beats.t_s) > 0)


def _slice_end(truth: np.ndarray, part: np.ndarray) -> int:
    """End index of the one place where ``part`` occurs contiguously in ``truth``."""
    windows = np.lib.stride_tricks.sliding_window_view(truth, part.size)
    starts = np.flatnonzero((windows == part).all(axis=1))
    assert starts.size == 1, f"{part.size} beats are not one contiguous run of the truth"
    return int(starts[0]) + part.size


async def test_absent_strap_is_not_found_and_retried(bleak_bus: str) -> None:
    """A name nobody advertises: not_found, back-off, scan again, until stopped."""
    changes: list[LinkChange] = []
    waits: list[float] = []

    async with FakeBluez(bleak_bus, peripherals=[VirtualPeripheral(address=STRAP)]):
        link: StrapLink

        async def short_sleep(delay_s: float) -> None:
            waits.append(delay_s)
            if len(waits) == 2:
                link.stop()
            await asyncio.sleep(0.01)

        link = StrapLink(
            Target.parse("Polar H10 FFFFFFFF"),
            BleakBackend(),
            on_change=changes.append,
            sleep=short_sleep,
            scan_timeout_s=0.3,
        )
        async with asyncio.timeout(10):
            await link.run()
    assert [c.event for c in changes].count(LinkEvent.NOT_FOUND) == 2
    assert len(waits) == 2
    assert link.state is LinkState.STOPPED


async def test_powered_off_adapter_is_bluetooth_unavailable(bleak_bus: str) -> None:
    """An adapter that is off: scan raises BluetoothUnavailableError saying so, in one line."""
    async with FakeBluez(bleak_bus, powered=False, peripherals=[VirtualPeripheral(address=STRAP)]):
        with pytest.raises(BluetoothUnavailableError) as info:
            await scan(0.3)
    assert str(info.value).startswith("Bluetooth unavailable: powered off")
    assert "\n" not in str(info.value)


async def test_powered_off_adapter_stops_a_link_for_good(bleak_bus: str) -> None:
    """A link on a powered-off adapter fails at once (no retry loop) with state failed."""
    changes: list[LinkChange] = []
    async with FakeBluez(bleak_bus, powered=False):
        link = StrapLink(Target.parse(STRAP), BleakBackend(), on_change=changes.append)
        with pytest.raises(BluetoothUnavailableError):
            await link.run()
    assert link.state is LinkState.FAILED
    assert [c.event for c in changes] == [LinkEvent.START, LinkEvent.FATAL]
