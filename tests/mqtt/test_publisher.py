"""The publisher on the real Mosquitto: every message kind, schemas, discovery, outages, TLS."""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from pathlib import Path

import pytest

from recommender import Evaluator, Feedback, FeedbackVerdict, default_config
from tests.mqtt.collector import collecting, validate_message
from tests.mqtt.support import GatedSleep, running, unique_settings
from tests.recommender.windows import episodes, series, window
from tests.servers import Mosquitto
from vagus.mqtt import BrokerRefusedError, MqttPublisher, TriggerJournal, node_id

pytestmark = pytest.mark.integration

DEVICE = "C0:FF:EE:00:00:01"


async def test_session_messages_validate(mosquitto: Mosquitto, tmp_path: Path) -> None:
    """Metrics, state, trigger, outcome, battery, status and discovery arrive and validate."""
    settings = unique_settings(mosquitto, discovery_prefix="ha")
    windows = series(episodes((100, 400)), until_s=900, device=DEVICE)
    step = Evaluator(default_config()).feed_many(windows)
    async with (
        collecting(mosquitto.port, f"{settings.prefix}/#", f"ha/+/{node_id(DEVICE)}/#") as sub,
        running(settings, tmp_path) as publisher,
    ):
        for w in windows:
            publisher.publish_metrics(w)
            await asyncio.sleep(0)
        publisher.publish_battery(DEVICE, 77, 900.0)
        for trigger in step.triggers:
            publisher.publish_trigger(trigger)
        for outcome in step.outcomes:
            publisher.publish_outcome(outcome)
        await sub.wait_for("/trigger", len(step.triggers))
        await sub.wait_for("/outcome", len(step.outcomes))
        await sub.wait_for("/metrics", len(windows))
        await sub.wait_for("/config", 6)  # 5 legacy clean-ups, then the device config
    kinds = {validate_message(m) for m in sub.messages}
    assert kinds == {"metrics", "state", "trigger", "outcome", "battery", "status", "ha_discovery"}
    assert [m.json()["id"] for m in sub.on("/trigger")] == [t.id for t in step.triggers]
    assert not any(m.retain for m in sub.on("/trigger"))
    states = [m.json()["state"] for m in sub.on("/state")]
    assert states[-1] == "calm", "retained state is latest-wins: the last one must be sent"
    assert sub.on("/status")[0].payload == b"online"
    assert publisher.dropped_metrics == 0
    assert publisher.pending_durable == 0
    configs = sub.on("/config")
    assert [m.payload for m in configs[:5]] == [b""] * 5, "old per-entity configs go first"
    assert configs[5].topic == f"ha/device/{node_id(DEVICE)}/config"
    assert configs[5].json()["cmps"]["helpful"]["p"] == "button"


async def test_feedback_result_is_published(mosquitto: Mosquitto, tmp_path: Path) -> None:
    """An answer's result arrives on <device>/feedback/result (QoS 1, not retained), valid."""
    settings = unique_settings(mosquitto)
    evaluator = Evaluator(default_config())
    (trigger,) = evaluator.feed_many(series(episodes((0, 60)), until_s=60, device=DEVICE)).triggers
    answer = Feedback(trigger_id=trigger.id, verdict=FeedbackVerdict.HELPFUL, t_s=70.0)
    result = evaluator.feedback(DEVICE, answer)
    async with (
        collecting(mosquitto.port, f"{settings.prefix}/#") as sub,
        running(settings, tmp_path) as publisher,
    ):
        publisher.publish_feedback_result(result)
        (got,) = await sub.wait_for("/feedback/result", 1)
    assert validate_message(got) == "feedback_result"
    assert not got.retain
    assert got.json()["trigger_id"] == trigger.id
    assert got.json()["status"] == "applied"
    assert publisher.pending_durable == 0


async def test_retained_state_status_and_clean_removal(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    """A late subscriber sees retained status/state/discovery; after forget() none remain."""
    settings = unique_settings(mosquitto, discovery_prefix="ha")
    node = node_id(DEVICE)
    topics = (f"{settings.prefix}/#", f"ha/+/{node}/#")  # legacy and device configs
    async with running(settings, tmp_path) as publisher:
        publisher.publish_metrics(window(0, 85, device=DEVICE))
        async with collecting(mosquitto.port, f"{settings.prefix}/{DEVICE}/metrics") as sub:
            publisher.publish_metrics(window(5, 85, device=DEVICE))
            await sub.wait_for("/metrics", 1)
        async with collecting(mosquitto.port, *topics) as late:
            await late.wait_for("/config", 1)
            await late.wait_for("/state", 1)
        assert all(m.retain for m in late.messages)
        assert late.on("/state")[0].json()["state"] == "high"
        assert late.on("/status")[0].payload == b"online"
        assert [m.topic for m in late.on("/config")] == [f"ha/device/{node}/config"]
        async with collecting(mosquitto.port, *topics) as watcher:
            await watcher.wait_for("/config", 1)
            publisher.forget(DEVICE)
            configs = await watcher.wait_for("/config", 2)
        assert [m.payload for m in configs[1:]] == [b""]
        async with collecting(mosquitto.port, *topics) as after:
            await after.wait_for("/status", 1)
            await asyncio.sleep(0.3)
        assert after.on("/config") == []
        assert after.on("/state") == []


async def test_last_will_says_offline(mosquitto: Mosquitto, tmp_path: Path) -> None:
    """Cancelling the publisher leaves the retained status ``offline``."""
    settings = unique_settings(mosquitto)
    async with running(settings, tmp_path):
        pass
    async with collecting(mosquitto.port, f"{settings.prefix}/status") as sub:
        (status,) = await sub.wait_for("/status", 1)
    assert status.payload == b"offline"
    assert status.retain


@pytest.mark.parametrize(
    "outage_s", [pytest.param(3.0, id="3s"), pytest.param(60.0, id="60s", marks=pytest.mark.slow)]
)
async def test_outage_loses_no_trigger_and_keeps_ids(
    mosquitto: Mosquitto, tmp_path: Path, outage_s: float
) -> None:
    """Broker killed mid-episode: triggers made meanwhile arrive after restart, ids unchanged."""
    settings = unique_settings(mosquitto, queue_size=8)
    spans = ((100.0, 300.0), (2000.0, 2200.0), (3900.0, 4100.0))  # > 1 h apart: hourly cap
    windows = series(episodes(*spans), until_s=4300, device=DEVICE)
    evaluator = Evaluator(default_config())
    sleep = GatedSleep()
    expected: list[str] = []
    try:
        async with (
            collecting(mosquitto.port, f"{settings.prefix}/{DEVICE}/trigger") as sub,
            running(settings, tmp_path, sleep=sleep) as publisher,
        ):
            kill_at = 110.0  # in the first episode, before its trigger fires
            for w in windows:
                if w.t_end_s == kill_at:
                    sleep.gate.clear()
                    await asyncio.to_thread(mosquitto.kill)
                for trigger in evaluator.feed(w).triggers:
                    publisher.publish_trigger(trigger)
                    expected.append(trigger.id)
                publisher.publish_metrics(w)
                await asyncio.sleep(0.001)
            assert len(expected) == 3
            assert publisher.pending_durable == 3
            assert publisher.dropped_metrics > 0
            await asyncio.sleep(outage_s)
            await asyncio.to_thread(mosquitto.start)
            async with asyncio.timeout(10):
                await sub.subscribed.wait()
            sleep.gate.set()
            async with asyncio.timeout(30):
                await publisher.wait_delivered()
            assert publisher.pending_durable == 0
            await sub.wait_for("/trigger", 3, timeout_s=30)
    finally:
        if mosquitto.proc is None:
            mosquitto.start()
    received = [m.json() for m in sub.on("/trigger")]
    by_id: dict[str, list[bytes]] = defaultdict(list)
    for m in sub.on("/trigger"):
        by_id[m.json()["id"]].append(m.payload)
    assert set(by_id) == set(expected)
    assert all(len(set(payloads)) == 1 for payloads in by_id.values())
    assert len({(r["device"], r["rule"], r["t_s"]) for r in received}) == len(by_id)
    assert sleep.delays_s


async def test_tls_with_right_password_publishes(mosquitto: Mosquitto, tmp_path: Path) -> None:
    """Over TLS (test CA) with the right password from the environment, triggers arrive."""
    settings = unique_settings(
        mosquitto,
        port=mosquitto.tls_port,
        host="localhost",
        ca_file=mosquitto.ca_file,
        username=mosquitto.username,
        password_env="VAGUS_MQTT_PASSWORD",
    )
    environ = {"VAGUS_MQTT_PASSWORD": mosquitto.password}
    (trigger,) = (
        Evaluator(default_config()).feed_many(series(episodes((0, 60)), until_s=60)).triggers
    )
    async with (
        collecting(mosquitto.port, f"{settings.prefix}/#") as sub,
        running(settings, tmp_path, environ=environ) as publisher,
    ):
        publisher.publish_trigger(trigger)
        (got,) = await sub.wait_for("/trigger", 1)
    assert got.json()["id"] == trigger.id


async def test_tls_with_wrong_password_fails_clearly(mosquitto: Mosquitto, tmp_path: Path) -> None:
    """A wrong password raises BrokerRefusedError (one line, a UserError), without retrying."""
    settings = unique_settings(
        mosquitto,
        port=mosquitto.tls_port,
        host="localhost",
        ca_file=mosquitto.ca_file,
        username=mosquitto.username,
        password="wrong horse",
    )
    journal = TriggerJournal(tmp_path / "q.jsonl")
    sleep = GatedSleep()
    publisher = MqttPublisher(settings, journal, environ={}, rng=random.Random(0), sleep=sleep)
    async with asyncio.timeout(10):
        with pytest.raises(BrokerRefusedError) as info:
            await publisher.run()
    message = str(info.value)
    assert "\n" not in message
    assert "refused the login of user 'vagus'" in message
    assert "wrong horse" not in message
    assert sleep.delays_s == []


async def test_a_burst_of_many_devices_windows_is_published_whole(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    """One step of 1,000 devices, 3 windows each, queued at once: the queue is sized by the
    devices seen (over the default 256), nothing is dropped, every message arrives and
    `wait_metrics_written` returns once all are handed to the socket."""
    settings = unique_settings(mosquitto)
    windows = [
        w
        for i in range(1000)
        for w in series(episodes((100, 400)), until_s=15, device=f"dev-{i}")[:3]
    ]
    async with (
        collecting(mosquitto.port, f"{settings.prefix}/+/metrics") as sub,
        running(settings, tmp_path) as publisher,
    ):
        publisher.publish_metrics_many(windows)
        async with asyncio.timeout(30):
            await publisher.wait_metrics_written()
        await sub.wait_for("/metrics", len(windows), timeout_s=30)
    assert publisher.dropped_metrics == 0
    assert len(sub.on("/metrics")) == len(windows) == 3000
