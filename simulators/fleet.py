"""A fleet of virtual wearables publishing raw beats, about one message per device per second.

Messages are the daemon's beats wire format (`ingest.encode_beats` on
`ingest.beats_topic`, schema ``vagus/schemas/beats.json``), one per device
per second of wall time, carrying the observed beats of ``speed`` seconds
of scenario time. Devices are spread over ``slots`` sub-second phases so
the load is even. The publisher, clock and sleep are injected; `run_fleet`
is the only part that waits.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import numpy as np

from hrv import BeatBatch
from ingest.beats_message import beats_topic, encode_beats
from simulators.scenario import Scenario
from simulators.simulation import simulate


@dataclass(frozen=True, slots=True, kw_only=True)
class FleetStats:
    """How a fleet run went: counts and lag behind the wall-clock schedule."""

    devices: int
    messages: int
    beats: int
    wall_s: float
    max_lag_s: float
    mean_lag_s: float

    @property
    def messages_per_s(self) -> float:
        """Messages published per wall-clock second."""
        return self.messages / self.wall_s if self.wall_s > 0 else 0.0


def device_names(scenario: Scenario, n: int) -> list[str]:
    """``n`` distinct, topic-safe device names derived from the scenario's device name."""
    width = max(3, len(str(n - 1)))
    return [f"{scenario.device.name}-{i:0{width}d}" for i in range(n)]


def build_fleet(scenario: Scenario, n: int, *, until_s: float) -> list[BeatBatch]:
    """Observed beats (times from the scenario start) of ``n`` people, each with its own seed."""
    return [
        simulate(scenario, seed=[scenario.seed, i], until_s=until_s).batch(name)
        for i, name in enumerate(device_names(scenario, n))
    ]


async def run_fleet(
    fleet: Sequence[BeatBatch],
    *,
    publish: Callable[[str, bytes], Awaitable[None]],
    prefix: str,
    speed: float,
    duration_s: float,
    start_t_s: float,
    clock: Callable[[], float],
    sleep: Callable[[float], Awaitable[None]],
    slots: int = 10,
) -> FleetStats:
    """Publish each device's beats to ``<prefix>/<device>/beats`` for ``duration_s`` of wall time.

    Tick ``j`` (due ``(j + 1) / slots`` s after the start) serves the devices
    of slot ``j mod slots`` with the beats of scenario time
    ``((j + 1) / slots - 1, (j + 1) / slots] * speed``. A window without
    beats (contact lost, disconnected) sends nothing. Due times count from
    the start, so a late tick is caught up, never pushed back. The messages of
    one tick are published concurrently (one per device: per-topic order holds).
    """
    topics = [beats_topic(prefix, batch.device) for batch in fleet]
    by_slot = [list(range(s, len(fleet), slots)) for s in range(slots)]
    cursor = [0] * len(fleet)
    messages = beats = 0
    lags: list[float] = []
    origin = clock()
    for j in range(math.ceil(duration_s * slots)):
        due_s = (j + 1) / slots
        delay = origin + due_s - clock()
        if delay > 0:
            await sleep(delay)
        window_end = due_s * speed
        sends = []
        for i in by_slot[j % slots]:
            batch = fleet[i]
            hi = int(np.searchsorted(batch.t_s, window_end, side="right"))
            lo, cursor[i] = cursor[i], hi
            if hi > lo:
                payload = encode_beats(batch, lo, hi, t_offset_s=start_t_s)
                sends.append(publish(topics[i], payload))
                beats += hi - lo
        # One tick's messages go out together (one per device, so per-topic order holds).
        await asyncio.gather(*sends)
        messages += len(sends)
        lags.append(max(clock() - (origin + due_s), 0.0))
    return FleetStats(
        devices=len(fleet),
        messages=messages,
        beats=beats,
        wall_s=clock() - origin,
        max_lag_s=max(lags, default=0.0),
        mean_lag_s=float(np.mean(lags)) if lags else 0.0,
    )
