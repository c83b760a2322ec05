"""The harness's nats-server: MQTT in, partitioned by the mapping, kept by JetStream."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from pathlib import Path

import aiomqtt
import nats
import pytest

from ingest.nats_subjects import partition_mapping, stream_subject
from tests.servers import NatsServer, require_binary

pytestmark = pytest.mark.integration

DEPLOY_CONF = Path(__file__).parents[2] / "deploy" / "nats" / "nats-server.conf"


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    server = NatsServer(
        tmp_path, require_binary("nats-server"), mappings=dict([partition_mapping("h", 4)])
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def test_mqtt_publish_lands_partitioned_in_a_stream(nats_server: NatsServer) -> None:
    """A QoS 1 publish on ``h/<device>/beats`` is stored under ``h.beats.<p>.<device>``, the
    same partition for the same device; a topic with a '.' is refused by 2.9's MQTT."""
    client = await nats.connect(nats_server.url)
    try:
        js = client.jetstream()
        await js.add_stream(name="H", subjects=[stream_subject("h")])
        async with aiomqtt.Client("127.0.0.1", nats_server.mqtt_port, identifier="h-pub") as pub:
            for device in ("a-1", "a-2", "a-1"):
                await pub.publish(f"h/{device}/beats", b"{}", qos=1)
        info = await js.stream_info("H", subjects_filter=">")
        subjects = info.state.subjects or {}
        assert sum(subjects.values()) == 3
        by_device = {s.rsplit(".", 1)[1]: s.split(".")[2] for s in subjects}
        assert set(by_device) == {"a-1", "a-2"}
        assert all(p in {"0", "1", "2", "3"} for p in by_device.values())
        assert subjects[f"h.beats.{by_device['a-1']}.a-1"] == 2
    finally:
        await client.close()

    async def publish_dotted() -> None:
        async with aiomqtt.Client("127.0.0.1", nats_server.mqtt_port, identifier="dot") as pub:
            await pub.publish("h/a.1/beats", b"{}", qos=1, timeout=5)
            await asyncio.sleep(1)
            await pub.publish("h/a-1/beats", b"{}", qos=1, timeout=5)

    with pytest.raises(aiomqtt.MqttError):  # the server closes the connection
        await publish_dotted()


def test_deploy_config_is_valid_and_matches_the_code() -> None:
    """deploy/nats/nats-server.conf parses (nats-server -t) and maps as the code says."""
    binary = require_binary("nats-server")
    text = DEPLOY_CONF.read_text()
    source, destination = partition_mapping("vagus", 16)
    assert f'"{source}": "{destination}"' in text
    result = subprocess.run(
        [binary, "-t", "-c", str(DEPLOY_CONF)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stdout + result.stderr
