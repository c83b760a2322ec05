"""The fleet: schema-valid beat messages, about one per device per second, on schedule."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

import aiomqtt
import jsonschema
import numpy as np
import pytest

from ingest import encode_beats
from simulators import load_scenario
from simulators.fleet import build_fleet, device_names, run_fleet
from tests.servers import Mosquitto, free_port
from vagus.commands import simulate
from vagus.errors import UserError

SCHEMA = json.loads((Path(__file__).parents[2] / "vagus" / "schemas" / "beats.json").read_text())


class FakeTime:
    """A clock that moves only when slept on."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_message_is_schema_valid_with_equal_columns() -> None:
    """A beats message validates against beats.json and its columns have one length."""
    batch = build_fleet(load_scenario("demo"), 1, until_s=30)[0]
    doc = json.loads(encode_beats(batch, 0, 10, t_offset_s=1_700_000_000.0))
    jsonschema.validate(doc, SCHEMA)
    assert len(doc["t_s"]) == len(doc["rr_ms"]) == len(doc["gap"]) == 10
    assert doc["t_s"][0] == pytest.approx(1_700_000_000.0 + batch.t_s[0], abs=1e-3)


def test_schema_rejects_a_wrong_version_and_a_wildcard_device() -> None:
    """beats.json refuses schema 2 and a device name with an MQTT wildcard."""
    good = {"schema": 1, "device": "a", "t_s": [1.0], "rr_ms": [800.0], "gap": [False]}
    jsonschema.validate(good, SCHEMA)
    for bad in ({**good, "schema": 2}, {**good, "device": "a/+"}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, SCHEMA)


async def test_every_device_publishes_once_a_second_and_every_beat_once() -> None:
    """10 devices for 20 s: ~20 messages each, all observed beats sent exactly once, no lag."""
    scenario = load_scenario("demo")
    fleet = build_fleet(scenario, 10, until_s=20 * 15)
    sent: dict[str, list[dict[str, list[float]]]] = {}

    async def publish(messages: list[tuple[str, bytes]]) -> None:
        for topic, payload in messages:
            sent.setdefault(topic, []).append(json.loads(payload))

    fake = FakeTime()
    stats = await run_fleet(
        fleet,
        publish=publish,
        prefix="p",
        speed=15.0,
        duration_s=20.0,
        start_t_s=0.0,
        clock=fake.clock,
        sleep=fake.sleep,
    )
    assert sorted(sent) == sorted(f"p/{n}/beats" for n in device_names(scenario, 10))
    assert all(19 <= len(msgs) <= 20 for msgs in sent.values())
    for i, batch in enumerate(fleet):
        times = np.concatenate([m["t_s"] for m in sent[f"p/{batch.device}/beats"]])
        last_window_end = (191 + i % 10) / 10 * 15.0  # slot i % 10's last tick is 190 + slot
        np.testing.assert_allclose(times, batch.t_s[batch.t_s <= last_window_end], atol=1e-3)
    assert stats.messages == sum(len(m) for m in sent.values())
    assert stats.max_lag_s == 0.0
    assert stats.wall_s == pytest.approx(20.0)


def test_devices_get_different_beats() -> None:
    """Each device has its own seed: two devices' beats differ."""
    a, b = build_fleet(load_scenario("demo"), 2, until_s=60)
    assert a.device != b.device
    assert not np.array_equal(a.rr_ms[:20], b.rr_ms[:20])


def _args(*argv: str) -> argparse.Namespace:
    """Parse ``vagus simulate`` options with the command's own parser."""
    parser = argparse.ArgumentParser()
    simulate.add_arguments(parser)
    return parser.parse_args(argv)


@pytest.mark.integration
async def test_fleet_reaches_a_real_broker(mosquitto: Mosquitto) -> None:
    """`vagus simulate` with 5 devices: a subscriber gets schema-valid beats from every device."""
    received: dict[str, int] = {}
    async with aiomqtt.Client("127.0.0.1", mosquitto.port) as sub:
        await sub.subscribe("fleet-it/+/beats")

        async def collect() -> None:
            async for message in sub.messages:
                assert isinstance(message.payload, bytes)
                doc = json.loads(message.payload)
                jsonschema.validate(doc, SCHEMA)
                assert str(message.topic) == f"fleet-it/{doc['device']}/beats"
                received[doc["device"]] = received.get(doc["device"], 0) + 1

        collector = asyncio.create_task(collect())
        args = _args(
            *("--devices", "5", "--scenario", "demo", "--mqtt", f"127.0.0.1:{mosquitto.port}"),
            *("--speed", "20", "--prefix", "fleet-it", "--duration", "3"),
        )
        stats = await simulate.publish_fleet(args)
        await asyncio.sleep(0.5)
        collector.cancel()
    assert stats.devices == 5
    assert sorted(received) == [f"demo-strap-{i:03d}" for i in range(5)]
    assert all(n >= 2 for n in received.values())
    assert sum(received.values()) == stats.messages


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (("--mqtt", "localhost"), "HOST:PORT"),
        (("--mqtt", "127.0.0.1:1", "--scenario", "nope"), "demo"),
        (("--mqtt", "127.0.0.1:1", "--devices", "0"), "--devices"),
        (("--mqtt", "127.0.0.1:1", "--prefix", "a/#"), "--prefix"),
    ],
)
def test_bad_options_are_user_errors(argv: tuple[str, ...], needle: str) -> None:
    """Bad options raise a one-line UserError naming the option (exit 2 in the CLI)."""
    with pytest.raises(UserError, match=needle):
        simulate.run(_args(*argv))


def test_unreachable_broker_is_a_user_error() -> None:
    """A broker that does not answer gives a UserError naming host and port."""
    port = free_port()
    with pytest.raises(UserError, match=f"127.0.0.1:{port}"):
        simulate.run(_args("--mqtt", f"127.0.0.1:{port}", "--duration", "1"))
