"""A fleet of virtual wearables publishing raw beats, about one message per device per second.

Messages are the daemon's beats wire format (`ingest.encode_beats` on
`ingest.beats_topic`, schema ``vagus/schemas/beats.json``), one per device
per second of wall time, carrying the observed beats of ``speed`` seconds
of scenario time. Devices are spread over ``slots`` sub-second phases so
the load is even. The publisher, clock and sleep are injected; `run_fleet`
is the only part that waits.

Fast enough for 10,000 devices in real time: every message is encoded before
the first is sent (`ingest.encode_beat_slices`, about 150 bytes a message),
and each tick's messages go to ``publish`` as one list. A fleet can also be
split over processes (`build_fleet`'s ``part``), each publishing its share.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import numpy as np

from hrv import BeatBatch
from ingest.beats_message import beats_topic, encode_beat_slices
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


def build_fleet(
    scenario: Scenario, n: int, *, until_s: float, part: tuple[int, int] = (0, 1)
) -> list[BeatBatch]:
    """Observed beats (times from the scenario start) of ``n`` people, each with its own seed.

    ``part`` ``(k, K)`` keeps only devices ``k, k + K, k + 2K, ...`` (one of K publishers).
    """
    k, of = part
    names = device_names(scenario, n)
    return [
        simulate(scenario, seed=[scenario.seed, i], until_s=until_s).batch(names[i])
        for i in range(k, n, of)
    ]


async def run_fleet(
    fleet: Sequence[BeatBatch],
    *,
    publish: Callable[[list[tuple[str, bytes]]], Awaitable[None]],
    prefix: str,
    speed: float,
    duration_s: float,
    start_t_s: float,
    clock: Callable[[], float],
    sleep: Callable[[float], Awaitable[None]],
    slots: int = 10,
    origin: float | None = None,
) -> FleetStats:
    """Publish each device's beats to ``<prefix>/<device>/beats`` for ``duration_s`` of wall time.

    Tick ``j`` (due ``(j + 1) / slots`` s after the start) serves the devices
    of slot ``j mod slots`` (device ``i`` is in slot ``i mod slots``) with the
    beats of scenario time ``((j + 1) / slots - 1, (j + 1) / slots] * speed``.
    A window without beats (contact lost, disconnected) sends nothing. Due
    times count from the start, so a late tick is caught up, never pushed
    back. A tick's messages go to ``publish`` as one list of ``(topic,
    payload)``, at most one per device (per-topic order holds). ``origin`` is
    the clock reading the due times count from (default: the clock once every
    message is encoded), so several publishers can keep one schedule.
    """
    ticks = math.ceil(duration_s * slots)
    by_tick: list[list[tuple[str, bytes]]] = [[] for _ in range(ticks)]
    beats = 0
    for i, batch in enumerate(fleet):
        own = np.arange(i % slots, ticks, slots)  # this device's ticks
        cuts = np.searchsorted(batch.t_s, (own + 1) / slots * speed, side="right")
        cuts = np.concatenate([[0], cuts]).tolist()
        payloads = encode_beat_slices(batch, cuts, t_offset_s=start_t_s)
        topic = beats_topic(prefix, batch.device)
        for j, lo, hi, payload in zip(own.tolist(), cuts[:-1], cuts[1:], payloads, strict=True):
            if hi > lo:
                by_tick[j].append((topic, payload))
                beats += hi - lo
    messages = 0
    lags: list[float] = []
    origin = clock() if origin is None else origin
    for j, sends in enumerate(by_tick):
        due_s = (j + 1) / slots
        delay = origin + due_s - clock()
        if delay > 0:
            await sleep(delay)
        if sends:
            await publish(sends)
        messages += len(sends)
        by_tick[j] = []  # sent: let the payloads go
        lags.append(max(clock() - (origin + due_s), 0.0))
    return FleetStats(
        devices=len(fleet),
        messages=messages,
        beats=beats,
        wall_s=clock() - origin,
        max_lag_s=max(lags, default=0.0),
        mean_lag_s=float(np.mean(lags)) if lags else 0.0,
    )
