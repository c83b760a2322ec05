"""Helpers for the publisher tests: unique settings, a running publisher, a gated sleep."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
from collections.abc import AsyncIterator
from pathlib import Path

from tests.servers import Mosquitto
from vagus.mqtt import MqttPublisher, MqttSettings, TriggerJournal

_counter = itertools.count()


def unique_settings(mosquitto: Mosquitto, **fields: object) -> MqttSettings:
    """Settings with a topic prefix and client id no other test uses on the shared broker."""
    n = next(_counter)
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": mosquitto.port,
        "client_id": f"vagus-test-{n}",
        "prefix": f"test{n}/vagus",
        "backoff_base_s": 0.05,
        "backoff_cap_s": 0.5,
        "ack_timeout_s": 2.0,
    }
    values.update(fields)
    return MqttSettings.model_validate(values)


class GatedSleep:
    """Backoff sleep that also waits for ``gate``: the test decides when reconnects may succeed."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.gate.set()
        self.delays_s: list[float] = []

    async def __call__(self, delay_s: float) -> None:
        self.delays_s.append(delay_s)
        await asyncio.sleep(min(delay_s, 0.05))
        await self.gate.wait()


@contextlib.asynccontextmanager
async def running(
    settings: MqttSettings,
    state_dir: Path,
    *,
    sleep: GatedSleep | None = None,
    environ: dict[str, str] | None = None,
) -> AsyncIterator[MqttPublisher]:
    """A publisher running as a task (connected before the body starts), cancelled after."""
    journal = TriggerJournal(state_dir / "triggers.jsonl", max_pending=settings.max_pending)
    publisher = MqttPublisher(
        settings,
        journal,
        environ=environ or {},
        rng=random.Random(1),
        sleep=sleep or GatedSleep(),
    )
    task = asyncio.create_task(publisher.run(), name="mqtt-publisher")
    try:
        async with asyncio.timeout(10):
            await publisher.connected.wait()
        yield publisher
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
