"""Scenario straps on the fake BlueZ, seen through unpatched bleak and the ingest decoder."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from bleak import BleakClient

from ingest.hrm import decode
from simulators.bluez import (
    HEART_RATE_MEASUREMENT,
    FakeBluez,
    run_straps,
    scenario_straps,
    strap_address,
)
from simulators.scenario import parse_scenario

pytestmark = [pytest.mark.bluez, pytest.mark.integration]

# 20 s calm, 6 s out of range, 14 s calm: played at 20x in 2 s.
SCENARIO = """
name = "link-loss"
seed = 7
speed = 20.0
[[segments]]
state = "calm"
duration_s = 20
[[segments]]
state = "disconnect"
duration_s = 6
[[segments]]
state = "calm"
duration_s = 14
"""


async def test_scenario_strap_streams_decodable_beats_through_a_link_loss(
    bleak_bus: str,
) -> None:
    """bleak receives the wearable's payloads byte-exact, loses the link in the disconnect
    segment, reconnects after it and receives the rest; every payload decodes with RR."""
    (strap,) = scenario_straps(parse_scenario(SCENARIO, file="link-loss"), count=1)
    received: list[bytes] = []
    lost = asyncio.Event()
    ready = asyncio.Event()

    async def central() -> None:
        await ready.wait()
        client = BleakClient(
            strap.peripheral.address, timeout=5, disconnected_callback=lambda _c: lost.set()
        )
        await client.connect()
        await client.start_notify(HEART_RATE_MEASUREMENT, lambda _c, d: received.append(bytes(d)))
        await asyncio.wait_for(lost.wait(), 5)
        await client.disconnect()
        while True:  # retry until the strap is back in range, as the ingest adapter does
            try:
                await client.connect()
                break
            except Exception:
                await asyncio.sleep(0.05)
        after = asyncio.Event()

        def on_data(_c: object, data: bytearray) -> None:
            received.append(bytes(data))
            after.set()

        await client.start_notify(HEART_RATE_MEASUREMENT, on_data)
        await after.wait()
        await client.disconnect()  # before the trace ends and the fake closes

    def on_ready(_bluez: FakeBluez) -> None:
        ready.set()

    async with asyncio.timeout(15):
        await asyncio.gather(run_straps(bleak_bus, [strap], on_ready=on_ready), central())

    sent = list(strap.trace.payload)
    assert lost.is_set()
    assert strap.peripheral.notifications_sent == len(received)
    assert strap.peripheral.notifications_sent + strap.peripheral.notifications_lost == len(sent)
    # What arrived is the trace's bytes in order: a run before the link loss, one after it.
    first = sent.index(received[0])
    before = len(received) - 1
    assert received[:before] == sent[first : first + before]
    assert sent.index(received[-1]) > first + before
    assert strap.peripheral.notifications_lost > 0
    assert all(decode(p).hr_bpm > 0 for p in received)
    assert sum(len(decode(p).rr_ms) for p in received) > 10


def test_command_line_runner_serves_named_straps(bleak_bus: str, tmp_path: Path) -> None:
    """``python -m simulators.bluez`` prints one line per strap, then plays and exits 0."""
    scenario = tmp_path / "short.toml"
    scenario.write_text(SCENARIO.replace("speed = 20.0", "speed = 200.0"), encoding="utf-8")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "simulators.bluez",
            "--bus",
            bleak_bus,
            "--straps",
            "2",
            "--scenario",
            str(scenario),
        ],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"{strap_address(1)} sim-strap 1",
        f"{strap_address(2)} sim-strap 2",
    ]


def test_command_line_runner_rejects_an_unknown_scenario(bleak_bus: str) -> None:
    """An unknown scenario name is a one-line error and exit code 2."""
    done = subprocess.run(
        [sys.executable, "-m", "simulators.bluez", "--bus", bleak_bus, "--scenario", "nope"],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: nope: no such scenario")


def test_command_line_runner_holds_until_terminated(bleak_bus: str) -> None:
    """With ``--hold`` the runner serves until SIGTERM, then exits 0."""
    with subprocess.Popen(
        [sys.executable, "-m", "simulators.bluez", "--bus", bleak_bus, "--hold"],
        stdout=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline().split()[0] == strap_address(1)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
