"""The daemon's supervisor: outputs and sources fail alone; shutdown drains, flushes, persists."""

from __future__ import annotations

import asyncio
import errno
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from hrv import BeatBatch, StreamEngine, WindowMetrics, sliding_windows
from recommender import FeedbackResult, Outcome, Trigger, default_config
from tests.pipeline.strategies import NOW_S, demo_beats
from vagus.baseline_store import BaselineStore
from vagus.daemon import Daemon, Inbox, Watchdog
from vagus.errors import UserError
from vagus.events import DeviceStatus
from vagus.pipeline import Pipeline


class Recorder:
    """An output that keeps what it is given; with ``fail_with`` its run raises that, with
    ``deliver_fails`` its feeding raises that (as a full disk would)."""

    blocking = False

    def __init__(
        self,
        name: str,
        fail_with: Exception | None = None,
        deliver_fails: Exception | None = None,
    ) -> None:
        self.name = name
        self.fail_with = fail_with
        self.deliver_fails = deliver_fails
        self.runs = 0
        self.beat_count = 0
        self.seen: list[WindowMetrics] = []
        self.fed = asyncio.Event()
        self.closed = asyncio.Event()

    def beats(self, batch: BeatBatch) -> None:
        self.fed.set()
        if self.deliver_fails is not None:
            raise self.deliver_fails
        self.beat_count += len(batch)

    def windows(self, windows: Sequence[WindowMetrics]) -> None:
        self.seen.extend(windows)

    def trigger(self, trigger: Trigger) -> None:
        """Triggers are counted in the daemon's summary."""

    def outcome(self, outcome: Outcome) -> None:
        """Outcomes are counted in the daemon's summary."""

    def status(self, status: DeviceStatus) -> None:
        """Status is not recorded here."""

    def feedback(self, result: FeedbackResult) -> None:
        """Feedback results are not recorded here."""

    async def run(self) -> None:
        self.runs += 1
        if self.fail_with is not None:
            raise self.fail_with
        await self.closed.wait()

    async def close(self) -> None:
        self.closed.set()


def _recording(data_dir: Path) -> BeatBatch:
    rr = np.loadtxt(data_dir / "pyhrv_short_5min.csv", skiprows=1)
    return BeatBatch(device="rec", t_s=np.cumsum(rr) / 1000.0, rr_ms=rr)


def _daemon(
    sources: dict[str, object],
    outputs: list[Recorder],
    tmp_path: Path,
    watchdog: Watchdog | None = None,
) -> Daemon:
    return Daemon(
        sources=sources,  # type: ignore[arg-type]
        pipeline=Pipeline(engine=StreamEngine(), rules=default_config()),
        outputs=outputs,
        state=BaselineStore(tmp_path / "baselines.json"),
        watchdog=watchdog,
    )


async def test_failing_outputs_do_not_stop_ingestion(data_dir: Path, tmp_path: Path) -> None:
    """A crashing output and one refused for good (UserError) leave the others fed with every
    beat and window; the refused one is switched off rather than retried."""
    batch = _recording(data_dir)

    async def source(inbox: Inbox, stopping: asyncio.Event) -> None:
        for start in range(0, len(batch), 50):  # notifications' worth of beats at a time
            part = slice(start, start + 50)
            await inbox.put(BeatBatch(device="rec", t_s=batch.t_s[part], rr_ms=batch.rr_ms[part]))

    good = Recorder("good")
    crashing = Recorder("crashing", RuntimeError("disk on fire"))
    refused = Recorder("refused", UserError("broker refused the login"))
    summary = await _daemon({"rec": source}, [good, crashing, refused], tmp_path).run()

    expected = sliding_windows(batch.rr_ms, t_s=batch.t_s)
    assert good.beat_count == len(batch)
    assert [w.t_end_s for w in good.seen] == expected.t_end_s.tolist()
    assert [w.rmssd_ms for w in good.seen] == expected.rmssd_ms.tolist()
    assert summary.output_failures == {"crashing": 1, "refused": 1}
    assert refused.runs == 1
    assert good.closed.is_set()
    assert (tmp_path / "baselines.json").exists()


async def test_a_failing_source_ends_alone(data_dir: Path, tmp_path: Path) -> None:
    """One source raising leaves the other's beats flowing; the failure is in the summary."""
    batch = _recording(data_dir)

    async def broken(inbox: Inbox, stopping: asyncio.Event) -> None:
        raise OSError("adapter vanished")

    async def fine(inbox: Inbox, stopping: asyncio.Event) -> None:
        await inbox.put(batch)

    out = Recorder("out")
    summary = await _daemon({"broken": broken, "fine": fine}, [out], tmp_path).run()
    assert summary.source_failures == {"broken": "adapter vanished"}
    assert out.beat_count == len(batch)
    assert summary.windows == len(sliding_windows(batch.rr_ms, t_s=batch.t_s))


async def test_stop_asks_sources_to_stop_and_restores_baselines(
    data_dir: Path, tmp_path: Path
) -> None:
    """`stop` sets the sources' stopping event (they end cleanly), and the baselines saved at
    shutdown are what a new daemon starts from."""
    batch = _recording(data_dir)
    stopped_cleanly = asyncio.Event()

    async def endless(inbox: Inbox, stopping: asyncio.Event) -> None:
        await inbox.put(batch)
        await stopping.wait()
        stopped_cleanly.set()

    out = Recorder("out")
    daemon = _daemon({"rec": endless}, [out], tmp_path)
    running = asyncio.create_task(daemon.run())
    await asyncio.wait_for(out.fed.wait(), timeout=5)
    daemon.stop()
    await asyncio.wait_for(running, timeout=5)
    assert stopped_cleanly.is_set()
    saved = BaselineStore(tmp_path / "baselines.json").load()
    assert saved["rec"] == daemon.pipeline.engine.baseline("rec")


async def test_an_output_failing_to_deliver_stays_alone(
    data_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An output whose feeding raises (ENOSPC) on every batch is logged once with its cause;
    the other output gets every beat and window, and the daemon stops promptly."""
    batch = _recording(data_dir)

    async def source(inbox: Inbox, stopping: asyncio.Event) -> None:
        for start in range(0, len(batch), 25):
            part = slice(start, start + 25)
            await inbox.put(BeatBatch(device="rec", t_s=batch.t_s[part], rr_ms=batch.rr_ms[part]))

    good = Recorder("good")
    full = Recorder("full", deliver_fails=OSError(errno.ENOSPC, "No space left on device"))
    started = time.monotonic()
    summary = await asyncio.wait_for(_daemon({"rec": source}, [good, full], tmp_path).run(), 10)
    assert time.monotonic() - started < 6
    assert good.beat_count == len(batch)
    assert len(good.seen) == len(sliding_windows(batch.rr_ms, t_s=batch.t_s))
    failed = [r for r in caplog.records if "output full failed" in r.getMessage()]
    assert len(failed) == 1
    assert "No space left on device" in failed[0].getMessage()
    assert summary.outputs["full"].failures == {"OSError[ENOSPC]": summary.output_failures["full"]}
    assert summary.outputs["full"].dropped_beats > 0
    assert summary.outputs["good"].dropped_beats == 0


class Stubborn(Recorder):
    """An output whose background work swallows its cancellation (a library bug)."""

    stubborn = True

    async def run(self) -> None:
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                if not self.stubborn:
                    raise


async def test_an_output_ignoring_cancellation_does_not_hang_the_stop(
    data_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A task that swallows CancelledError is abandoned with an error line: stop still ends."""
    batch = _recording(data_dir)

    async def endless(inbox: Inbox, stopping: asyncio.Event) -> None:
        await inbox.put(batch)
        await stopping.wait()

    stubborn = Stubborn("stubborn")
    daemon = _daemon({"rec": endless}, [stubborn], tmp_path)
    running = asyncio.create_task(daemon.run())
    await asyncio.wait_for(stubborn.fed.wait(), timeout=5)
    started = time.monotonic()
    daemon.stop()
    summary = await asyncio.wait_for(running, timeout=10)
    assert time.monotonic() - started < 6
    assert summary.beats == len(batch)
    assert any("ignored its cancellation" in r.getMessage() for r in caplog.records)
    stubborn.stubborn = False  # let the test's loop close
    for task in asyncio.all_tasks():
        if task.get_name() == "output[stubborn]":
            task.cancel()


async def test_watchdog_reports_a_stuck_pipeline(data_dir: Path, tmp_path: Path) -> None:
    """Events waiting while the engine makes no progress trip the watchdog (which, in the
    daemon, exits non-zero so systemd restarts it)."""
    batch = _recording(data_dir)
    stuck: list[str] = []
    watchdog = Watchdog(stall_s=0.3, period_s=0.05, on_stuck=stuck.append)

    async def source(inbox: Inbox, stopping: asyncio.Event) -> None:
        for start in range(0, len(batch), 10):
            part = slice(start, start + 10)
            await inbox.put(BeatBatch(device="rec", t_s=batch.t_s[part], rr_ms=batch.rr_ms[part]))
        time.sleep(1.0)  # noqa: ASYNC251 -- the loop hangs in a synchronous call on purpose

    await asyncio.wait_for(
        _daemon({"rec": source}, [Recorder("out")], tmp_path, watchdog).run(), 60
    )
    assert stuck
    assert "no progress" in stuck[0]


async def test_windows_go_out_before_the_rules_judge_them(tmp_path: Path) -> None:
    """A source filling the inbox with the demo's stress episode: its windows reach the output
    while their rules still wait (judged once the inbox is empty), and every window is judged
    in the end: the one suggestion a plain `Pipeline.feed` of the beats makes."""
    beats = demo_beats("busy")
    want = Pipeline(engine=StreamEngine(), rules=default_config()).feed(beats, now=NOW_S)
    assert len(want.triggers) == 1

    async def source(inbox: Inbox, stopping: asyncio.Event) -> None:
        for start in range(0, len(beats), 5):
            part = slice(start, start + 5)
            await inbox.put(BeatBatch(device="busy", t_s=beats.t_s[part], rr_ms=beats.rr_ms[part]))

    waiting: list[int] = []

    class Watching(Recorder):
        def windows(self, windows: Sequence[WindowMetrics]) -> None:
            waiting.append(daemon.pipeline.pending)
            super().windows(windows)

    out = Watching("out")
    daemon = _daemon({"busy": source}, [out], tmp_path)
    summary = await daemon.run()
    assert max(waiting) > 0
    assert daemon.pipeline.pending == 0
    assert [t.t_s for t in summary.triggers] == [t.t_s for t in want.triggers]
    assert len(out.seen) == len(want.windows)
