"""One supervisor: sources -> engine -> rules -> outputs, in one `asyncio.TaskGroup`.

Tasks are named: ``source[<device>]`` for each source, ``engine`` and
``output[<name>]``. An output that fails is logged and restarted after a
pause, so a broken broker or database never stops ingestion. Shutdown
(`Daemon.stop`, or every source ending): sources stop first, the engine
drains the inbox, outputs get `FLUSH_TIMEOUT_S` to deliver, then whatever
they still hold is persisted by them (MQTT journal, InfluxDB spool).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from hrv import BeatBatch, StreamEngine, WindowMetrics
from recommender import Evaluator, Outcome, Trigger
from vagus.baseline_store import BaselineStore
from vagus.daemon._events import DeviceStatus
from vagus.daemon._outputs import FLUSH_TIMEOUT_S, Output
from vagus.daemon._sources import INBOX_SIZE, Inbox
from vagus.errors import UserError

log = logging.getLogger(__name__)

OUTPUT_RESTART_S = 5.0
"""Pause before restarting an output that failed."""

SourceFactory = Callable[[Inbox, asyncio.Event], Coroutine[Any, Any, None]]
"""Runs one source: puts its events into the inbox until the event (stopping) is set."""

SOURCE_STOP_TIMEOUT_S = 2.0
"""How long sources get to stop cleanly (disconnect, flush held beats) before cancellation."""

BASELINE_SAVE_S = 300.0
"""How often personal baselines are saved while running (and always at shutdown)."""


@dataclass(slots=True)
class Summary:
    """What a daemon run did, for the closing lines and the tests."""

    beats: int = 0
    windows: int = 0
    valid_windows: int = 0
    triggers: list[Trigger] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    output_failures: dict[str, int] = field(default_factory=dict)
    source_failures: dict[str, str] = field(default_factory=dict)


def local_time_of(t_s: float) -> dt.time:
    """The local wall-clock time of an epoch timestamp (for quiet hours)."""
    return dt.datetime.fromtimestamp(t_s).time()


class Daemon:
    """Runs named sources into the engine and rules, and fans results out to outputs."""

    def __init__(
        self,
        *,
        sources: dict[str, SourceFactory],
        engine: StreamEngine,
        evaluator: Evaluator,
        outputs: Sequence[Output],
        baselines: BaselineStore | None = None,
    ) -> None:
        self.sources = sources
        self.engine = engine
        self.baselines = baselines
        self.evaluator = evaluator
        self.outputs = list(outputs)
        self.summary = Summary()
        self.inbox: Inbox = asyncio.Queue(INBOX_SIZE)
        self._stop = asyncio.Event()
        self._stopping_sources = asyncio.Event()

    def stop(self) -> None:
        """Begin a clean shutdown (safe to call from a signal handler)."""
        self._stop.set()

    async def run(self) -> Summary:
        """Run until `stop` or until every source has ended; returns the summary."""
        async with asyncio.TaskGroup() as group:
            output_tasks = [
                group.create_task(self._keep_running(output), name=f"output[{output.name}]")
                for output in self.outputs
            ]
            engine = group.create_task(self._engine_loop(), name="engine")
            sources = group.create_task(self._run_sources(), name="sources")
            stopper = group.create_task(self._stop.wait(), name="stop")
            saver = group.create_task(self._save_baselines_every(BASELINE_SAVE_S), name="baselines")
            await asyncio.wait([sources, stopper], return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            self._stopping_sources.set()
            await asyncio.wait([sources], timeout=SOURCE_STOP_TIMEOUT_S)
            sources.cancel()
            await asyncio.wait([sources, stopper])
            await self.inbox.put(None)
            await asyncio.wait([engine])
            saver.cancel()
            self._flush_engine()
            self._save_baselines()
            for output in self.outputs:
                await output.close()
            if output_tasks:
                _, late = await asyncio.wait(output_tasks, timeout=FLUSH_TIMEOUT_S)
                for task in late:
                    task.cancel()
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
        """Run an output; restart it after a pause whenever it fails.

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
        while (event := await self.inbox.get()) is not None:
            if isinstance(event, BeatBatch):
                self._on_beats(event)
            elif isinstance(event, DeviceStatus):
                for output in self.outputs:
                    output.status(event)

    def _on_beats(self, batch: BeatBatch) -> None:
        self.summary.beats += len(batch)
        for output in self.outputs:
            output.beats(batch)
        self._on_windows(self.engine.push(batch))

    def _flush_engine(self) -> None:
        """Emit every device's last windows, as a recording's end does."""
        for device in self.engine.devices:
            self._on_windows(self.engine.flush(device))

    async def _save_baselines_every(self, period_s: float) -> None:
        while True:
            await asyncio.sleep(period_s)
            self._save_baselines()

    def _save_baselines(self) -> None:
        if self.baselines is None or not self.engine.devices:
            return
        try:
            self.baselines.save(self.engine.baselines())
        except OSError as exc:
            log.error("could not save baselines to %s: %s", self.baselines.path, exc)

    def _on_windows(self, windows: Sequence[WindowMetrics]) -> None:
        if not windows:
            return
        self.summary.windows += len(windows)
        for output in self.outputs:
            output.windows(windows)
        for window in windows:
            self.summary.valid_windows += window.quality == "ok"
            step = self.evaluator.feed(window, local_time=local_time_of(window.t_end_s))
            for trigger in step.triggers:
                self.summary.triggers.append(trigger)
                for output in self.outputs:
                    output.trigger(trigger)
            for outcome in step.outcomes:
                self.summary.outcomes.append(outcome)
                for output in self.outputs:
                    output.outcome(outcome)


def _leaf_messages(exc: BaseException) -> list[str]:
    """The messages of the errors inside (possibly nested) exception groups."""
    if isinstance(exc, BaseExceptionGroup):
        return [m for inner in exc.exceptions for m in _leaf_messages(inner)]
    return [str(exc) or type(exc).__name__]
