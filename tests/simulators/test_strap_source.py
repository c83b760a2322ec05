"""The virtual strap source paces its payloads by the injected clock at the speed factor."""

from __future__ import annotations

import numpy as np
import pytest

from ingest.hrm import decode
from simulators import load_scenario
from simulators.strap_source import VirtualStrap


class FakeTime:
    """A monotonic clock that only moves when slept on, recording each sleep."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


async def test_plays_at_speed_with_simulated_arrival_times() -> None:
    """At 15x, 14 simulated minutes take 56 s of injected time; arrivals on the scenario clock."""
    fake = FakeTime()
    strap = VirtualStrap.from_scenario(
        load_scenario("demo"), start_t_s=1_700_000_000.0, clock=fake.clock, sleep=fake.sleep
    )
    pairs = [pair async for pair in strap]
    arrivals = np.array([a for a, _ in pairs])
    assert strap.speed == 15.0
    assert len(pairs) == len(strap.trace)
    np.testing.assert_allclose(arrivals - 1_700_000_000.0, strap.trace.t_s)
    assert fake.now - 100.0 == pytest.approx(strap.trace.t_s[-1] / 15.0, abs=1e-6)
    assert all(s > 0 for s in fake.sleeps)
    assert decode(pairs[10][1]).hr_bpm > 0


async def test_late_consumer_does_not_accumulate_drift() -> None:
    """After a stall, due payloads come without sleeping until the schedule is caught up."""
    fake = FakeTime()
    strap = VirtualStrap.from_scenario(
        load_scenario("demo"), start_t_s=0.0, speed=1.0, clock=fake.clock, sleep=fake.sleep
    )
    it = aiter(strap)
    await anext(it)
    fake.now += 10.0  # the consumer stalls for 10 s
    n_before = len(fake.sleeps)
    for _ in range(9):
        await anext(it)
    assert len(fake.sleeps) == n_before


def test_speed_must_be_positive() -> None:
    """A zero speed is refused when the strap is built."""
    with pytest.raises(ValueError, match="speed"):
        VirtualStrap.from_scenario(load_scenario("demo"), start_t_s=0.0, speed=0.0)
