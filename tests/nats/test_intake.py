"""The NATS intake in-process against a real nats-server: refusals, acks, checkpoints,
no server, a server restart."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nats
import numpy as np
import pytest

from hrv import Baseline, BeatBatch
from ingest.beats_message import encode_beats
from ingest.nats_subjects import partition_mapping
from tests.app.test_daemon_faults import eventually
from tests.nats.support import PARTITIONS
from tests.servers import NatsServer, free_port, require_binary
from vagus.daemon._nats_intake import NatsIntakeCounters, receive_nats_beats
from vagus.events import BeatColumns, Delivery, InboxItem
from vagus.nats import NatsSettings, key_of

pytestmark = pytest.mark.integration


def beats(device: str, t0_s: float) -> BeatBatch:
    t_s = t0_s + np.arange(1, 6, dtype=np.float64) * 0.8
    return BeatBatch(device=device, t_s=t_s, rr_ms=np.full(5, 800.0))


class Engine:
    """Takes the inbox as the daemon's engine does: each delivery's messages, then its ack."""

    def __init__(self) -> None:
        self.inbox: asyncio.Queue[InboxItem | None] = asyncio.Queue(16)
        self.taken: list[BeatBatch] = []

    async def run(self) -> None:
        while True:
            item = await self.inbox.get()
            assert isinstance(item, Delivery)
            assert isinstance(item.event, BeatColumns)
            self.taken.extend(item.event.batch(i) for i in range(len(item.event.devices)))
            item.ack()


def start_intake(
    settings: NatsSettings,
    engine: Engine,
    stopping: asyncio.Event,
    counters: NatsIntakeCounters | None = None,
    **state: Any,
) -> asyncio.Task[None]:
    """The intake into ``engine``'s inbox; ``state`` overrides the snapshot/restore hooks."""
    hooks: dict[str, Any] = {"snapshot": lambda: ({}, {}), "restore": lambda s, b: None}
    return asyncio.create_task(
        receive_nats_beats(
            settings, None, engine.inbox, stopping, counters=counters, **{**hooks, **state}
        )
    )


async def test_bad_messages_are_counted_and_acked_good_ones_delivered(
    nats_server: NatsServer,
) -> None:
    """Good beats become deliveries acked after the engine; refused messages (bad JSON, a
    payload naming another device than its subject) are counted by reason and acked at once;
    the last checkpoint holds the good device under its partition."""
    settings = NatsSettings(
        url=nats_server.url, prefix="unit", stream="UNIT", consumer="u", partitions="0-15"
    )
    engine = Engine()
    stopping = asyncio.Event()
    counters = NatsIntakeCounters()
    taken = engine.taken
    restored: list[Mapping[str, Any] | None] = []

    def snapshot() -> tuple[dict[str, Baseline], dict[str, Any]]:
        last = {b.device: float(b.t_s[-1]) for b in taken}
        return {}, {"last_beat_s": last, "rules": {"version": 2, "devices": {}}}

    intake = start_intake(
        settings,
        engine,
        stopping,
        counters,
        snapshot=snapshot,
        restore=lambda state, _: restored.append(state),
    )
    consumer = asyncio.create_task(engine.run())
    client = await nats.connect(nats_server.url)
    try:
        js = client.jetstream()
        async with asyncio.timeout(30):
            while True:  # the intake makes the stream
                try:
                    await js.stream_info("UNIT")
                    break
                except nats.js.errors.NotFoundError:
                    await asyncio.sleep(0.1)
        await js.publish("unit.beats.3.s-1", encode_beats(beats("s-1", 1e9)))
        await js.publish("unit.beats.3.s-2", b"{not json")
        await js.publish("unit.beats.3.s-3", encode_beats(beats("someone-else", 1e9)))
        await js.publish("unit.beats.3.s-1", encode_beats(beats("s-1", 1e9 + 4)))
        await eventually(lambda: counters.acked >= 4, timeout_s=30, what="4 acks")
        stopping.set()
        await asyncio.wait_for(intake, 30)
        entry = await (await js.key_value("vagus_state")).get(key_of("u", 3))
    finally:
        await client.close()
        consumer.cancel()
    assert [b.device for b in taken] == ["s-1", "s-1"]
    assert counters.delivered == 2
    assert dict(counters.rejected) == {"not_json": 1, "device_mismatch": 1}
    assert restored == []  # nothing checkpointed before this run
    assert entry.value is not None
    doc = json.loads(entry.value)
    assert doc["partition"] == 3
    assert doc["pipeline"]["last_beat_s"] == {"s-1": float(taken[-1].t_s[-1])}


async def test_no_server_is_retried_until_stopped(caplog: pytest.LogCaptureFixture) -> None:
    """A server that is not there is logged and retried with backoff; stopping ends the
    wait at once, nothing delivered."""
    settings = NatsSettings(url=f"nats://127.0.0.1:{free_port()}", partitions="0")
    engine = Engine()
    stopping = asyncio.Event()
    intake = start_intake(settings, engine, stopping)
    await eventually(
        lambda: "cannot connect" in caplog.text, timeout_s=30, what="a connection failure logged"
    )
    stopping.set()
    await asyncio.wait_for(intake, 5)
    assert engine.inbox.empty()


async def test_server_restart_is_survived(tmp_path: Path) -> None:
    """nats-server stopped for 2 s and started again (same port, same JetStream store): the
    intake reconnects by itself and delivers what is published after, once each."""
    server = NatsServer(
        tmp_path,
        require_binary("nats-server"),
        mappings=dict([partition_mapping("unit", PARTITIONS)]),
    )
    server.start()
    settings = NatsSettings(
        url=server.url, prefix="unit", stream="UNIT", consumer="r", partitions="0-15"
    )
    engine = Engine()
    stopping = asyncio.Event()
    taken = engine.taken

    async def publish(t0_s: float) -> None:
        client = await nats.connect(server.url)
        try:
            await client.jetstream().publish("unit.s-1.beats", encode_beats(beats("s-1", t0_s)))
        finally:
            await client.close()

    consumer = asyncio.create_task(engine.run())
    intake = start_intake(settings, engine, stopping)
    try:
        async with asyncio.timeout(60):
            while True:  # the intake makes the stream
                try:
                    await publish(1e9)
                    break
                except nats.errors.Error:
                    await asyncio.sleep(0.2)
        await eventually(lambda: len(taken) == 1, timeout_s=30, what="the first message")
        server.stop()
        await asyncio.sleep(2.0)
        server.start()
        await publish(1e9 + 4)
        await eventually(lambda: len(taken) == 2, timeout_s=60, what="a message after restart")
    finally:
        stopping.set()
        await asyncio.wait_for(intake, 30)
        consumer.cancel()
        server.stop()
    assert [float(b.t_s[0]) for b in taken] == [1e9 + 0.8, 1e9 + 4.8]
