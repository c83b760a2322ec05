"""Workers (``vagus run`` with ``[sources.nats]``), a fleet publishing over NATS' MQTT
listener, and consumer positions read back from JetStream."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import math
import time
from collections.abc import Sequence
from pathlib import Path

import aiomqtt
import nats
from nats.js.api import ConsumerInfo

from hrv import BeatBatch, WindowMetrics
from simulators import load_scenario
from simulators.fleet import FleetStats, build_fleet, run_fleet
from tests.app.test_daemon_faults import DaemonProcess
from tests.servers import NatsServer
from vagus.nats import key_of
from vagus.session import read_beats, read_metrics

PARTITIONS = 16
"""Partitions of the test server's mappings (``partition_count`` of the workers)."""


def worker_config(
    directory: Path,
    server: NatsServer,
    *,
    prefix: str,
    stream: str,
    consumer: str,
    worker: str,
    checkpoint_s: float = 1.0,
) -> Path:
    """A worker's config: its own state and files directories, console off, JSON logs."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "config.toml"
    path.write_text(
        f"""state_dir = "{directory / "state"}"
[sources.nats]
url = "{server.url}"
prefix = "{prefix}"
stream = "{stream}"
partition_count = {PARTITIONS}
worker = "{worker}"
consumer = "{consumer}"
checkpoint_s = {checkpoint_s}
[files]
dir = "{directory / "files"}"
[console]
enabled = false
[log]
level = "info"
"""
    )
    return path


def start_worker(directory: Path) -> DaemonProcess:
    """Start ``vagus run`` on the config in ``directory`` (log appended to worker.log)."""
    worker = DaemonProcess(directory / "config.toml", directory / "worker.log")
    worker.start()
    return worker


def fleet(devices: int, until_s: float) -> list[BeatBatch]:
    """The demo scenario's fleet: ``devices`` people, ``until_s`` of beats each."""
    return build_fleet(load_scenario("demo"), devices, until_s=until_s)


async def publish_fleet(
    server: NatsServer,
    batches: Sequence[BeatBatch],
    *,
    prefix: str,
    speed: float,
    duration_s: float,
    start_t_s: float,
) -> FleetStats:
    """Play ``batches`` over the server's MQTT listener (QoS 1, each tick's messages at once)."""
    async with aiomqtt.Client(
        "127.0.0.1", server.mqtt_port, identifier=f"fleet-{prefix}", max_inflight_messages=1000
    ) as client:
        client.pending_calls_threshold = max(client.pending_calls_threshold, len(batches))

        async def publish(sends: list[tuple[str, bytes]]) -> None:
            await asyncio.gather(*(client.publish(t, p, qos=1) for t, p in sends))

        return await run_fleet(
            batches,
            publish=publish,
            prefix=prefix,
            speed=speed,
            duration_s=duration_s,
            start_t_s=start_t_s,
            clock=time.monotonic,
            sleep=asyncio.sleep,
        )


async def consumer_infos(
    server: NatsServer, stream: str, consumer: str, partitions: Sequence[int]
) -> dict[int, ConsumerInfo]:
    """The durable consumers ``<consumer>-p<N>`` of ``partitions`` that exist now."""
    client = await nats.connect(server.url)
    try:
        js = client.jetstream()
        out: dict[int, ConsumerInfo] = {}
        for p in partitions:
            try:
                out[p] = await js.consumer_info(stream, f"{consumer}-p{p}")
            except nats.js.errors.NotFoundError:
                continue
        return out
    finally:
        await client.close()


async def checkpointed_last_beats(
    server: NatsServer, consumer: str, partitions: Sequence[int]
) -> dict[str, float]:
    """The last beat time of each device in the checkpoints of ``partitions`` (bucket
    ``vagus_state``)."""
    client = await nats.connect(server.url)
    try:
        kv = await client.jetstream().key_value("vagus_state")
        out: dict[str, float] = {}
        for p in partitions:
            entry = await kv.get(key_of(consumer, p))
            assert entry.value is not None
            out.update(json.loads(entry.value)["pipeline"]["last_beat_s"])
        return out
    finally:
        await client.close()


async def stream_messages(server: NatsServer, stream: str) -> int:
    """Messages the stream holds."""
    client = await nats.connect(server.url)
    try:
        info = await client.jetstream().stream_info(stream)
        return int(info.state.messages)
    finally:
        await client.close()


async def wait_all_acked(
    server: NatsServer, stream: str, consumer: str, *, timeout_s: float
) -> dict[int, ConsumerInfo]:
    """Until every partition's consumer exists with nothing pending or unacked."""
    deadline = time.monotonic() + timeout_s
    while True:
        infos = await consumer_infos(server, stream, consumer, range(PARTITIONS))
        if len(infos) == PARTITIONS and all(
            i.num_pending == 0 and i.num_ack_pending == 0 for i in infos.values()
        ):
            return infos
        if time.monotonic() > deadline:
            left = {p: (i.num_pending, i.num_ack_pending) for p, i in infos.items()}
            raise AssertionError(f"consumers {consumer} not done in {timeout_s} s: {left}")
        await asyncio.sleep(0.5)


def metrics_of(directory: Path) -> dict[str, list[WindowMetrics]]:
    """The windows a worker wrote, by device."""
    return read_metrics(directory / "files" / "metrics.csv")


def comparable(windows: Sequence[WindowMetrics]) -> list[tuple[object, ...]]:
    """``windows`` as tuples in which NaN equals NaN (a window without a baseline z-score)."""
    return [
        tuple("nan" if isinstance(v, float) and math.isnan(v) else v for v in astuple)
        for astuple in map(dataclasses.astuple, windows)
    ]


def beats_of(directory: Path) -> dict[str, BeatBatch]:
    """The beats a worker wrote, by device."""
    return read_beats(directory / "files" / "beats.csv")
