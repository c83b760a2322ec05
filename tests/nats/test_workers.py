"""W workers share one partitioned beats stream on a real nats-server (marker integration).

The fleet publishes ``<prefix>/<device>/beats`` over MQTT 3.1.1 (QoS 1) to
nats-server's MQTT listener; the server's partition mapping files each
device under one of 16 partitions; each worker is a ``vagus run`` process
with ``[sources.nats] worker = "i of W"``, writing its metrics and beats to
its own session files.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from nats.js.api import ConsumerInfo

from hrv import FloatArray
from tests.app.test_daemon_faults import DaemonProcess, stopped_at_exit
from tests.nats.support import (
    beats_of,
    checkpointed_last_beats,
    comparable,
    consumer_infos,
    fleet,
    metrics_of,
    publish_fleet,
    start_worker,
    stream_messages,
    wait_all_acked,
    worker_config,
)
from tests.servers import NatsServer
from vagus.pipeline import GAP_TOLERANCE_S

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DEVICES = 200
WORKERS = 4
RESUME_WITHIN_S = 45.0
"""A replacement worker consumes its partitions again within this time of its start: process
start and imports (10 s alone with the 2 shared cores at load 11), connect, restore."""


async def stop_all(workers: list[DaemonProcess]) -> None:
    results = await asyncio.gather(*(w.sigterm() for w in workers))
    for worker, (code, _) in zip(workers, results, strict=True):
        assert code == 0, worker.tail()


async def test_four_workers_split_the_fleet_and_equal_one(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    """Every device's windows come from exactly one of 4 workers and equal those of a
    single worker reading the same stream (5 minutes of a 200-device fleet)."""
    batches = fleet(DEVICES, until_s=300.0)
    solo_dir = tmp_path / "solo"
    worker_config(solo_dir, nats_server, prefix="eq", stream="EQ", consumer="solo", worker="1 of 1")
    quad_dirs = [tmp_path / f"w{i}" for i in range(1, WORKERS + 1)]
    for i, directory in enumerate(quad_dirs, start=1):
        worker_config(
            directory, nats_server, prefix="eq", stream="EQ", consumer="quad", worker=f"{i} of 4"
        )
    # The stream exists once a worker made it: the solo worker first, then the fleet.
    solo = start_worker(solo_dir)
    with stopped_at_exit(solo):
        await solo.wait_for_log("nats intake: consuming", timeout_s=60)
        stats = await publish_fleet(
            nats_server,
            batches,
            prefix="eq",
            speed=60.0,
            duration_s=5.0,
            start_t_s=time.time() - 330.0,
        )
        quad = [start_worker(d) for d in quad_dirs]
        with stopped_at_exit(*quad):
            await wait_all_acked(nats_server, "EQ", "solo", timeout_s=90)
            await wait_all_acked(nats_server, "EQ", "quad", timeout_s=90)
            await stop_all([solo, *quad])
    assert await stream_messages(nats_server, "EQ") == stats.messages

    single = metrics_of(solo_dir)
    assert len(single) == DEVICES
    owners: dict[str, int] = {}
    merged: dict[str, list[tuple[object, ...]]] = {}
    for i, directory in enumerate(quad_dirs, start=1):
        mine = metrics_of(directory)
        assert mine, f"worker {i} of 4 got no device"
        for device, windows in mine.items():
            assert device not in owners, f"{device} on workers {owners[device]} and {i}"
            owners[device] = i
            merged[device] = comparable(windows)
    assert merged == {device: comparable(windows) for device, windows in single.items()}
    assert sum(len(w) for w in single.values()) > DEVICES * 40  # ~49 windows of 60 s, step 5 s


async def test_replacement_worker_resumes_killed_partitions(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    """SIGKILL one of 4 workers mid-stream: a replacement for the same partitions (own, empty
    state dir) restores their devices from the checkpoints, consumes again within
    `RESUME_WITHIN_S`, takes the messages the killed one left unacked first, and no beat of
    the stream is lost."""
    batches = fleet(DEVICES, until_s=160.0)
    dirs = [tmp_path / f"w{i}" for i in range(1, WORKERS + 1)]
    for i, directory in enumerate(dirs, start=1):
        worker_config(
            directory,
            nats_server,
            prefix="kill",
            stream="KILL",
            consumer="kill",
            worker=f"{i} of 4",
        )
    replacement_dir = tmp_path / "w2-replacement"
    worker_config(
        replacement_dir, nats_server, prefix="kill", stream="KILL", consumer="kill", worker="2 of 4"
    )
    workers = [start_worker(d) for d in dirs]
    replacement = DaemonProcess(replacement_dir / "config.toml", replacement_dir / "worker.log")
    with stopped_at_exit(*workers, replacement):
        for worker in workers:
            await worker.wait_for_log("nats intake: consuming", timeout_s=60)
        # 160 s of beats in 20 s of wall time, ending now: never ahead of the workers' clocks.
        start_t_s = time.time() - 160.0
        publishing = asyncio.create_task(
            publish_fleet(
                nats_server,
                batches,
                prefix="kill",
                speed=8.0,
                duration_s=20.0,
                start_t_s=start_t_s,
            )
        )
        await asyncio.sleep(7.0)
        victim = workers[1]
        victim.kill()
        await asyncio.sleep(1.0)
        owned = range(4, 8)
        at_kill = await consumer_infos(nats_server, "KILL", "kill", owned)
        checkpointed = await checkpointed_last_beats(nats_server, "kill", owned)
        started = time.monotonic()
        replacement.start()
        resumed_s = await _resumed(nats_server, at_kill, started, timeout_s=RESUME_WITHIN_S)
        stats = await publishing
        await wait_all_acked(nats_server, "KILL", "kill", timeout_s=90)
        await stop_all([workers[0], workers[2], workers[3], replacement])
    print(f"replacement consumed its partitions {resumed_s:.1f} s after its start")
    assert await stream_messages(nats_server, "KILL") == stats.messages

    restored = _restored_devices(replacement)
    before = metrics_of(dirs[1])
    after = metrics_of(replacement_dir)
    assert restored == len(before) > 0  # every device of its partitions
    assert set(after) == set(before), replacement.tail()
    others = [set(metrics_of(d)) for i, d in enumerate(dirs) if i != 1]
    assert all(not (o & set(before)) for o in others)
    assert set().union(*others, before) == {b.device for b in batches}
    # No beat lost: every published beat of the killed worker's devices was written by it
    # or by its replacement, but for those it had taken and not yet written when killed
    # (its output queue) and the few the input guard drops (simulated artifacts).
    written = {d: b.t_s for d, b in beats_of(dirs[1]).items()}
    for device, batch in beats_of(replacement_dir).items():
        written[device] = np.concatenate([written.get(device, batch.t_s[:0]), batch.t_s])
    missing = {
        b.device: np.setdiff1d(_ms(b.t_s + start_t_s), _ms(written[b.device]))
        for b in batches
        if b.device in before
    }
    total = sum(len(b) for b in batches if b.device in before)
    print(
        f"its {len(before)} devices: {sum(map(len, missing.values()))} of {total} published "
        f"beats not written (at most {max(map(len, missing.values()))} for one device)"
    )
    assert max(map(len, missing.values())) <= 40
    # The replacement goes on from the checkpointed last beat of each device: its first
    # beat is later, and flagged as a gap when beats are missing before it (the guard's
    # rule: later than its own RR says, by more than GAP_TOLERANCE_S).
    assert set(checkpointed) == set(before)
    holes = 0
    for device, batch in beats_of(replacement_dir).items():
        step_s = batch.t_s[0] - checkpointed[device]
        assert step_s > 0, device
        hole = step_s > batch.rr_ms[0] / 1000.0 + GAP_TOLERANCE_S
        assert bool(batch.gap[0]) or not hole, device
        holes += hole
    print(f"{holes} of its devices resumed after a hole (gap flagged), the rest seamlessly")
    # What the killed worker left unacked came first to the replacement, in stream order.
    taken_again = [m for m in replacement.messages() if "taken again in stream order" in m]
    left_unacked = [p for p, info in at_kill.items() if info.num_ack_pending]
    assert [int(m.split()[3].rstrip(":")) for m in taken_again] == left_unacked


def _ms(t_s: FloatArray) -> npt.NDArray[np.int64]:
    """Beat times as whole milliseconds (the beats codec rounds to the millisecond)."""
    return np.rint(t_s * 1000.0).astype(np.int64)


async def _resumed(
    server: NatsServer, before: dict[int, ConsumerInfo], started: float, *, timeout_s: float
) -> float:
    """Seconds from ``started`` until every consumer of ``before`` delivered past its
    position then (the fleet keeps publishing into every partition)."""

    def delivered(info: ConsumerInfo) -> int:
        return 0 if info.delivered is None else int(info.delivered.stream_seq)

    while time.monotonic() - started < timeout_s:
        now = await consumer_infos(server, "KILL", "kill", list(before))
        if all(delivered(now[p]) > delivered(info) for p, info in before.items()):
            return time.monotonic() - started
        await asyncio.sleep(0.1)
    raise AssertionError(f"partitions {list(before)} not consumed within {timeout_s} s")


def _restored_devices(worker: DaemonProcess) -> int:
    for line in worker.lines():
        message = str(line.get("message", ""))
        if message.startswith("nats intake: restored "):
            return int(message.split()[3])
    raise AssertionError(f"no restore line:\n{worker.tail()}")
