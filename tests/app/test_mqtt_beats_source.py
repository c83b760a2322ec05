"""The daemon's MQTT beats intake: what `vagus simulate` publishes arrives as the same beats."""

from __future__ import annotations

import asyncio

import aiomqtt
import numpy as np
import pytest

from hrv import BeatBatch
from simulators.fleet import beats_message
from tests.mqtt.support import unique_settings
from tests.servers import Mosquitto
from vagus.daemon import Inbox, parse_beats_message, receive_mqtt_beats

pytestmark = pytest.mark.integration


async def test_published_beats_reach_the_inbox(mosquitto: Mosquitto) -> None:
    """Beats published to <prefix>/<device>/beats arrive unchanged; a malformed message in
    between is skipped, and the intake ends when asked to stop."""
    settings = unique_settings(mosquitto)
    sent = BeatBatch(
        device="phone-1",
        t_s=np.array([1.5, 2.3, 3.1]),
        rr_ms=np.array([800.0, 812.5, 790.25]),
        gap=np.array([True, False, False]),
    )
    inbox: Inbox = asyncio.Queue()
    stopping = asyncio.Event()
    intake = asyncio.create_task(receive_mqtt_beats(settings, None, inbox, stopping))
    topic = f"{settings.prefix}/phone-1/beats"
    async with aiomqtt.Client("127.0.0.1", mosquitto.port) as pub:
        got = None
        async with asyncio.timeout(10):
            while got is None:  # the intake subscribes asynchronously: resend until it listens
                await pub.publish(topic, b"{not json", qos=1)
                await pub.publish(topic, beats_message(sent, 0, 3, start_t_s=0.0), qos=1)
                try:
                    got = await asyncio.wait_for(inbox.get(), timeout=0.5)
                except TimeoutError:
                    continue
    stopping.set()
    await asyncio.wait_for(intake, timeout=5)
    assert isinstance(got, BeatBatch)
    assert got.device == "phone-1"
    assert got.t_s.tolist() == [1.5, 2.3, 3.1]
    assert got.rr_ms.tolist() == [800.0, 812.5, 790.25]
    assert got.gap.tolist() == [True, False, False]


def test_wrong_schema_is_refused() -> None:
    """A message of another schema version is not mistaken for beats."""
    with pytest.raises(ValueError, match="schema 1"):
        parse_beats_message(b'{"schema": 2, "device": "x", "t_s": [], "rr_ms": []}')
