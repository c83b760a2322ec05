"""InfluxWriter logic with an in-process `LineSender`: batching, outages, refusals, restarts.

The sender here is a stand-in for the HTTP edge that records batches and fails
on demand; the same behaviour against a real server is in test_victoria.py.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from vagus.influx import InfluxSettings, InfluxWriter, WriteError


class ScriptedSender:
    """Stores batches; raises ``failure`` while it is set."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.failure: WriteError | None = None
        self.attempts = 0
        self.closed = False
        self.delay_s = 0.0

    def fail(self, status: int | None) -> None:
        """Fail every write from now on as a server answering ``status`` would (None: no answer)."""
        self.failure = WriteError(status, "scripted failure")

    def send(self, lines: Sequence[str]) -> None:
        self.attempts += 1
        time.sleep(self.delay_s)  # runs in the writer's worker thread, like a slow server
        if self.failure is not None:
            raise self.failure
        self.batches.append(list(lines))

    def close(self) -> None:
        self.closed = True

    @property
    def lines(self) -> list[str]:
        return [line for batch in self.batches for line in batch]


def settings(tmp_path: Path, **changes: object) -> InfluxSettings:
    """Fast settings for unit tests: small batches, short flush interval and retry delays."""
    values: dict[str, object] = {
        "url": "http://127.0.0.1:9", "bucket": "vagus", "spool_dir": tmp_path / "spool",
        "batch_size": 3, "flush_interval_s": 0.05, "retry_initial_s": 0.02, "retry_max_s": 0.05,
    }  # fmt: skip
    return InfluxSettings.model_validate({**values, **changes})


async def until(check: Callable[[], bool], timeout_s: float = 5.0) -> None:
    """Wait until ``check()`` is true; fail after ``timeout_s``."""
    for _ in range(int(timeout_s / 0.01)):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"not reached within {timeout_s} s")


async def test_batches_by_size_then_by_interval(tmp_path: Path) -> None:
    """Full batches go at once; the remainder goes after the flush interval."""
    sender = ScriptedSender()
    writer = InfluxWriter(settings(tmp_path), sender=sender)
    task = asyncio.create_task(writer.run())
    writer.put_lines([f"m v={i} {i}" for i in range(7)])
    await until(lambda: len(sender.lines) == 7)
    assert [len(b) for b in sender.batches] == [3, 3, 1]
    writer.stop()
    await task
    assert sender.closed
    assert writer.stats.points_sent == 7


async def test_outage_spools_then_writes_back_in_order(tmp_path: Path) -> None:
    """During failures (no answer, then 503) points go to the spool; afterwards all arrive once,
    in order."""
    sender = ScriptedSender()
    writer = InfluxWriter(settings(tmp_path), sender=sender)
    task = asyncio.create_task(writer.run())
    sent = [f"m v={i} {i}" for i in range(40)]
    writer.put_lines(sent[:5])
    await until(lambda: len(sender.lines) == 5)
    sender.fail(None)
    for i in range(5, 25):
        writer.put_lines([sent[i]])
        await asyncio.sleep(0.005)
    sender.fail(503)
    writer.put_lines(sent[25:30])
    await until(lambda: writer.stats.failed_writes >= 4)
    assert not writer.spool.empty
    sender.failure = None
    writer.put_lines(sent[30:])
    await until(lambda: len(sender.lines) == 40)
    assert sender.lines == sent
    assert writer.spool.empty
    writer.stop()
    await task
    assert writer.stats.points_spooled >= 20  # at least everything put while it had no answer


async def test_refused_points_are_dead_lettered(tmp_path: Path) -> None:
    """A 400 is not retried: the batch goes to deadletter.lp, later batches are written."""
    sender = ScriptedSender()
    writer = InfluxWriter(settings(tmp_path), sender=sender)
    task = asyncio.create_task(writer.run())
    sender.fail(400)
    writer.put_lines(["bad 1", "bad 2", "bad 3"])
    await until(lambda: writer.stats.points_dead_lettered == 3)
    sender.failure = None
    writer.put_lines(["m v=1 1"])
    await until(lambda: sender.lines == ["m v=1 1"])
    writer.stop()
    await task
    dead = (tmp_path / "spool" / "deadletter.lp").read_text().splitlines()
    assert dead == ["# status=400 scripted failure", "bad 1", "bad 2", "bad 3"]
    assert sender.attempts == 2


async def test_cancel_spools_pending_and_restart_resumes(tmp_path: Path) -> None:
    """Cancelling the task mid-outage keeps every point on disk; a new writer sends them."""
    sender = ScriptedSender()
    sender.fail(None)
    writer = InfluxWriter(settings(tmp_path, flush_interval_s=60.0, batch_size=100), sender=sender)
    task = asyncio.create_task(writer.run())
    writer.put_lines([f"m v={i} {i}" for i in range(10)])
    await asyncio.sleep(0.05)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert task.cancelled()
    assert sender.lines == []
    revived = ScriptedSender()
    restarted = InfluxWriter(settings(tmp_path), sender=revived)
    task = asyncio.create_task(restarted.run())
    await until(lambda: len(revived.lines) == 10)
    restarted.stop()
    await task
    assert revived.lines == [f"m v={i} {i}" for i in range(10)]


async def test_cancel_during_a_write_spools_that_batch(tmp_path: Path) -> None:
    """A batch whose write is under way when the task is cancelled is kept in the spool."""
    slow = ScriptedSender()
    slow.delay_s = 0.5
    writer = InfluxWriter(settings(tmp_path), sender=slow)
    task = asyncio.create_task(writer.run())
    writer.put_lines(["m v=1 1", "m v=2 2", "m v=3 3"])
    await until(lambda: slow.attempts == 1)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    chunk = writer.spool.peek(10)
    assert chunk is not None
    assert chunk.lines == ["m v=1 1", "m v=2 2", "m v=3 3"]


async def test_full_queue_overflows_to_the_spool(tmp_path: Path) -> None:
    """With the queue full, inputs go to the spool (counted), and still reach storage."""
    sender = ScriptedSender()
    writer = InfluxWriter(settings(tmp_path, queue_size=2), sender=sender)
    for i in range(6):
        writer.put_lines([f"m v={i} {i}"])
    assert writer.stats.overflows == 4
    task = asyncio.create_task(writer.run())
    await until(lambda: len(sender.lines) == 6)
    writer.stop()
    await task
    assert sorted(sender.lines) == [f"m v={i} {i}" for i in range(6)]
