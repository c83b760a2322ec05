"""Each real server of the harness answers one real round trip."""

from __future__ import annotations

import asyncio
import ssl
import time

import aiomqtt
import pytest
from dbus_fast import BusType, Message, MessageType
from dbus_fast.aio import MessageBus

from tests.servers import InfluxDB1, Mosquitto, SystemBus, VictoriaMetrics

pytestmark = pytest.mark.integration


async def test_mosquitto_publish_subscribe(mosquitto: Mosquitto) -> None:
    """A message published on the plain listener reaches a subscriber."""
    async with aiomqtt.Client("127.0.0.1", mosquitto.port, identifier="rt-sub") as sub:
        await sub.subscribe("harness/#", qos=1)
        async with aiomqtt.Client("127.0.0.1", mosquitto.port, identifier="rt-pub") as pub:
            await pub.publish("harness/ping", b"pong", qos=1)
        async with asyncio.timeout(5):
            message = await anext(aiter(sub.messages))
    assert str(message.topic) == "harness/ping"
    assert message.payload == b"pong"


async def test_mosquitto_tls_listener_checks_password(mosquitto: Mosquitto) -> None:
    """The TLS listener accepts the test user and refuses a wrong password."""
    tls = ssl.create_default_context(cafile=str(mosquitto.ca_file))
    async with aiomqtt.Client(
        "localhost",
        mosquitto.tls_port,
        username=mosquitto.username,
        password=mosquitto.password,
        tls_context=tls,
    ) as client:
        await client.publish("harness/tls", b"ok", qos=1)
    with pytest.raises(aiomqtt.MqttError):
        async with aiomqtt.Client(
            "localhost",
            mosquitto.tls_port,
            username=mosquitto.username,
            password="wrong",
            tls_context=ssl.create_default_context(cafile=str(mosquitto.ca_file)),
        ):
            pass


def test_victoria_metrics_v2_write_reads_back(victoria_metrics: VictoriaMetrics) -> None:
    """A point written through influxdb-client's v2 write API is exported with tag, value, time."""
    from influxdb_client import InfluxDBClient
    from influxdb_client.client.write_api import SYNCHRONOUS

    t_ns = (int(time.time()) - 60) * 1_000_000_000
    with InfluxDBClient(url=victoria_metrics.url, token="unused", org="vagus") as client:
        client.write_api(write_options=SYNCHRONOUS).write(
            bucket="vagus", record=f"harness,device=rt value=42.5 {t_ns}"
        )
    series = victoria_metrics.export('{__name__="harness_value"}')
    assert len(series) == 1
    assert series[0]["metric"] == {"__name__": "harness_value", "device": "rt"}
    assert series[0]["values"] == [42.5]
    assert series[0]["timestamps"] == [t_ns // 1_000_000]


def test_influxdb1_write_then_influxql(influxdb1: InfluxDB1) -> None:
    """Line protocol written to /write comes back from an InfluxQL SELECT."""
    t_ns = 1_700_000_000_000_000_000
    influxdb1.write(f"harness,device=rt value=7 {t_ns}\nharness,device=rt value=9 {t_ns + 10**9}")
    answer = influxdb1.query('SELECT mean("value") FROM "harness" WHERE "device" = \'rt\'')
    series = answer["results"][0]["series"][0]  # type: ignore[index]
    assert series["values"][0][1] == pytest.approx(8.0)


async def test_private_system_bus_round_trip(system_bus: SystemBus) -> None:
    """A client can own a name on the private bus and another client sees it."""
    owner = await MessageBus(bus_address=system_bus.address, bus_type=BusType.SYSTEM).connect()
    try:
        await owner.request_name("org.vagus.Harness")
        other = await MessageBus(bus_address=system_bus.address, bus_type=BusType.SYSTEM).connect()
        try:
            reply = await other.call(
                Message(
                    destination="org.freedesktop.DBus",
                    path="/org/freedesktop/DBus",
                    interface="org.freedesktop.DBus",
                    member="ListNames",
                )
            )
        finally:
            other.disconnect()
    finally:
        owner.disconnect()
    assert reply is not None
    assert reply.message_type == MessageType.METHOD_RETURN
    assert "org.vagus.Harness" in reply.body[0]
