"""`[[sources.ble]] any = true`: the daemon connects to the nearest heart-rate strap it finds."""

from __future__ import annotations

import asyncio

from ingest.ble_backend import FoundDevice, Target
from vagus.app import nearest_strap


class _Scans:
    """A backend whose successive scans find the given device lists."""

    def __init__(self, *scans: list[FoundDevice]) -> None:
        self.scans = list(scans)
        self.calls = 0

    async def discover(self, timeout_s: float) -> list[FoundDevice]:
        self.calls += 1
        return self.scans.pop(0) if self.scans else []


async def test_waits_for_a_strap_then_takes_the_strongest() -> None:
    """Empty scans are repeated; the first non-empty scan's first (strongest) strap is chosen."""
    near = FoundDevice(name="H10", address="c0:ff:ee:00:00:01", rssi_dbm=-50)
    far = FoundDevice(name="H9", address="C0:FF:EE:00:00:02", rssi_dbm=-80)
    backend = _Scans([], [], [near, far])
    target = await nearest_strap(backend, asyncio.Event())  # type: ignore[arg-type]
    assert target == Target(address="C0:FF:EE:00:00:01")
    assert backend.calls == 3


async def test_stopping_ends_the_search() -> None:
    """A daemon stopping while no strap is in range gives up instead of scanning forever."""
    stopping = asyncio.Event()
    stopping.set()
    assert await nearest_strap(_Scans(), stopping) is None  # type: ignore[arg-type]
