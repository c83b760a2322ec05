"""One supervisor: sources -> inbox -> pipeline -> one queue and task per output.

Tasks are named: ``source[<name>]`` for each source, ``engine`` (the
pipeline), ``output[<name>]`` (an output's background work, restarted with
backoff when it fails), ``deliver[<name>]`` (an output's own queue,
`vagus.daemon._feed`), ``state`` (rule state and baselines saved after
every trigger and every `STATE_SAVE_S`, at most `SAVE_SHARE` of the time).
Only the engine task runs the pipeline; no disk work happens there.

The engine acknowledges a `Delivery` (an MQTT message) only after the
pipeline took it. It takes first and judges later (`Pipeline.take_many`, then
`Pipeline.judge`): each step's windows go to the outputs at once, and the
rules run on them, `JUDGE_CHUNK` windows at a time, once the inbox is empty
and no step has emitted windows for `JUDGE_QUIET_S`, or at once for the
windows beyond `UNJUDGED_PER_DEVICE` per device.
Windows end on one time grid for every device, so thousands of devices'
windows come due within a second or two; the rules' share of that burst
(about half of the pipeline's time) then runs in the quiet seconds after it
instead of holding the live metrics back. A `Watchdog` thread exits the process with
`WATCHDOG_EXIT_CODE` (so systemd restarts it) when the engine stops making
progress while work waits, or when a shutdown overruns its deadline.

Shutdown (`Daemon.stop`, or every source ending): sources get
`SOURCE_STOP_TIMEOUT_S` to stop cleanly, the engine drains the inbox and
flushes every device's last windows, state is saved, outputs get
`FLUSH_TIMEOUT_S` to deliver what they hold (then what they still hold is
persisted by them: MQTT journal, InfluxDB spool) and are cancelled; a task
that ignores its cancellation is abandoned with an error line, never
waited for.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from hrv import Baseline
from recommender import Outcome, Trigger
from vagus.baseline_store import BaselineStore
from vagus.daemon._feed import FeedCounters, Output, OutputFeed, count_failure, run_feed
from vagus.daemon._notices import NoticeLog
from vagus.daemon._sources import Inbox
from vagus.daemon._watchdog import Watchdog
from vagus.errors import UserError
from vagus.events import BeatColumns, Delivery, InboxItem
from vagus.pipeline import Emissions, Pipeline

log = logging.getLogger(__name__)

INBOX_SIZE = 1024
"""Events waiting for the pipeline; sources wait when it is full."""

SourceFactory = Callable[[Inbox, asyncio.Event], Coroutine[Any, Any, None]]
"""Runs one source: puts its events into the inbox until the event (stopping) is set."""

OUTPUT_RESTART_S = 5.0
"""Pause before restarting an output's background work that failed."""

SOURCE_STOP_TIMEOUT_S = 1.5
"""How long sources get to stop cleanly (disconnect, flush held beats) before cancellation."""

FLUSH_TIMEOUT_S = 2.5
"""How long outputs get at shutdown to deliver what they hold."""

DEVICE_FLUSH_S = 15.0
"""Longest the stop spends ending devices' recordings (emitting their last windows)."""

FLUSH_DEVICES = 100
"""Devices whose recordings end between two chances for other tasks to run."""

STATE_SAVE_S = 60.0
"""How often rule state and baselines are saved while running (and after triggers, at stop)."""

SAVE_QUIET_WAIT_S = 5.0
"""A save first waits up to this long for the rules to have judged every window: it then falls
between two bursts of windows (see `JUDGE_QUIET_S`), not inside one."""

SAVE_SHARE = 0.01
"""Most of the time saving state may take: after a save that took d s, the next (periodic or
after a trigger) waits d / SAVE_SHARE from its start. At 10,000 devices a save holds the
loop for about a second (the snapshot on the loop, then half a second of JSON encoding in a
thread that holds the GIL), so they come every few minutes instead of every minute and after
every trigger;
with a few devices a save takes milliseconds and nothing changes."""

JUDGE_QUIET_S = 0.25
"""The rules wait until no step has emitted windows for this long (the burst is over)."""

JUDGE_CHUNK = 100
"""Windows the rules judge between two chances for other tasks to run (about 7 ms)."""

UNJUDGED_PER_DEVICE = 2
"""Most windows per device (two steps) that may wait for the rules while work keeps coming in;
the rules judge the excess at once, so their lag stays bounded under a sustained overload."""

STEP_MESSAGES = 1024
"""Most source messages the pipeline takes in one step (`Pipeline.take_many`; an MQTT intake
item holds many, any other item counts as one); the engine lets other tasks run after each
step. Every task's turn (the metrics' way out takes several) waits for the step running, so
steps are kept to tens of milliseconds."""


@dataclass(slots=True)
class Summary:
    """What a daemon run did, for the closing lines and the tests."""

    beats: int = 0
    windows: int = 0
    valid_windows: int = 0
    triggers: list[Trigger] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    dropped: dict[str, dict[str, int]] = field(default_factory=dict)
    quarantines: int = 0
    outputs: dict[str, FeedCounters] = field(default_factory=dict)
    output_failures: dict[str, int] = field(default_factory=dict)
    source_failures: dict[str, str] = field(default_factory=dict)


class Daemon:
    """Runs named sources into the pipeline and fans its emissions out to outputs."""

    def __init__(
        self,
        *,
        sources: dict[str, SourceFactory],
        pipeline: Pipeline,
        outputs: Sequence[Output],
        state: BaselineStore | None = None,
        clock: Callable[[], float] = time.time,
        watchdog: Watchdog | None = None,
    ) -> None:
        self.sources = sources
        self.pipeline = pipeline
        self.outputs = list(outputs)
        self.state = state
        self.summary = Summary()
        self.inbox: Inbox = asyncio.Queue(INBOX_SIZE)
        self.feeds = {output.name: OutputFeed() for output in self.outputs}
        self.notices = NoticeLog(log)
        self._clock = clock
        self._watchdog = watchdog or Watchdog()
        self._stop = asyncio.Event()
        self._stopping_sources = asyncio.Event()
        self._save_now = asyncio.Event()
        self._judged = asyncio.Event()  # every window taken is judged (set by the engine)
        self._judged.set()

    def stop(self) -> None:
        """Begin a clean shutdown (safe to call from a signal handler)."""
        self._stop.set()
        self._watchdog.stopping()

    async def run(self) -> Summary:
        """Run until `stop` or until every source has ended; returns the summary."""
        loop = asyncio.get_running_loop()
        background = [
            loop.create_task(self._keep_running(output), name=f"output[{output.name}]")
            for output in self.outputs
        ]
        delivering = [
            loop.create_task(run_feed(output, self.feeds[output.name]), name=f"deliver[{name}]")
            for name, output in ((o.name, o) for o in self.outputs)
        ]
        self._watchdog.start(pending=self.inbox.qsize)
        try:
            async with asyncio.TaskGroup() as group:
                engine = group.create_task(self._engine_loop(), name="engine")
                saver = group.create_task(self._save_state_loop(), name="state")
                sources = group.create_task(self._run_sources(), name="sources")
                stopper = group.create_task(self._stop.wait(), name="stop")
                await asyncio.wait([sources, stopper], return_when=asyncio.FIRST_COMPLETED)
                self._watchdog.stopping()
                stopper.cancel()
                self._stopping_sources.set()
                await asyncio.wait([sources], timeout=SOURCE_STOP_TIMEOUT_S)
                sources.cancel()
                await asyncio.wait([sources, stopper])
                await self.inbox.put(None)
                await asyncio.wait([engine])
                saver.cancel()
            await self._flush_devices()
            await asyncio.to_thread(self._save_state, self._snapshot())
            await self._close_outputs(delivering, background)
        finally:
            self._watchdog.finish()
        self._summarize()
        return self.summary

    async def _run_sources(self) -> None:
        async with asyncio.TaskGroup() as group:
            for name, factory in self.sources.items():
                group.create_task(self._source(name, factory), name=f"source[{name}]")

    async def _source(self, name: str, factory: SourceFactory) -> None:
        """Run one source; its failure ends it (logged, summarized), not the daemon."""
        try:
            await factory(self.inbox, self._stopping_sources)
        except Exception as exc:  # one source's failure must not stop the others
            reason = "; ".join(_leaf_messages(exc))
            log.error(
                "source %s stopped: %s", name, reason, exc_info=log.isEnabledFor(logging.DEBUG)
            )
            self.summary.source_failures[name] = reason

    async def _keep_running(self, output: Output) -> None:
        """Run an output's background work; restart it after a pause whenever it fails.

        A `UserError` (e.g. the broker refuses the login) would fail again
        the same way: the output is switched off with one error line instead.
        """
        while True:
            try:
                await output.run()
                return
            except UserError as exc:
                self.summary.output_failures[output.name] = 1
                log.error("output %s switched off: %s", output.name, exc)
                return
            except Exception as exc:  # an output's failure must not stop ingestion
                failures = self.summary.output_failures
                failures[output.name] = failures.get(output.name, 0) + 1
                log.error(
                    "output %s failed: %s; restarting in %.0f s", output.name, exc, OUTPUT_RESTART_S
                )
                await asyncio.sleep(OUTPUT_RESTART_S)

    async def _engine_loop(self) -> None:
        """Take what the inbox holds into the pipeline, in steps; ack each step's deliveries
        after it; judge the windows once the inbox is empty and the burst is over, or beyond
        the bound (see the module docstring); never raises for input."""
        pipeline, loop = self.pipeline, asyncio.get_running_loop()
        windows_at = -math.inf  # when a step last emitted windows
        while True:
            if pipeline.pending and self.inbox.empty():
                wait_s = windows_at + JUDGE_QUIET_S - loop.time()
                if wait_s <= 0:
                    self._send(pipeline.judge(JUDGE_CHUNK))
                    if not pipeline.pending:
                        self._judged.set()
                    self._watchdog.progress()
                    await asyncio.sleep(0)
                    continue
                try:
                    async with asyncio.timeout(wait_s):
                        items = [await self.inbox.get()]
                except TimeoutError:
                    continue
            else:
                items = [await self.inbox.get()]
            size = _messages(items[0])
            while items[-1] is not None and size < STEP_MESSAGES:
                try:
                    items.append(self.inbox.get_nowait())
                except asyncio.QueueEmpty:
                    break
                size += _messages(items[-1])
            ending = items[-1] is None
            taken = [item for item in items if item is not None]
            events = [item.event if isinstance(item, Delivery) else item for item in taken]
            took = pipeline.take_many(events, now=self._clock())
            if took.windows:
                windows_at = loop.time()
                self._judged.clear()
            self._send(took)
            for item in taken:
                if isinstance(item, Delivery):
                    try:
                        item.ack()
                    except Exception as exc:  # a lost ack means a redelivery, which the guard drops
                        log.warning("could not acknowledge a message: %s", exc)
            excess = pipeline.pending - UNJUDGED_PER_DEVICE * len(pipeline.devices)
            if ending or excess > 0:
                self._send(pipeline.judge(None if ending else excess))
            self._watchdog.progress()
            if ending:
                return
            await asyncio.sleep(0)

    async def _flush_devices(self) -> None:
        """End every device's recording, `FLUSH_DEVICES` at a time (the loop runs between),
        for at most `DEVICE_FLUSH_S` (about 4 ms a device here: thousands of devices would
        overrun the watchdog's stop deadline); the devices left lose their last windows, and
        a line says how many. What they emit goes to the outputs at the end, as one item."""
        devices = self.pipeline.devices
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DEVICE_FLUSH_S
        out = Emissions()
        for start in range(0, len(devices), FLUSH_DEVICES):
            if loop.time() > deadline:
                log.warning(
                    "stopping: %d of %d devices not flushed within %.0f s; their last windows "
                    "are not emitted",
                    len(devices) - start,
                    len(devices),
                    DEVICE_FLUSH_S,
                )
                break
            out.extend(self.pipeline.flush(devices[start : start + FLUSH_DEVICES]))
            self._watchdog.progress()
            await asyncio.sleep(0)
        self._send(out)

    def _send(self, emissions: Emissions) -> None:
        """Count and log the notices; queue the rest for every output."""
        for notice in emissions.notices:
            self.notices.add(notice)
        emissions.notices = []
        if emissions.triggers:
            self.summary.triggers += emissions.triggers
            self._save_now.set()
        self.summary.outcomes += emissions.outcomes
        if not emissions:
            return
        devices = len(self.pipeline.devices)
        for feed in self.feeds.values():
            feed.size_for(devices)
            feed.put(emissions)

    def _snapshot(self) -> tuple[dict[str, Baseline], dict[str, Any]]:
        """Baselines and pipeline state, taken between two pipeline steps (consistent), every
        window taken judged first."""
        self._send(self.pipeline.judge())
        baselines = self.pipeline.engine.baselines()
        return baselines, self.pipeline.snapshot()

    async def _save_state_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(STATE_SAVE_S):
                    await self._save_now.wait()
            self._save_now.clear()
            with contextlib.suppress(TimeoutError):  # save between bursts, not in one
                async with asyncio.timeout(SAVE_QUIET_WAIT_S):
                    await self._judged.wait()
            started = loop.time()
            await asyncio.to_thread(self._save_state, self._snapshot())
            took_s = loop.time() - started
            await asyncio.sleep(took_s / SAVE_SHARE - took_s)

    def _save_state(self, snapshot: tuple[dict[str, Baseline], dict[str, Any]]) -> None:
        if self.state is None:
            return
        baselines, pipeline = snapshot
        try:
            self.state.save(baselines, pipeline)
        except OSError as exc:
            self.notices.once("state", f"could not save state to {self.state.path}: {exc}")

    async def _close_outputs(
        self, delivering: list[asyncio.Task[None]], background: list[asyncio.Task[None]]
    ) -> None:
        """Let outputs deliver what they hold (bounded), then cancel them; never hang."""
        for feed in self.feeds.values():
            feed.close()
        deadline = asyncio.get_running_loop().time() + FLUSH_TIMEOUT_S
        if delivering:
            await asyncio.wait(delivering, timeout=FLUSH_TIMEOUT_S)
        for output in self.outputs:
            left = max(deadline - asyncio.get_running_loop().time(), 0.1)
            try:
                async with asyncio.timeout(left):
                    await output.close()
            except TimeoutError:
                log.warning("output %s did not finish closing in time", output.name)
            except Exception as exc:  # closing one output must not keep the others open
                # Often the failure its deliveries already logged (a full disk): log once.
                if count_failure(self.feeds[output.name].counters, exc):
                    log.error("output %s failed while closing: %s", output.name, exc)
        left = deadline - asyncio.get_running_loop().time()
        if background and left > 0:  # outputs finishing their own last flush (e.g. InfluxDB)
            await asyncio.wait(background, timeout=left)
        tasks = [task for task in delivering + background if not task.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            _, stuck = await asyncio.wait(tasks, timeout=1.0)
            for task in stuck:
                log.error("task %s ignored its cancellation; abandoned", task.get_name())

    def _summarize(self) -> None:
        totals = self.pipeline.totals
        summary = self.summary
        summary.beats = totals.beats
        summary.windows = totals.windows
        summary.valid_windows = totals.valid_windows
        summary.dropped = totals.dropped
        summary.quarantines = totals.quarantines
        summary.outputs = {name: feed.counters for name, feed in self.feeds.items()}
        for name, counters in summary.outputs.items():
            if counters.failures:
                failures = summary.output_failures
                failures[name] = failures.get(name, 0) + sum(counters.failures.values())
        for name, counters in summary.outputs.items():
            if counters.dropped_windows or counters.dropped_beats:
                log.warning(
                    "output %s: %d windows and %d beats dropped (queue full or failing)",
                    name,
                    counters.dropped_windows,
                    counters.dropped_beats,
                )
        for device, reasons in summary.dropped.items():
            text = ", ".join(f"{n} {reason}" for reason, n in sorted(reasons.items()))
            log.warning("%s: beats dropped: %s", device, text)


def _messages(item: InboxItem | None) -> int:
    """Source messages in an inbox item: those of a `BeatColumns`, else one."""
    event = item.event if isinstance(item, Delivery) else item
    return len(event.devices) if isinstance(event, BeatColumns) else 1


def _leaf_messages(exc: BaseException) -> list[str]:
    """The messages of the errors inside (possibly nested) exception groups."""
    if isinstance(exc, BaseExceptionGroup):
        return [m for inner in exc.exceptions for m in _leaf_messages(inner)]
    return [str(exc) or type(exc).__name__]
