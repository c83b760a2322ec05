"""Broker SIGKILL and restart ×5 during a sped-up simulated session.

The daemon (virtual straps playing the "demo" scenario, MQTT and file outputs) runs against
a private Mosquitto that persists its state after every change. The broker is killed with
SIGKILL five times, stays down a few seconds each time, and is started again on the same
port. A QoS 1 subscriber with a persistent session (reconnecting on its own) collects every
trigger and outcome; the daemon's session files are the ledger of what it computed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiomqtt
import pytest

from tests.app.test_daemon_faults import DaemonProcess, eventually, stopped_at_exit
from tests.faults._report import report
from tests.servers import Mosquitto
from vagus.session import read_session

pytestmark = [pytest.mark.faults, pytest.mark.integration, pytest.mark.slow]

KILLS = 5
DOWN_S = 3.0
"""How long the broker stays dead each time."""
UP_S = 2.5
"""How long it runs (after the daemon reconnected) before the next kill."""
SPEED = 15.0
"""The demo's 13 simulated minutes in 52 s: the five kills (about 35 s) fall inside it,
around the stress episode's triggers (from about 16 s) and their outcomes (20 s later)."""
DEVICES = 3
RECONNECT_LIMIT_S = 15.0
"""Broker back to daemon reconnected (its backoff is capped at 1 s in this config)."""


PREFIX = "faults-broker-kill"


def write_config(
    tmp_path: Path, port: int, *, state_dir: Path | None = None, files_dir: Path | None = None
) -> Path:
    """`DEVICES` virtual straps playing the demo at `SPEED`, MQTT out under `PREFIX`, session
    files; the state and session dirs in ``tmp_path`` unless given."""
    state_dir = state_dir or tmp_path / "state"
    files_dir = files_dir or tmp_path / "session"
    path = tmp_path / "config.toml"
    path.write_text(
        f"""state_dir = "{state_dir}"
[sources.simulated]
devices = {DEVICES}
scenario = "demo"
speed = {SPEED}
[mqtt]
host = "127.0.0.1"
port = {port}
client_id = "faults-broker-kill"
prefix = "{PREFIX}"
backoff_base_s = 0.1
backoff_cap_s = 1.0
[files]
dir = "{files_dir}"
[console]
enabled = false
[log]
level = "info"
"""
    )
    return path


@dataclass
class Received:
    """Trigger ids and the trigger ids of outcomes, as a QoS 1 subscriber received them."""

    triggers: list[str] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)
    connects: int = 0


@contextlib.asynccontextmanager
async def resilient_subscriber(port: int, prefix: str) -> AsyncIterator[Received]:
    """A QoS 1 subscriber with a persistent session that reconnects whenever the broker dies."""
    received = Received()

    async def run() -> None:
        while True:
            try:
                async with aiomqtt.Client(
                    "127.0.0.1", port, identifier="faults-subscriber", clean_session=False
                ) as client:
                    await client.subscribe(f"{prefix}/+/trigger", qos=1)
                    await client.subscribe(f"{prefix}/+/outcome", qos=1)
                    received.connects += 1
                    async for message in client.messages:
                        body = json.loads(bytes(message.payload))
                        if message.topic.value.endswith("/trigger"):
                            received.triggers.append(body["id"])
                        else:
                            received.outcomes.append(body["trigger_id"])
            except aiomqtt.MqttError:
                await asyncio.sleep(0.2)

    task = asyncio.create_task(run(), name="fault-subscriber")
    try:
        yield received
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def connects(daemon: DaemonProcess) -> int:
    """How often the daemon's MQTT output has connected so far."""
    return sum(1 for m in daemon.messages() if m.startswith("mqtt connected to"))


def reconnected(daemon: DaemonProcess, times: int) -> bool:
    return connects(daemon) >= times


async def test_broker_sigkill_and_restart_five_times(
    tmp_path: Path, private_mosquitto: Mosquitto
) -> None:
    """Mosquitto SIGKILLed and restarted 5 times (3 s down each) while 3 virtual straps play
    the demo at 15x: the daemon never exits (it ends by itself with 0 when the scenario
    ends), it reconnects within 15 s of each restart, and every trigger and outcome in its
    session files reaches the QoS 1 subscriber at least once: nothing lost."""
    broker = private_mosquitto
    config = write_config(tmp_path, broker.port)
    daemon = DaemonProcess(config, tmp_path / "daemon.log")
    recoveries: list[float] = []
    with stopped_at_exit(daemon):
        async with resilient_subscriber(broker.port, PREFIX) as received:
            await eventually(lambda: received.connects > 0, timeout_s=20, what="subscriber")
            daemon.start()
            await eventually(
                lambda: connects(daemon) == 1, timeout_s=30, what="connect", alive=daemon
            )
            for kill in range(KILLS):
                await asyncio.sleep(UP_S)
                assert daemon.running, daemon.tail()
                broker.kill()
                await asyncio.sleep(DOWN_S)
                await asyncio.to_thread(broker.start)
                back = time.monotonic()
                await eventually(
                    functools.partial(reconnected, daemon, kill + 2),
                    timeout_s=RECONNECT_LIMIT_S * 2,
                    what=f"reconnection after restart {kill + 1}",
                    alive=daemon,
                )
                recoveries.append(time.monotonic() - back)
            code = await asyncio.to_thread(daemon.proc.wait, 180)  # type: ignore[union-attr]
            session = read_session(tmp_path / "session")
            sent_triggers = {t.id for dev in session for t in dev.triggers}
            sent_outcomes = {o.trigger_id for dev in session for o in dev.outcomes}
            with contextlib.suppress(pytest.fail.Exception):
                await eventually(
                    lambda: (
                        sent_triggers <= set(received.triggers)
                        and sent_outcomes <= set(received.outcomes)
                    ),
                    timeout_s=20,
                    what="every trigger and outcome",
                )

    lost_triggers = sent_triggers - set(received.triggers)
    lost_outcomes = sent_outcomes - set(received.outcomes)
    duplicates = len(received.triggers) - len(set(received.triggers))
    report(
        "broker SIGKILL + restart (3 s down), 3 straps at 15x",
        injected=KILLS,
        lost=f"{len(lost_triggers)}/{len(sent_triggers)} triggers, "
        f"{len(lost_outcomes)}/{len(sent_outcomes)} outcomes ({duplicates} duplicates)",
        recovery=f"reconnect {min(recoveries):.2f}-{max(recoveries):.2f} s "
        f"(mean {sum(recoveries) / len(recoveries):.2f} s)",
    )
    assert code == 0, daemon.tail()
    assert sent_triggers, "the demo should fire triggers"
    assert not lost_triggers, lost_triggers
    assert not lost_outcomes, lost_outcomes
    assert max(recoveries) < RECONNECT_LIMIT_S, recoveries
    bad = [line for line in daemon.lines() if line.get("level") in ("critical", "?")]
    assert not bad, bad
