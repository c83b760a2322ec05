"""A virtual strap as a daemon source: notification bytes arriving in real time or faster.

The daemon decodes these bytes with the same `ingest` decoder and beat
timing as a real strap's. Time is injected: ``clock`` (seconds, monotonic)
and ``sleep`` (awaitable); the yielded arrival times are on the simulated
clock (``start_t_s`` plus scenario time), so a session played at 60x still
has beats one second apart per second of simulated time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from simulators.scenario import Scenario
from simulators.simulation import simulate
from simulators.wearable import WearableTrace, wearable_trace


@dataclass(frozen=True, slots=True, kw_only=True)
class VirtualStrap:
    """Async-iterable ``(arrival_t_s, payload)`` pairs, paced at ``speed`` x real time."""

    device: str
    trace: WearableTrace
    start_t_s: float
    speed: float = 1.0
    clock: Callable[[], float] = field(default=time.monotonic)
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep)

    def __post_init__(self) -> None:
        if not self.speed > 0:
            raise ValueError(f"VirtualStrap speed={self.speed} must be positive")

    @classmethod
    def from_scenario(
        cls,
        scenario: Scenario,
        *,
        start_t_s: float,
        speed: float | None = None,
        seed: int | Sequence[int] | None = None,
        device: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> VirtualStrap:
        """A strap playing ``scenario`` (its seed, speed and device unless given)."""
        seed = scenario.seed if seed is None else seed
        sim = simulate(scenario, seed=seed)
        rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
        return cls(
            device=device or scenario.device.name,
            trace=wearable_trace(sim, scenario.device, rng),
            start_t_s=start_t_s,
            speed=scenario.speed if speed is None else speed,
            clock=clock,
            sleep=sleep,
        )

    def __aiter__(self) -> AsyncIterator[tuple[float, bytes]]:
        return self._play()

    async def _play(self) -> AsyncIterator[tuple[float, bytes]]:
        """Each payload when its scenario time, divided by ``speed``, has passed since the start.

        Due times are computed from the start, not from the previous payload,
        so scheduling delays never accumulate into drift.
        """
        origin = self.clock()
        for t_s, payload in self.trace:
            delay = origin + t_s / self.speed - self.clock()
            if delay > 0:
                await self.sleep(delay)
            yield self.start_t_s + t_s, payload
