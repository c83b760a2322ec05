"""A real MQTT subscriber for the tests: records every message, reconnects after outages."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiomqtt
import jsonschema

from vagus.schemas import load_schema


@dataclass(frozen=True)
class Received:
    """One message as the subscriber got it."""

    topic: str
    payload: bytes
    retain: bool

    def json(self) -> Any:
        return json.loads(self.payload)


@dataclass
class Collector:
    """Subscribes to ``topics`` on the broker and keeps what arrives."""

    port: int
    topics: tuple[str, ...] = ("#",)
    messages: list[Received] = field(default_factory=list)
    subscribed: asyncio.Event = field(default_factory=asyncio.Event)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        """Subscribe, collect, and reconnect quickly when the broker goes away."""
        while True:
            try:
                async with aiomqtt.Client("127.0.0.1", self.port) as client:
                    for topic in self.topics:
                        await client.subscribe(topic, qos=1)
                    self.subscribed.set()
                    async for message in client.messages:
                        payload = message.payload
                        assert isinstance(payload, bytes)
                        self.messages.append(
                            Received(str(message.topic), payload, bool(message.retain))
                        )
                        self.arrived.set()
            except aiomqtt.MqttError:
                self.subscribed.clear()
                await asyncio.sleep(0.05)

    def on(self, suffix: str) -> list[Received]:
        """Messages whose topic ends with ``suffix``."""
        return [m for m in self.messages if m.topic.endswith(suffix)]

    async def wait_for(self, suffix: str, count: int, timeout_s: float = 10.0) -> list[Received]:
        """Wait until ``count`` messages on ``*suffix`` arrived; return them."""
        async with asyncio.timeout(timeout_s):
            while len(self.on(suffix)) < count:
                self.arrived.clear()
                await self.arrived.wait()
                await asyncio.sleep(0.05)  # let messages batch up: each check scans them all
        return self.on(suffix)


@contextlib.asynccontextmanager
async def collecting(port: int, *topics: str) -> AsyncIterator[Collector]:
    """A running `Collector` of ``topics``, subscribed before the body starts."""
    collector = Collector(port, topics)
    task = asyncio.create_task(collector.run(), name="collector")
    try:
        async with asyncio.timeout(10):
            await collector.subscribed.wait()
        yield collector
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


SCHEMA_OF_KIND = {
    "trigger": "trigger",
    "outcome": "outcome",
    "metrics": "metrics",
    "state": "state",
    "battery": "battery",
    "feedback": "feedback",
    "result": "feedback_result",
}


def validate_message(message: Received) -> str:
    """Validate a vagus message against its JSON Schema; return the schema name used."""
    if message.topic.endswith("/config"):
        name = "ha_discovery"
    elif message.topic.endswith("/status"):
        assert message.payload in (b"online", b"offline")
        return "status"
    else:
        name = SCHEMA_OF_KIND[message.topic.rsplit("/", 1)[1]]
    if not message.payload:
        assert message.retain or name in ("state", "battery", "ha_discovery")
        return name
    _validator(name).validate(message.json())
    return name


@functools.cache
def _validator(name: str) -> jsonschema.Draft202012Validator:
    schema = load_schema(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
