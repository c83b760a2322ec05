"""The state dir and the session-files dir full, then space coming back.

`vagus run` (a subprocess, configured as in the broker-kill case) plays the demo with three
virtual straps at 15x, publishing to a private Mosquitto and writing session files. Shortly
after it starts, the file system of one of its dirs (a size-capped tmpfs) is filled to the
last byte; the stress episode's triggers fire while it is full; then the filler is deleted.
A QoS 1 subscriber collects every trigger and outcome. Skipped where a tmpfs cannot be
mounted (not as root), except under CI=true.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from pathlib import Path

import pytest

from tests.app.test_daemon_faults import (
    DaemonProcess,
    eventually,
    fill,
    small_tmpfs,
    stopped_at_exit,
    watching_metrics,
)
from tests.faults._report import report
from tests.faults.test_01_broker_kill import (
    DEVICES,
    PREFIX,
    SPEED,
    resilient_subscriber,
    write_config,
)
from tests.servers import Mosquitto
from vagus.session import read_session

pytestmark = [pytest.mark.faults, pytest.mark.integration, pytest.mark.slow]

FULL_S = 26.0
"""How long the disk stays full: from about 2 s after the start until after the triggers."""
RECOVERY_LIMIT_S = 35.0
"""Space back to the failing output writing again: its retry backoff is capped at 30 s
(`vagus.daemon._feed.RETRY_CAP_S`)."""


@pytest.mark.parametrize("full", ["state_dir", "files_dir"])
async def test_a_full_dir_is_said_once_and_writing_resumes_when_space_returns(
    tmp_path: Path, private_mosquitto: Mosquitto, full: str
) -> None:
    """The ``full`` dir's file system (1 MiB tmpfs) filled 2 s after the start, emptied 26 s
    later: the daemon goes on (its metrics reach MQTT while the disk is full), each writer
    there (session files; or trigger journal and state file) says "No space left" once,
    the output writes there again within 35 s of space returning ("delivers again"), no
    trigger or outcome is lost (each reaches the
    subscriber and the session files; the beats and windows of the items that failed are
    dropped and counted), the other outputs lose nothing, it ends by itself with 0 (the
    state saved), and it starts again on the same state dir."""
    disk = tmp_path / "disk"
    with small_tmpfs(disk, size="1m"):
        dirs = {"state_dir": tmp_path / "state", "files_dir": tmp_path / "session"}
        dirs[full] = disk / full
        config = write_config(tmp_path, private_mosquitto.port, **dirs)
        daemon = DaemonProcess(config, tmp_path / "daemon.log")
        with stopped_at_exit(daemon):
            async with (
                resilient_subscriber(private_mosquitto.port, PREFIX) as received,
                watching_metrics(private_mosquitto.port, PREFIX) as metrics,
            ):
                await eventually(lambda: received.connects > 0, timeout_s=20, what="subscriber")
                daemon.start()
                await daemon.wait_for_log("mqtt connected to", timeout_s=60)
                await asyncio.sleep(2.0)
                filled = fill(disk)
                full_at = time.monotonic()
                await asyncio.sleep(FULL_S)
                windows_while_full = sum(
                    metrics.count(f"demo-strap-{n + 1}", since=full_at) for n in range(DEVICES)
                )
                said_before_free = [m for m in daemon.messages() if "No space left" in m]
                (disk / "filler").unlink()
                freed_at = time.time()
                output = "files" if full == "files_dir" else "mqtt"  # the journal is in state
                mark = f"output {output} delivers again"

                def recovered() -> float | None:
                    """Seconds from space back to the output's first success after it (it
                    may succeed now and then while full: appends into a page's slack)."""
                    for line in daemon.lines():
                        ts = float(line.get("ts", 0.0))
                        if mark in str(line.get("message", "")) and ts >= freed_at:
                            return ts - freed_at
                    return None

                with contextlib.suppress(pytest.fail.Exception):
                    await eventually(
                        lambda: recovered() is not None,
                        timeout_s=RECOVERY_LIMIT_S + 10,
                        what=mark,
                        alive=daemon,
                    )
                recovery_s = recovered()
                code = await asyncio.to_thread(daemon.proc.wait, 120)  # type: ignore[union-attr]
                session = read_session(dirs["files_dir"])
                sent = {t.id for dev in session for t in dev.triggers}
                judged = {o.trigger_id for dev in session for o in dev.outcomes}
                with contextlib.suppress(pytest.fail.Exception):
                    await eventually(
                        lambda: sent <= set(received.triggers) and judged <= set(received.outcomes),
                        timeout_s=20,
                        what="every trigger and outcome",
                    )
            again = DaemonProcess(config, tmp_path / "daemon-again.log")
            with stopped_at_exit(again):
                again.start()
                await again.wait_for_log("mqtt connected to", timeout_s=30)
                restart_code, _ = await again.sigterm()
        state_saved = (dirs["state_dir"] / "baselines.json").stat().st_size

    messages = daemon.messages()
    no_space = [m for m in messages if "No space left" in m]
    dropped = next((m for m in messages if m.startswith(f"output {output}:")), "")
    others_lost = [
        m for m in messages if m.startswith("output ") and "dropped" in m and output not in m
    ]
    counted = re.search(r"(\d+) windows and (\d+) beats dropped", dropped)
    windows_lost, beats_lost = (int(counted[1]), int(counted[2])) if counted else (0, 0)
    report(
        f"{full.replace('_', ' ')} full (1 MiB tmpfs, {FULL_S:g} s), 3 straps at 15x",
        injected=1,
        lost=f"{len(sent - set(received.triggers))}/{len(sent)} triggers, "
        f"{len(judged - set(received.outcomes))}/{len(judged)} outcomes; "
        + (
            f"{beats_lost} beats and {windows_lost} windows of the failed writes not in the "
            "session files"
            if output == "files"
            else f"{windows_lost} metrics messages of the failed deliveries not published"
        )
        + f" (counted); said once by each of {len(no_space)} writer(s)",
        recovery="never" if recovery_s is None else f"{recovery_s:.1f} s (space back to writing)",
    )
    assert filled > 0
    assert said_before_free, "the failure should be said while the disk is full"
    assert windows_while_full >= FULL_S * SPEED / 5 / 2  # metrics go on (a window per 5 s)
    assert len(no_space) == len({m.split(":")[0] for m in no_space}), no_space  # once each
    assert recovery_s is not None, daemon.tail()
    assert recovery_s < RECOVERY_LIMIT_S
    assert code == 0, daemon.tail()
    assert sent, "the demo should fire triggers"
    assert sent <= set(received.triggers)
    assert judged <= set(received.outcomes)
    assert restart_code == 0, again.tail()
    assert not others_lost, others_lost  # the outputs writing elsewhere lost nothing
    if full == "state_dir":
        assert state_saved > 0
