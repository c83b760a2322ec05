"""Straps playing a scenario on the fake BlueZ: the fixture of the daemon's end-to-end test."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from simulators.bluez._peripheral import VirtualPeripheral
from simulators.bluez._playback import play
from simulators.bluez._service import FakeBluez
from simulators.scenario import Scenario
from simulators.strap_source import VirtualStrap
from simulators.wearable import WearableTrace


@dataclass(frozen=True, slots=True, kw_only=True)
class ScenarioStrap:
    """A virtual peripheral and the wearable trace (notifications, battery, link) it plays."""

    peripheral: VirtualPeripheral
    trace: WearableTrace


def strap_address(index: int) -> str:
    """The Bluetooth address of the ``index``-th scenario strap (1-based): C0:FF:EE:00:00:01, ..."""
    return f"C0:FF:EE:00:{index >> 8 & 0xFF:02X}:{index & 0xFF:02X}"


def scenario_straps(
    scenario: Scenario, *, count: int, speed: float | None = None
) -> list[ScenarioStrap]:
    """``count`` straps playing ``scenario``, strap ``i`` seeded with ``[scenario.seed, i]``.

    Each strap's clock starts when the fake hosts it (``clock_starts="hosted"``),
    so the scenario's disconnect segments line up with its link events.
    """
    straps = []
    for index in range(1, count + 1):
        trace = VirtualStrap.from_scenario(
            scenario, start_t_s=0.0, seed=[scenario.seed, index], speed=speed
        ).trace
        peripheral = VirtualPeripheral(
            address=strap_address(index),
            name=f"{scenario.device.name} {index}",
            notifications=trace,
            speed=scenario.speed if speed is None else speed,
            battery_pct=int(trace.battery_pct[0]) if len(trace.battery_pct) else 100,
            clock_starts="hosted",
        )
        straps.append(ScenarioStrap(peripheral=peripheral, trace=trace))
    return straps


def _conditions(strap: ScenarioStrap) -> list[tuple[float, Callable[[], None]]]:
    """Battery and link events of the strap's trace, as timed actions on its peripheral."""
    p, trace = strap.peripheral, strap.trace
    battery = [
        (t, partial(p.set_battery, int(pct)))
        for t, pct in zip(trace.battery_t_s.tolist(), trace.battery_pct.tolist(), strict=True)
    ]
    link = [
        (t, partial(p.set_reachable, bool(up)))
        for t, up in zip(trace.link_t_s.tolist(), trace.link_up.tolist(), strict=True)
    ]
    return sorted(battery + link, key=lambda event: event[0])


async def _play_conditions(strap: ScenarioStrap) -> None:
    loop = asyncio.get_running_loop()
    await play(
        _conditions(strap),
        speed=strap.peripheral.speed,
        emit=lambda action: action(),
        clock=loop.time,
        origin_t_s=0.0,
    )


async def run_straps(
    bus_address: str,
    straps: Sequence[ScenarioStrap],
    *,
    on_ready: Callable[[FakeBluez], None] | None = None,
    hold: bool = False,
) -> None:
    """Host ``straps`` on a FakeBluez at ``bus_address`` until every trace has played.

    Notifications, battery levels (0x2A19) and link losses (a scenario's
    ``disconnect`` segments make the strap unreachable) follow the scenario
    clock at each strap's speed. ``on_ready`` is called once the fake owns
    ``org.bluez``. With ``hold`` the fake keeps serving (silent straps)
    after the traces end, until cancelled.
    """
    async with FakeBluez(bus_address, peripherals=[s.peripheral for s in straps]) as bluez:
        if on_ready is not None:
            on_ready(bluez)
        async with asyncio.TaskGroup() as group:
            for strap in straps:
                address = strap.peripheral.address
                group.create_task(_play_conditions(strap), name=f"conditions[{address}]")
                group.create_task(strap.peripheral.wait_played(), name=f"played[{address}]")
        if hold:
            await asyncio.Event().wait()
