"""`vagus run` with the BLE source: unpatched bleak, two virtual straps on a fake BlueZ.

The fake BlueZ runs in the test's event loop on the private system bus; the
daemon is a separate process whose bleak talks to it over D-Bus, exactly as
it would to bluetoothd. One strap's link is dropped midway.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import numpy as np
import pytest

from simulators import load_scenario
from simulators.bluez import FakeBluez, run_straps, scenario_straps
from tests.servers import SystemBus
from vagus.session import read_session

pytestmark = [pytest.mark.integration, pytest.mark.bluez, pytest.mark.slow]

SCENARIO = Path(__file__).parents[1] / "data" / "scenarios" / "ble.toml"
LINK_LOSS_AT_S = 45.0


async def test_run_with_two_ble_straps_survives_a_link_loss(
    tmp_path: Path, system_bus: SystemBus
) -> None:
    """From scan to triggers through unpatched bleak: both straps stream, the stress episode
    fires a suggestion for each, and the strap whose link drops reconnects and streams on."""
    scenario = load_scenario(SCENARIO)
    straps = scenario_straps(scenario, count=2)
    config = tmp_path / "config.toml"
    entries = "".join(
        f'[[sources.ble]]\naddress = "{s.peripheral.address}"\nlabel = "strap-{i}"\n'
        for i, s in enumerate(straps, 1)
    )
    config.write_text(
        f'state_dir = "{tmp_path / "state"}"\n{entries}'
        f"[engine]\nwindow_s = 30.0\nstep_s = 5.0\n"
        f'[files]\ndir = "{tmp_path / "session"}"\n[console]\nenabled = false\n'
    )
    ready = asyncio.Event()
    hosted: list[FakeBluez] = []

    def on_ready(bluez: FakeBluez) -> None:
        hosted.append(bluez)
        ready.set()

    fake = asyncio.create_task(run_straps(system_bus.address, straps, on_ready=on_ready))
    await asyncio.wait_for(ready.wait(), timeout=10)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "vagus.cli",
        "run",
        "--config",
        str(config),
        env={**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": system_bus.address},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await asyncio.sleep(LINK_LOSS_AT_S)
        assert straps[1].peripheral.link_loss(), "strap 2 was not connected at the link loss"
        await asyncio.wait_for(fake, timeout=scenario.duration_s + 30)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), timeout=10)
        fake.cancel()
    stderr = (await proc.stderr.read()).decode() if proc.stderr else ""
    assert proc.returncode == 0, stderr

    session = {d.device: d for d in read_session(tmp_path / "session")}
    assert sorted(session) == ["strap-1", "strap-2"]
    onset_s = float(scenario.segments[0].length_s)
    for name, dev in session.items():
        start = dev.beats.t_s[0]
        assert len(dev.beats) > 150, name
        fired = np.array([t.t_s for t in dev.triggers]) - start
        assert np.any((fired > onset_s) & (fired < onset_s + 120)), (name, fired)
    lost = session["strap-2"].beats
    gaps = np.flatnonzero(lost.gap[1:]) + 1
    assert gaps.size >= 1, "the link loss is not flagged as a gap"
    assert len(lost) - gaps[-1] > 60, "too few beats after the reconnect"
    assert not session["strap-1"].beats.gap[1:].any(), "the other strap was disturbed"
