"""The host clock stepped by an hour, forwards and backwards.

The real clock cannot be changed in a test; a sender whose clock is stepped shows the daemon
beats whose times jump by an hour mid-stream, which is what it sees on the MQTT intake.
Forwards: the device runs an hour behind, then catches up (+3600 s; beats more than 300 s
ahead of the daemon's clock would be dropped as from the future). Backwards: it runs on
time, then an hour behind (-3600 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiomqtt
import pytest

from hrv import BeatBatch
from ingest.beats_message import beats_topic, encode_beats
from tests.app.test_daemon_faults import (
    DaemonProcess,
    Heart,
    eventually,
    prefix_of,
    stopped_at_exit,
    write_config,
)
from tests.faults._report import report
from tests.servers import Mosquitto

pytestmark = [pytest.mark.faults, pytest.mark.integration, pytest.mark.slow]

HOUR_S = 3600.0
STEPS = {"step-fwd": (-HOUR_S, 0.0), "step-back": (0.0, -HOUR_S)}
"""Each device's clock offset before and after the step."""
BEFORE_STEP_S = 10.0
RESUME_LIMIT_S = 90.0


class Windows:
    """``(arrival monotonic, t_end_s)`` of every metrics message, by device."""

    def __init__(self) -> None:
        self.by_device: dict[str, list[tuple[float, float]]] = {d: [] for d in STEPS}

    def first_after(self, device: str, *, offset_s: float, since: float) -> float | None:
        """Arrival of the first window after ``since`` whose end is on the stepped clock."""
        now = time.time() + offset_s
        for at, t_end_s in self.by_device[device]:
            if at >= since and abs(t_end_s - now) < HOUR_S / 2:
                return at
        return None

    def has(self, device: str, *, offset_s: float, since: float) -> bool:
        """Whether `first_after` finds a window."""
        return self.first_after(device, offset_s=offset_s, since=since) is not None


@contextlib.asynccontextmanager
async def watching_windows(port: int, prefix: str) -> AsyncIterator[Windows]:
    windows = Windows()
    async with aiomqtt.Client("127.0.0.1", port) as client:
        await client.subscribe(f"{prefix}/+/metrics", qos=0)

        async def collect() -> None:
            async for message in client.messages:
                body = json.loads(bytes(message.payload))
                if body["device"] in windows.by_device:
                    windows.by_device[body["device"]].append((time.monotonic(), body["t_end_s"]))

        task = asyncio.create_task(collect(), name="windows-watcher")
        try:
            yield windows
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def test_beat_times_stepped_an_hour_forwards_and_backwards(
    tmp_path: Path, private_mosquitto: Mosquitto
) -> None:
    """Two devices stream 1-s batches; after windows flow, one's beat times step +3600 s and
    the other's -3600 s: the daemon keeps running, logs once per device that a new recording
    starts, no beat is dropped, and each device's windows (on the new clock) resume within
    90 s of the step."""
    broker = private_mosquitto
    config = write_config(
        tmp_path, broker.port, files_dir=tmp_path / "session", state_dir=tmp_path / "state"
    )
    prefix = prefix_of(config)
    daemon = DaemonProcess(config, tmp_path / "daemon.log")
    hearts = {
        device: Heart(device, time.time() - 40, seed=20 + i) for i, device in enumerate(STEPS)
    }
    stepped = asyncio.Event()

    async def stream(client: aiomqtt.Client, device: str, stop: asyncio.Event) -> None:
        before, after = STEPS[device]
        heart = hearts[device]
        now = time.time()
        for k in range(35, 0, -1):  # a backfill, so that windows flow before the step
            await client.publish(
                beats_topic(prefix, device),
                encode_beats(shifted(heart.until(now - k + 1), before)),
                qos=1,
            )
        while not stop.is_set():
            offset = after if stepped.is_set() else before
            beats = shifted(heart.until(time.time()), offset)
            await client.publish(beats_topic(prefix, device), encode_beats(beats), qos=1)
            await asyncio.sleep(1.0)

    resumed: dict[str, float] = {}
    with stopped_at_exit(daemon):
        async with (
            watching_windows(broker.port, prefix) as windows,
            aiomqtt.Client("127.0.0.1", broker.port) as client,
        ):
            daemon.start()
            await daemon.ready()
            stop = asyncio.Event()
            streams = [asyncio.create_task(stream(client, d, stop)) for d in STEPS]
            for device, (before, _) in STEPS.items():
                await eventually(
                    functools.partial(windows.has, device, offset_s=before, since=0),
                    timeout_s=30,
                    what=f"{device} windows before the step",
                    alive=daemon,
                )
            await asyncio.sleep(BEFORE_STEP_S)
            stepped.set()
            stepped_at = time.monotonic()
            for device, (_, after) in STEPS.items():
                await eventually(
                    functools.partial(windows.has, device, offset_s=after, since=stepped_at),
                    timeout_s=RESUME_LIMIT_S + 30,
                    what=f"{device} windows after the step",
                    alive=daemon,
                )
                at = windows.first_after(device, offset_s=after, since=stepped_at)
                assert at is not None
                resumed[device] = at - stepped_at
            stop.set()
            await asyncio.gather(*streams)
            assert daemon.running, daemon.tail()
            code, _ = await daemon.sigterm()

    messages = daemon.messages()
    for device, (before, after) in STEPS.items():
        jumps = [m for m in messages if m.startswith(f"{device}: beat times jumped")]
        dropped = [m for m in messages if m.startswith(f"{device}: beats dropped")]
        report(
            f"beat times stepped {after - before:+.0f} s mid-stream (sender's clock)",
            injected=1,
            lost=f"no beat dropped ({len(dropped)} drop lines); "
            f"{len(jumps)} 'new recording' log line",
            recovery=f"{resumed[device]:.1f} s (step to the first window on the new clock)",
        )
        assert len(jumps) == 1, jumps
        assert not dropped, dropped
        assert resumed[device] < RESUME_LIMIT_S
    assert code == 0, daemon.tail()


def shifted(beats: BeatBatch, offset_s: float) -> BeatBatch:
    """``beats`` with ``offset_s`` added to every time."""
    return dataclasses.replace(beats, t_s=beats.t_s + offset_s)
