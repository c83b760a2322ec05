"""`vagus run` end to end: virtual straps, engine, rules, real Mosquitto and VictoriaMetrics.

The daemon's CSV session files are the ledger of what it computed; the
tests check that the broker and the store received exactly that.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

import aiomqtt
import numpy as np
import pytest

from simulators import load_scenario, simulate
from tests.servers import Mosquitto, VictoriaMetrics
from vagus.session import DeviceSession, read_session

pytestmark = [pytest.mark.integration, pytest.mark.slow]

HOUR = Path(__file__).parents[1] / "data" / "scenarios" / "hour.toml"
DEVICES = 3


def _config(tmp_path: Path, mosquitto: Mosquitto, vm: VictoriaMetrics, speed: float) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""state_dir = "{tmp_path / "state"}"
[sources.simulated]
devices = {DEVICES}
scenario = "{HOUR}"
speed = {speed}
[mqtt]
host = "127.0.0.1"
port = {mosquitto.port}
client_id = "vagus-e2e-{tmp_path.name}"
prefix = "e2e-{tmp_path.name}"
[influx]
url = "{vm.url}"
org = "vagus"
bucket = "vagus"
flush_interval_s = 0.2
[files]
dir = "{tmp_path / "session"}"
[console]
enabled = false
"""
    )
    return path


async def _run_daemon(
    config: Path, mosquitto: Mosquitto, prefix: str, *, sigterm_after_s: float | None
) -> tuple[int, list[dict[str, object]], float]:
    """Run `vagus run`; return its exit code, the triggers received, and its shutdown seconds."""
    received: list[dict[str, object]] = []
    async with aiomqtt.Client("127.0.0.1", mosquitto.port) as sub:
        await sub.subscribe(f"{prefix}/+/trigger", qos=1)
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "vagus.cli",
            "run",
            "--config",
            str(config),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )

        async def collect() -> None:
            async for message in sub.messages:
                received.append(json.loads(bytes(message.payload)))  # type: ignore[arg-type]

        collector = asyncio.create_task(collect())
        shutdown_s = 0.0
        if sigterm_after_s is not None:
            await asyncio.sleep(sigterm_after_s)
            loop = asyncio.get_running_loop()
            sent = loop.time()
            proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(proc.wait(), timeout=10)
            shutdown_s = loop.time() - sent
        else:
            await asyncio.wait_for(proc.wait(), timeout=240)
        await asyncio.sleep(1.0)  # let the last QoS 1 messages arrive
        collector.cancel()
        stderr = (await proc.stderr.read()).decode() if proc.stderr else ""
    assert proc.returncode == 0, stderr
    return proc.returncode, received, shutdown_s


def _stored_counts(vm: VictoriaMetrics, metric: str) -> dict[str, int]:
    series = vm.export(f'{{__name__="{metric}"}}')
    counts: dict[str, int] = {}
    for s in series:
        device = s["metric"]["device"]  # type: ignore[index]
        counts[device] = counts.get(device, 0) + len(s["values"])  # type: ignore[arg-type]
    return counts


def _check_store(session: tuple[DeviceSession, ...], vm: VictoriaMetrics) -> None:
    beats = _stored_counts(vm, "beats_gap")
    windows = _stored_counts(vm, "hrv_n_beats")
    for dev in session:
        assert beats.get(dev.device) == len(dev.beats), dev.device
        assert windows.get(dev.device) == len(dev.windows), dev.device


async def test_sped_up_hour_three_devices(
    tmp_path: Path, mosquitto: Mosquitto, victoria_metrics: VictoriaMetrics
) -> None:
    """Every stress episode of every device yields a trigger on MQTT within 2 minutes of onset,
    none in calm stretches, and every beat and window reaches the store."""
    victoria_metrics.delete_all()
    config = _config(tmp_path, mosquitto, victoria_metrics, speed=90)
    _, received, _ = await _run_daemon(
        config, mosquitto, f"e2e-{tmp_path.name}", sigterm_after_s=None
    )
    session = read_session(tmp_path / "session")
    assert sorted(d.device for d in session) == [f"e2e-{i}" for i in range(1, DEVICES + 1)]
    scenario = load_scenario(HOUR)
    for i, dev in enumerate(session):
        truth = simulate(scenario, seed=scenario.seed + i)
        # The epoch of scenario time 0: the first stored beat is simulated beat 0 (within 50 ms).
        start = dev.beats.t_s[0] - truth.t_s[0]
        labels = truth.segments
        episodes = [
            (labels.onset_s[k], labels.end_s[k])
            for k in range(len(labels))
            if labels.state[k] == "stress"
        ]
        fired = np.array([t.t_s - start for t in dev.triggers])
        for onset, _end in episodes:
            assert np.any((fired >= onset) & (fired <= onset + 120)), (dev.device, onset, fired)
        in_episode = np.zeros(fired.size, dtype=bool)
        for onset, end in episodes:
            in_episode |= (fired >= onset) & (fired <= end + 60)
        assert in_episode.all(), (dev.device, fired)
    sent_ids = {t.id for dev in session for t in dev.triggers}
    assert {m["id"] for m in received} == sent_ids
    _check_store(session, victoria_metrics)


async def test_sigterm_exits_cleanly_and_loses_nothing(
    tmp_path: Path, mosquitto: Mosquitto, victoria_metrics: VictoriaMetrics
) -> None:
    """SIGTERM mid-session: exit 0 within 5 s, and the store holds every beat and window
    the daemon computed before it stopped."""
    victoria_metrics.delete_all()
    config = _config(tmp_path, mosquitto, victoria_metrics, speed=60)
    code, _, shutdown_s = await _run_daemon(
        config, mosquitto, f"e2e-{tmp_path.name}", sigterm_after_s=12
    )
    assert code == 0
    assert shutdown_s < 5.0
    session = read_session(tmp_path / "session")
    assert all(len(dev.beats) > 100 for dev in session)
    _check_store(session, victoria_metrics)
