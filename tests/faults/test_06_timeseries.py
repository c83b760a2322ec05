"""The time-series server away: VictoriaMetrics stopped for 2 minutes, and with its disk full.

`vagus run` (a subprocess) plays simulated straps at high speed with the InfluxDB output
(v2 write API) pointed at a private VictoriaMetrics, and session files as the ledger of
what it computed. While the server is away (stopped; or refusing writes because its data
dir, a size-capped tmpfs, is full) the daemon spools what is not acknowledged and sends it
when the server is back. Afterwards every beat of the session files must be in the server
exactly once.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.app.test_daemon_faults import DaemonProcess, eventually, small_tmpfs, stopped_at_exit
from tests.faults._report import report
from tests.servers import VictoriaMetrics, require_binary
from vagus.influx.settings import InfluxSettings
from vagus.session import read_session

pytestmark = [pytest.mark.faults, pytest.mark.integration, pytest.mark.slow]

RECOVERY_LIMIT_S = 30.0
ONE_REQUEST = InfluxSettings.model_fields["batch_size"].default
"""Points in one write request: the most a refusal part-way into a request can duplicate."""
"""Server back to every beat computed before it stored: the writer's retry delay is capped
at 1 s in these configs, then the spool drains."""


@dataclass
class VictoriaOn(VictoriaMetrics):
    """VictoriaMetrics keeping its data in ``data_dir`` (its log stays in ``workdir``)."""

    data_dir: Path = field(default_factory=Path)
    min_free_bytes: int = 10_000_000

    def command(self) -> list[str]:
        return [
            *(a for a in super().command() if not a.startswith("-storageDataPath=")),
            f"-storageDataPath={self.data_dir}",
            f"-storage.minFreeDiskSpaceBytes={self.min_free_bytes}",
        ]


@pytest.fixture
def private_victoria(tmp_path: Path) -> Iterator[VictoriaOn]:
    """A VictoriaMetrics of the test's own, which the test stops and starts."""
    workdir = tmp_path / "victoria"
    workdir.mkdir()
    server = VictoriaOn(workdir, require_binary("victoria-metrics"), data_dir=workdir / "data")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def write_config(tmp_path: Path, url: str, *, scenario: str, speed: float, devices: int) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""state_dir = "{tmp_path / "state"}"
[sources.simulated]
devices = {devices}
scenario = "{scenario}"
speed = {speed}
[influx]
url = "{url}"
org = "vagus"
bucket = "vagus"
token = "unused"
flush_interval_s = 0.2
retry_initial_s = 0.2
retry_max_s = 1.0
timeout_s = 2.0
[files]
dir = "{tmp_path / "session"}"
[console]
enabled = false
[log]
level = "info"
"""
    )
    return path


def stored_beats(vm: VictoriaMetrics) -> dict[str, list[int]]:
    """Each device's stored beat timestamps (ms), in the server's order."""
    out: dict[str, list[int]] = {}
    for row in vm.export('{__name__="beats_rr_ms"}'):
        labels = row["metric"]
        stamps = row["timestamps"]
        assert isinstance(labels, dict)
        assert isinstance(stamps, list)
        out.setdefault(str(labels["device"]), []).extend(int(s) for s in stamps)
    return out


def ledger(session: Path, before_s: float = float("inf")) -> set[tuple[str, int]]:
    """(device, ms) of every beat in the session files (up to ``before_s``)."""
    return {
        (dev.device, round(t * 1e6) // 1000)
        for dev in read_session(session)
        for t in dev.beats.t_s.tolist()
        if t <= before_s
    }


def compare(vm: VictoriaMetrics, session: Path) -> tuple[int, int, int]:
    """(beats in the ledger, of them missing from the server, duplicates in the server)."""
    stored = stored_beats(vm)
    keys = {(dev, ms) for dev, stamps in stored.items() for ms in stamps}
    duplicates = sum(len(s) - len(set(s)) for s in stored.values())
    want = ledger(session)
    return len(want), len(want - keys), duplicates


async def run_with_outage(
    tmp_path: Path,
    vm: VictoriaOn,
    *,
    scenario: str,
    speed: float,
    up_s: float,
    away: tuple[object, object],
    away_s: float,
) -> tuple[DaemonProcess, float, int]:
    """Run the daemon; after ``up_s`` call ``away[0]()``, after ``away_s`` more
    ``away[1]()``; wait for the daemon's end. Returns it, the recovery time (server back to
    every beat computed before stored) and the beats computed while the server was away."""
    session = tmp_path / "session"
    config = write_config(tmp_path, vm.url, scenario=scenario, speed=speed, devices=2)
    daemon = DaemonProcess(config, tmp_path / "daemon.log")
    down, up = away
    with stopped_at_exit(daemon):
        daemon.start()
        await eventually(lambda: (session / "beats.csv").exists(), timeout_s=30, what="session")
        await asyncio.sleep(up_s)
        await asyncio.to_thread(down)  # type: ignore[arg-type]
        away_from = len(ledger(session))
        await asyncio.sleep(away_s)
        assert daemon.running, daemon.tail()
        await asyncio.to_thread(up)  # type: ignore[arg-type]
        back = time.monotonic()
        computed = ledger(session)
        during = len(computed) - away_from

        def caught_up() -> bool:
            stored = stored_beats(vm)
            keys = {(dev, ms) for dev, stamps in stored.items() for ms in stamps}
            return computed <= keys

        await eventually(
            caught_up, timeout_s=RECOVERY_LIMIT_S * 2, what="the spooled beats", alive=daemon
        )
        recovery_s = time.monotonic() - back
        code = await asyncio.to_thread(daemon.proc.wait, 300)  # type: ignore[union-attr]
        assert code == 0, daemon.tail()
    return daemon, recovery_s, during


OUTAGE_S = 40.0
"""Real seconds the server is stopped: 80 simulated minutes at 120x, the data two real
minutes would bring at 40x. Past the first retries (their delay is capped at
``retry_max_s``, 1 s here) each further second away only adds to the spool, so the spooled
volume, not the wall-clock length, is what this exercises; a real 2-minute outage of the
writer alone is `tests/storage/test_victoria.py` (marked slow)."""


async def test_server_stopped_mid_session(tmp_path: Path, private_victoria: VictoriaOn) -> None:
    """Two straps play two hours at 120x; VictoriaMetrics is stopped 10 s in and started
    again 40 s later (80 simulated minutes away): the daemon goes on, and within 30 s of the
    server's return every beat computed so far is stored; at the end every beat of the
    session files is stored exactly once."""
    vm = private_victoria
    daemon, recovery_s, during = await run_with_outage(
        tmp_path,
        vm,
        scenario="two_hours",
        speed=120.0,
        up_s=10.0,
        away=(vm.stop, vm.start),
        away_s=OUTAGE_S,
    )
    total, missing, duplicates = compare(vm, tmp_path / "session")
    report(
        f"time-series server (VictoriaMetrics) stopped {OUTAGE_S:g} s (80 simulated min), "
        "2 straps at 120x",
        injected=1,
        lost=f"{missing}/{total} beats ({during} computed while it was away, spooled), "
        f"{duplicates} duplicates",
        recovery=f"{recovery_s:.1f} s (server back to every beat so far stored)",
    )
    assert during > 0
    assert missing == 0
    assert duplicates == 0
    assert recovery_s < RECOVERY_LIMIT_S
    assert not [line for line in daemon.lines() if line.get("level") in ("critical", "?")]


LEAVE_FREE = 5_000_000
"""Bytes left free on the server's disk: below its 10 MB minimum, so it refuses writes
(read-only mode) while its own housekeeping still finds room."""


def fill_leaving(directory: Path, free_bytes: int) -> int:
    """Fill ``directory``'s file system but ``free_bytes``; the bytes written."""
    stat = os.statvfs(directory)
    size = max(stat.f_bavail * stat.f_frsize - free_bytes, 0)
    chunk = b"\0" * (1 << 20)
    with (directory / "filler").open("wb") as f:
        for start in range(0, size, len(chunk)):
            f.write(chunk[: min(len(chunk), size - start)])
    return size


async def test_server_disk_full_mid_session(tmp_path: Path) -> None:
    """VictoriaMetrics' data dir on a 64 MiB tmpfs; 8 s into the demo at 15x its disk is
    filled to 5 MB free (it refuses writes with 503, said once as a warning), 20 s later
    the filler is deleted: within 30 s every beat computed so far is stored, and at the end
    every beat at least once. Duplicates are bounded by one write request: VictoriaMetrics
    may store the first part of the request it turns read-only in and answer 503 to the
    whole, which the writer then resends (seen once: 351 points; InfluxDB overwrites such
    points, VictoriaMetrics merges them with ``-dedup.minScrapeInterval``, docs/storage.md)."""
    disk = tmp_path / "disk"
    with small_tmpfs(disk, size="64m"):
        workdir = tmp_path / "victoria"
        workdir.mkdir()
        vm = VictoriaOn(workdir, require_binary("victoria-metrics"), data_dir=disk / "data")
        vm.start()
        try:
            filled: list[int] = []
            daemon, recovery_s, during = await run_with_outage(
                tmp_path,
                vm,
                scenario="demo",
                speed=15.0,
                up_s=8.0,
                away=(
                    lambda: filled.append(fill_leaving(disk, LEAVE_FREE)),
                    lambda: (disk / "filler").unlink(),
                ),
                away_s=20.0,
            )
            total, missing, duplicates = compare(vm, tmp_path / "session")
            server_alive = vm.proc is not None and vm.proc.poll() is None
        finally:
            vm.stop()
    refused = [
        line
        for line in daemon.lines()
        if "InfluxDB write failed (503)" in str(line.get("message")) and line["level"] == "warning"
    ]
    report(
        "time-series server disk full (64 MiB tmpfs, 5 MB left: read-only) 20 s, 2 straps at 15x",
        injected=1,
        lost=f"{missing}/{total} beats ({during} computed while it refused, spooled), "
        f"{duplicates} duplicates (bound: one write request, {ONE_REQUEST})",
        recovery=f"{recovery_s:.1f} s (space back to every beat so far stored)",
    )
    assert filled[0] > 0
    assert server_alive
    assert during > 0
    assert missing == 0
    assert duplicates <= ONE_REQUEST
    assert recovery_s < RECOVERY_LIMIT_S
    assert len(refused) == 1, refused  # said once as a warning (then at info level)
