"""The daemon SIGKILLed mid-session and started again (MQTT beats intake, file output).

A publisher sends one device's beats as consecutive 1-s QoS 1 batches the whole time. The
intake's persistent session (clean_session false, PUBACK only after the engine took the
beats) makes the broker queue what is published while the daemon is dead and redeliver
what it had not acknowledged; the second run appends to the same session files.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import aiomqtt
import numpy as np
import pytest

from hrv import BeatBatch
from ingest.beats_message import beats_topic, encode_beats
from simulators import load_scenario, simulate
from tests.app.test_daemon_faults import (
    DaemonProcess,
    Heart,
    eventually,
    prefix_of,
    stopped_at_exit,
    stored_beats,
    write_config,
)
from tests.faults._report import report
from tests.servers import Mosquitto
from vagus.session import read_session

pytestmark = [pytest.mark.faults, pytest.mark.integration, pytest.mark.slow]

DEVICE = "killed-1"
BEFORE_KILL_S = 15.0
DEAD_S = 6.0
RECOVERY_LIMIT_S = 60.0
"""Restart to every beat published while dead stored: a cold start of the interpreter on a
busy machine, then the queued batches."""
LOST_BATCHES = 2
"""At most the beats of the last batches before the kill: acknowledged to the broker (the
engine took them) but still in the file output's queue when the process died."""

Batch = tuple[float, frozenset[tuple[str, float]]]
"""When a batch was published (monotonic) and its (device, t_s) beats."""


async def publish_batches(
    client: aiomqtt.Client, prefix: str, heart: Heart, sent: list[Batch], stop: asyncio.Event
) -> None:
    """One QoS 1 message a second with the beats up to now, until ``stop``."""
    topic = beats_topic(prefix, heart.device)
    while not stop.is_set():
        payload = encode_beats(heart.until(time.time()))
        beats = frozenset((DEVICE, t) for t in json.loads(payload)["t_s"])
        await client.publish(topic, payload, qos=1)
        sent.append((time.monotonic(), beats))
        await asyncio.sleep(1.0)


async def test_daemon_sigkill_and_restart_loses_at_most_the_last_batches(
    tmp_path: Path, private_mosquitto: Mosquitto
) -> None:
    """SIGKILL after 15 s of 1-s batches (plus a 35-s backfill), 6 s dead while the
    publisher goes on, then a restart: every beat published while the daemon was dead is
    stored within 60 s of the restart, and the beats lost are at most those of the last
    2 batches published before the kill (duplicates allowed, counted)."""
    broker = private_mosquitto
    session = tmp_path / "session"
    config = write_config(tmp_path, broker.port, files_dir=session, state_dir=tmp_path / "state")
    prefix = prefix_of(config)
    first = DaemonProcess(config, tmp_path / "daemon-1.log")
    second = DaemonProcess(config, tmp_path / "daemon-2.log")
    heart = Heart(DEVICE, time.time() - 40, seed=7)
    sent: list[Batch] = []
    stop = asyncio.Event()
    with stopped_at_exit(first, second):
        async with aiomqtt.Client("127.0.0.1", broker.port) as client:
            first.start()
            await first.ready()
            now = time.time()
            for k in range(35, 0, -1):
                payload = encode_beats(heart.until(now - k + 1))
                await client.publish(beats_topic(prefix, DEVICE), payload, qos=1)
                beats = frozenset((DEVICE, t) for t in json.loads(payload)["t_s"])
                sent.append((time.monotonic(), beats))
            publishing = asyncio.create_task(publish_batches(client, prefix, heart, sent, stop))
            await asyncio.sleep(BEFORE_KILL_S)
            assert first.running, first.tail()
            first.kill()
            killed_at = time.monotonic()
            await asyncio.sleep(DEAD_S)
            second.start()
            restarted_at = time.monotonic()
            while_dead = frozenset().union(*(b for at, b in sent if killed_at < at < restarted_at))
            await eventually(
                lambda: while_dead <= set(stored_beats(session)),
                timeout_s=RECOVERY_LIMIT_S * 2,
                what="the beats published while the daemon was dead",
                alive=second,
            )
            recovery_s = time.monotonic() - restarted_at
            await asyncio.sleep(5.0)
            stop.set()
            await publishing
        published = frozenset().union(*(b for _, b in sent))
        await eventually(
            lambda: published - set(stored_beats(session)) <= last_before(sent, killed_at),
            timeout_s=30,
            what="every beat but the last batches before the kill",
            alive=second,
        )
        await asyncio.sleep(2.0)
        code, _ = await second.sigterm()

    rows = [row for row in stored_beats(session) if row[0] == DEVICE]
    lost = published - set(rows)
    duplicates = len(rows) - len(set(rows))
    report(
        "daemon SIGKILL + restart (6 s dead), 1-s QoS 1 beat batches",
        injected=1,
        lost=f"{len(lost)}/{len(published)} beats (bound: last {LOST_BATCHES} batches "
        f"before the kill), {len(while_dead)} beats published while dead all stored, "
        f"{duplicates} duplicates",
        recovery=f"{recovery_s:.1f} s (restart to the backlog stored)",
    )
    assert code == 0, second.tail()
    assert while_dead, "the publisher should have sent beats while the daemon was dead"
    assert lost <= last_before(sent, killed_at), sorted(lost)[:10]
    assert recovery_s < RECOVERY_LIMIT_S
    assert set(rows) <= published


def last_before(sent: list[Batch], killed_at: float) -> frozenset[tuple[str, float]]:
    """The beats of the last `LOST_BATCHES` batches published before ``killed_at``."""
    before = [b for at, b in sent if at <= killed_at]
    return frozenset().union(*before[-LOST_BATCHES:])


# -- rule state across a SIGKILL -------------------------------------------------------------

RULE_DEVICE = "killed-rule"
MIN_GAP_S = 600.0
"""The default ``min_gap_s`` of the rules: no two triggers of a device closer than this."""


def demo_batches(base_t_s: float) -> list[tuple[float, bytes]]:
    """The demo scenario's beats on the wall clock from ``base_t_s``, as 1-s messages with
    their scenario time (the end of each second)."""
    sim = simulate(load_scenario("demo"), seed=3)
    beats = sim.batch(RULE_DEVICE, start_t_s=base_t_s)
    second = np.floor(beats.t_s - base_t_s).astype(int)
    out = []
    for s in np.unique(second):
        pick = second == s
        chunk = BeatBatch(
            device=RULE_DEVICE, t_s=beats.t_s[pick], rr_ms=beats.rr_ms[pick], gap=beats.gap[pick]
        )
        out.append((float(s + 1), encode_beats(chunk)))
    return out


def triggers_of(session: Path) -> list[float]:
    """The trigger times of `RULE_DEVICE` in the session files."""
    if not (session / "triggers.csv").exists():
        return []
    return [
        t.t_s for dev in read_session(session) if dev.device == RULE_DEVICE for t in dev.triggers
    ]


async def test_daemon_sigkill_after_a_trigger_keeps_the_rule_state(
    tmp_path: Path, private_mosquitto: Mosquitto
) -> None:
    """The demo's beats (4 calm minutes, then stress until minute 7) sent as past 1-s batches
    until the first trigger, SIGKILL once the trigger is in the session files, the rest of
    the stress episode published while the daemon is dead, restart: the saved rule state
    (written after every trigger) holds, so no second trigger comes within min_gap_s of the
    first although the stress goes on; every beat is stored."""
    broker = private_mosquitto
    session = tmp_path / "session"
    config = tmp_path / "config.toml"
    config.write_text(
        f"""state_dir = "{tmp_path / "state"}"
[sources.mqtt_beats]
enabled = true
[mqtt]
host = "127.0.0.1"
port = {broker.port}
client_id = "faults-rule"
prefix = "faults-rule"
backoff_base_s = 0.1
backoff_cap_s = 1.0
[files]
dir = "{session}"
[console]
enabled = false
[log]
level = "info"
"""
    )
    topic = beats_topic("faults-rule", RULE_DEVICE)
    first = DaemonProcess(config, tmp_path / "daemon-1.log")
    second = DaemonProcess(config, tmp_path / "daemon-2.log")
    base = time.time() - 8 * 60  # the demo's first 8 minutes lie in the past
    batches = [(s, p) for s, p in demo_batches(base) if s <= 8 * 60]
    published = frozenset(
        (RULE_DEVICE, t) for _, payload in batches for t in json.loads(payload)["t_s"]
    )
    sent = 0
    with stopped_at_exit(first, second):
        async with aiomqtt.Client("127.0.0.1", broker.port) as client:
            first.start()
            await first.ready()
            for scenario_s, payload in batches:
                await client.publish(topic, payload, qos=1)
                sent += 1
                if scenario_s >= 240 and sent % 10 == 0:  # in the stress episode
                    await asyncio.sleep(0.5)  # let the engine catch up: kill soon after
                    if triggers_of(session):
                        break
            await eventually(
                lambda: bool(triggers_of(session)), timeout_s=60, what="a trigger", alive=first
            )
            (fired_t_s,) = triggers_of(session)
            await asyncio.sleep(3.0)  # the state is saved after every trigger, off the engine
            first.kill()
            for _, payload in batches[sent:]:
                await client.publish(topic, payload, qos=1)
            second.start()
            restarted_at = time.monotonic()
            await eventually(
                lambda: published <= set(stored_beats(session)),
                timeout_s=RECOVERY_LIMIT_S * 2,
                what="every beat stored",
                alive=second,
            )
            recovery_s = time.monotonic() - restarted_at
            await asyncio.sleep(3.0)
            code, _ = await second.sigterm()

    fired = triggers_of(session)
    rows = [row for row in stored_beats(session) if row[0] == RULE_DEVICE]
    stress_left_s = 420 - (fired_t_s - base)
    report(
        "daemon SIGKILL + restart after a trigger, stress going on",
        injected=1,
        lost=f"{len(published - set(rows))}/{len(published)} beats; rule state kept: "
        f"{len(fired)} trigger(s) with {stress_left_s:.0f} s of stress after the first",
        recovery=f"{recovery_s:.1f} s (restart to the backlog stored)",
    )
    assert code == 0, second.tail()
    assert published <= set(rows)
    assert stress_left_s > 60, "the kill should come well before the stress episode ends"
    assert [t for t in fired if fired_t_s < t < fired_t_s + MIN_GAP_S] == [], fired
