"""TLS with a private CA and client certificates, on the test Mosquitto's ``cert_port``
(``require_certificate true``): the publisher and the beats intake connect with
``client_cert``/``client_key``, and without them stop at once with one `BrokerTlsError`."""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
from pathlib import Path

import aiomqtt
import numpy as np
import pytest

from hrv import BeatBatch
from ingest import beats_topic, encode_beats
from recommender import Evaluator, default_config
from tests.mqtt.collector import collecting
from tests.mqtt.support import GatedSleep, running, unique_settings
from tests.recommender.windows import episodes, series
from tests.servers import Mosquitto, make_client_cert, make_test_pki
from vagus.daemon._mqtt_intake import IntakeCounters, receive_mqtt_beats
from vagus.events import BeatColumns, Delivery, InboxItem
from vagus.mqtt import BrokerTlsError, MqttPublisher, MqttSettings, TriggerJournal

pytestmark = pytest.mark.integration


def cert_settings(
    mosquitto: Mosquitto, *, with_cert: bool = True, **fields: object
) -> MqttSettings:
    """Settings for the client-certificate listener (verified against the test CA)."""
    values: dict[str, object] = {
        "host": "localhost",
        "port": mosquitto.cert_port,
        "ca_file": mosquitto.ca_file,
    }
    if with_cert:
        values.update(client_cert=mosquitto.client_cert, client_key=mosquitto.client_key)
    return unique_settings(mosquitto, **{**values, **fields})


async def refusal_of_publisher(settings: MqttSettings, tmp_path: Path) -> BrokerTlsError:
    """Run a publisher that must fail; its error, after checking it never backed off."""
    sleep = GatedSleep()
    publisher = MqttPublisher(
        settings,
        TriggerJournal(tmp_path / "q.jsonl"),
        environ={},
        rng=random.Random(0),
        sleep=sleep,
    )
    async with asyncio.timeout(20):
        with pytest.raises(BrokerTlsError) as info:
            await publisher.run()
    assert sleep.delays_s == [], "a permanent TLS failure is not retried"
    return info.value


async def test_publisher_with_client_certificate(mosquitto: Mosquitto, tmp_path: Path) -> None:
    """With the CA and a client certificate from it, a trigger reaches a subscriber."""
    settings = cert_settings(mosquitto)
    (trigger,) = (
        Evaluator(default_config()).feed_many(series(episodes((0, 60)), until_s=60)).triggers
    )
    async with (
        collecting(mosquitto.port, f"{settings.prefix}/#") as sub,
        running(settings, tmp_path) as publisher,
    ):
        publisher.publish_trigger(trigger)
        (got,) = await sub.wait_for("/trigger", 1)
    assert got.json()["id"] == trigger.id


async def test_intake_with_client_certificate(mosquitto: Mosquitto) -> None:
    """The beats intake subscribes with a client certificate and delivers what is published."""
    settings = cert_settings(mosquitto)
    inbox: asyncio.Queue[InboxItem | None] = asyncio.Queue()
    counters = IntakeCounters()
    stopping = asyncio.Event()
    task = asyncio.create_task(
        receive_mqtt_beats(settings, None, inbox, stopping, counters=counters), name="intake"
    )
    try:
        async with asyncio.timeout(10):
            while counters.sessions == 0:  # noqa: ASYNC110 - plain counters, no event to await
                await asyncio.sleep(0.02)
        batch = BeatBatch(device="phone-1", t_s=np.array([1.0]), rr_ms=np.array([800.0]))
        async with aiomqtt.Client("127.0.0.1", mosquitto.port) as pub:
            await pub.publish(beats_topic(settings.prefix, "phone-1"), encode_beats(batch), qos=1)
        async with asyncio.timeout(10):
            item = await inbox.get()
        assert isinstance(item, Delivery)
        assert isinstance(item.event, BeatColumns)
        assert item.event.devices == ("phone-1",)
        item.ack()
    finally:
        stopping.set()
        await asyncio.wait_for(task, timeout=10)
    assert counters.acked == 1


async def test_publisher_without_client_certificate_stops_once(
    mosquitto: Mosquitto, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Without a client certificate the broker's TLS alert (hidden by aiomqtt behind a CONNACK
    timeout) becomes one `BrokerTlsError` naming the keys to set, not retried; paho's own
    log line about it is withheld."""
    settings = cert_settings(mosquitto, with_cert=False, ack_timeout_s=1.0)
    with caplog.at_level(logging.DEBUG):
        error = await refusal_of_publisher(settings, tmp_path)
    assert error.reason == "TLSV13_ALERT_CERTIFICATE_REQUIRED"
    message = str(error)
    assert "\n" not in message
    assert f"localhost:{mosquitto.cert_port}" in message
    assert "requires a client certificate" in message
    assert "mqtt.client_cert" in message
    assert "failed to receive on socket" not in caplog.text


async def test_untrusted_broker_certificate_stops_once(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    """Without the private CA (system CAs only), the broker's certificate fails verification:
    one `BrokerTlsError` pointing at ``mqtt.ca_file``, not retried."""
    settings = cert_settings(mosquitto, ca_file=None, tls=True)
    error = await refusal_of_publisher(settings, tmp_path)
    assert error.reason == "CERTIFICATE_VERIFY_FAILED"
    assert "not trusted" in str(error)
    assert "mqtt.ca_file" in str(error)


async def test_intake_without_client_certificate_stops_once(mosquitto: Mosquitto) -> None:
    """The beats intake without a client certificate raises `BrokerTlsError` without backing
    off (the supervisor then reports the source stopped, once)."""
    settings = cert_settings(mosquitto, with_cert=False, ack_timeout_s=1.0)
    counters = IntakeCounters()
    delays: list[float] = []

    async def sleep(delay_s: float) -> None:
        delays.append(delay_s)

    inbox: asyncio.Queue[InboxItem | None] = asyncio.Queue()
    async with asyncio.timeout(20):
        with pytest.raises(BrokerTlsError) as info:
            await receive_mqtt_beats(
                settings, None, inbox, asyncio.Event(), counters=counters, sleep=sleep
            )
    assert info.value.reason == "TLSV13_ALERT_CERTIFICATE_REQUIRED"
    assert (delays, counters.reconnects, counters.sessions) == ([], 0, 0)


async def test_client_certificate_of_another_ca_never_connects(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    """A client certificate the broker's CA did not issue never gets a connection. Mosquitto
    answers it with an unknown-CA alert (a `BrokerTlsError`, not retried) or, at times, by
    hanging up, which cannot be told from a network break and is retried."""
    other = tmp_path / "other-ca"
    other.mkdir()
    make_test_pki(other)
    cert, key = make_client_cert(other, "intruder")
    settings = cert_settings(
        mosquitto, with_cert=False, client_cert=cert, client_key=key, ack_timeout_s=1.0
    )
    publisher = MqttPublisher(
        settings,
        TriggerJournal(tmp_path / "q.jsonl"),
        environ={},
        rng=random.Random(0),
        sleep=GatedSleep(),
    )
    task = asyncio.create_task(publisher.run(), name="publisher")
    done, _ = await asyncio.wait([task], timeout=4.0)
    task.cancel()
    await asyncio.wait([task])
    assert not publisher.connected.is_set()
    if done:
        error = task.exception()
        assert isinstance(error, BrokerTlsError)
        assert error.reason in {"TLSV1_ALERT_UNKNOWN_CA", "SSLV3_ALERT_BAD_CERTIFICATE"}


def test_tls_context_loads_the_client_certificate(mosquitto: Mosquitto) -> None:
    """``client_cert``/``client_key`` settings give a verifying context holding the chain."""
    context = cert_settings(mosquitto).ssl_context()
    assert context is not None
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
