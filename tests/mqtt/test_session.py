"""Done-when (a): simulated sessions -> HRV engine -> rules -> real Mosquitto, all validated."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from recommender import Evaluator, default_config
from tests.mqtt.collector import collecting, validate_message
from tests.mqtt.support import running, unique_settings
from tests.recommender.test_scenarios import check_one_per_episode, session
from tests.servers import Mosquitto

pytestmark = pytest.mark.integration


async def test_labelled_sessions_over_mqtt(mosquitto: Mosquitto, tmp_path: Path) -> None:
    """Two straps (demo, workday): one trigger per episode within 2 min, all messages valid."""
    settings = unique_settings(mosquitto, discovery_prefix="ha", queue_size=10_000)
    sessions = {d: session(name, d) for d, name in (("s1", "demo"), ("s2", "workday"))}
    evaluator = Evaluator(default_config())
    sent_triggers: dict[str, list[str]] = {d: [] for d in sessions}
    async with (
        collecting(
            mosquitto.port, f"{settings.prefix}/#", "ha/+/vagus_s1/#", "ha/+/vagus_s2/#"
        ) as sub,
        running(settings, tmp_path) as publisher,
    ):
        for device, (_, windows, _) in sessions.items():
            for w in windows:
                step = evaluator.feed(w)
                publisher.publish_metrics(w)
                for trigger in step.triggers:
                    publisher.publish_trigger(trigger)
                    sent_triggers[device].append(trigger.id)
                for outcome in step.outcomes:
                    publisher.publish_outcome(outcome)
                await asyncio.sleep(0)
        n_windows = sum(len(w) for _, w, _ in sessions.values())
        await sub.wait_for("/metrics", n_windows, timeout_s=30)
        await sub.wait_for("/trigger", sum(map(len, sent_triggers.values())))
    assert publisher.dropped_metrics == 0
    kinds = {validate_message(m) for m in sub.messages}
    assert {"metrics", "state", "trigger", "outcome", "status", "ha_discovery"} <= kinds
    for device, (sim, _, expected) in sessions.items():
        got = [m.json() for m in sub.on(f"/{device}/trigger")]
        assert [g["id"] for g in got] == [t.id for t in expected] == sent_triggers[device]
        latencies = check_one_per_episode(sim, expected)
        assert np.max(latencies) <= 120
