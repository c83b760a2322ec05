"""The daemon's supervisor: outputs and sources fail alone; shutdown drains, flushes, persists."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from hrv import BeatBatch, StreamEngine, WindowMetrics, sliding_windows
from recommender import Evaluator, Outcome, Trigger, default_config
from vagus.baseline_store import BaselineStore
from vagus.daemon import Daemon, DeviceStatus, Inbox
from vagus.errors import UserError


class Recorder:
    """An output that keeps what it is given; with ``fail_with`` its run raises that."""

    def __init__(self, name: str, fail_with: Exception | None = None) -> None:
        self.name = name
        self.fail_with = fail_with
        self.runs = 0
        self.beat_count = 0
        self.seen: list[WindowMetrics] = []
        self.fed = asyncio.Event()
        self.closed = asyncio.Event()

    def beats(self, batch: BeatBatch) -> None:
        self.beat_count += len(batch)
        self.fed.set()

    def windows(self, windows: Sequence[WindowMetrics]) -> None:
        self.seen.extend(windows)

    def trigger(self, trigger: Trigger) -> None:
        """Triggers are counted in the daemon's summary."""

    def outcome(self, outcome: Outcome) -> None:
        """Outcomes are counted in the daemon's summary."""

    def status(self, status: DeviceStatus) -> None:
        """Status is not recorded here."""

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


def _daemon(sources: dict[str, object], outputs: list[Recorder], tmp_path: Path) -> Daemon:
    return Daemon(
        sources=sources,  # type: ignore[arg-type]
        engine=StreamEngine(),
        evaluator=Evaluator(default_config()),
        outputs=outputs,
        baselines=BaselineStore(tmp_path / "baselines.json"),
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
    assert saved["rec"] == daemon.engine.baseline("rec")
