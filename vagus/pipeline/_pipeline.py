"""The pipeline: source events in, what the outputs need out; one per process, pure.

``feed(event, now=...)`` runs a `BeatBatch` (or the many messages of a
`vagus.events.BeatColumns`) through the per-device `InputGuard`, the
`hrv.StreamEngine` and the `recommender.Evaluator`, and returns `Emissions`:
the beats kept, the windows they completed, the triggers and outcomes those
caused, status changes passed through, and `Notice`s for the edge to log
(drops by reason, new segments, quarantine).
`vagus run` feeds it from its inbox with the wall clock as ``now``;
`vagus replay` feeds it a recording with the recording's own times, so both
take one code path and replay stays equal to `hrv.sliding_windows`.
``feed_many(events, now=...)`` takes what a daemon's inbox holds at once:
runs of beats events go through the guard in one vectorized pass
(`InputGuard.check_columns`) and the engine in one call
(`hrv.StreamEngine.push_columns`) for all their devices; each device gets
what feeding the events one by one would give it.

Windows first, rules after: ``take``/``take_many`` run the guard and the
engine and emit the windows at once; the rules' work on those windows waits
in order until ``judge`` (at most ``limit`` windows, oldest first). ``feed``
and ``feed_many`` are a take followed by ``judge()`` of everything. A daemon
takes first and judges when it has nothing else to do, so live metrics are
not held up behind the rules when many devices' windows come due at once
(windows end on one time grid for every device); its rule state lags by at
most the windows it holds back. Feedback, ``flush`` and ``snapshot`` judge
every window taken before them first, so the rules see each device's
windows and answers in order.

Isolation: the guard makes engine errors impossible for any input; if a
device's processing raises all the same, that device alone is
**quarantined** (its beats dropped and counted) and starts afresh, as a new
segment, with its first beat `QUARANTINE_S` after the failure. When its rules
raise, its windows already emitted stay emitted and its windows not yet judged
are left out of the rules. When the one
engine call for many devices raises, their beats are pushed again device by
device, so the failing device is the one quarantined (a device whose beats the
failed call had already taken fails its second push and is quarantined too).
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import math
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hrv import Baseline, BeatBatch, BoolArray, StreamEngine, WindowMetrics
from recommender import (
    Evaluator,
    FeedbackResult,
    FeedbackVerdict,
    Outcome,
    RecommenderConfig,
    Trigger,
)
from recommender import Feedback as Answer
from vagus.events import BeatColumns, DeviceStatus, Feedback, SourceEvent
from vagus.pipeline._guard import InputGuard

QUARANTINE_S = 60.0
"""Beat time a quarantined device's beats are dropped for before it starts afresh."""

LocalTime = Callable[[float], dt.time]
"""An epoch time's local wall-clock time (for quiet hours); injected, never read here."""


class NoticeKind(enum.StrEnum):
    """What a `Notice` reports."""

    DROPPED = "dropped"  # beats dropped by the guard; ``reason`` is a `Reject`
    FEEDBACK = "feedback"  # feedback refused; ``reason`` says why
    SEGMENT = "segment"  # a time jump: the device's recording ended and a new one started
    QUARANTINED = "quarantined"  # processing raised; ``reason`` is the error
    RECOVERED = "recovered"  # a quarantined device starts afresh


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice:
    """Something about one device the edge should count and log (rate-limited there)."""

    device: str
    kind: NoticeKind
    reason: str = ""
    count: int = 1


@dataclass(slots=True)
class Emissions:
    """What one `Pipeline` call (feed, take, judge, flush) produced, for the outputs."""

    beats: list[BeatBatch] = field(default_factory=list)
    beat_columns: list[BeatColumns] = field(default_factory=list)
    """Kept beats of many messages at once (from `Pipeline.feed_many`); see `beat_batches`."""
    windows: list[WindowMetrics] = field(default_factory=list)
    triggers: list[Trigger] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    statuses: list[DeviceStatus] = field(default_factory=list)
    feedback: list[FeedbackResult] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(
            self.beats
            or self.beat_columns
            or self.windows
            or self.triggers
            or self.outcomes
            or self.statuses
            or self.feedback
            or self.notices
        )

    def extend(self, other: Emissions) -> None:
        """Append ``other``'s records to these."""
        self.beats += other.beats
        self.beat_columns += other.beat_columns
        self.windows += other.windows
        self.triggers += other.triggers
        self.outcomes += other.outcomes
        self.statuses += other.statuses
        self.feedback += other.feedback
        self.notices += other.notices

    def beat_batches(self) -> list[BeatBatch]:
        """Every kept beat as `BeatBatch`es: ``beats``, then ``beat_columns`` message by
        message."""
        return self.beats + [b for columns in self.beat_columns for b in columns.batches()]

    def beat_count(self) -> int:
        """Kept beats, ``beats`` and ``beat_columns``."""
        return sum(len(b) for b in self.beats) + sum(len(c) for c in self.beat_columns)


@dataclass(slots=True)
class Totals:
    """Counts over the pipeline's life (for the closing summary and the tests)."""

    beats: int = 0
    windows: int = 0
    valid_windows: int = 0
    triggers: int = 0
    outcomes: int = 0
    dropped: dict[str, dict[str, int]] = field(default_factory=dict)
    quarantines: int = 0


class Pipeline:
    """Guard, engine and rules for every device of one process."""

    def __init__(
        self,
        *,
        engine: StreamEngine,
        rules: RecommenderConfig,
        local_time: LocalTime | None = None,
    ) -> None:
        """``local_time`` maps beat times to local times for quiet hours; without it, quiet
        hours are ignored (a recording's times are not wall-clock times)."""
        if local_time is None and rules.quiet_hours is not None:
            rules = rules.model_copy(update={"quiet_hours": None})
        self.engine = engine
        self.evaluator = Evaluator(rules)
        self.guard = InputGuard()
        self.totals = Totals()
        self._local_time = local_time
        self._quarantined: dict[str, float] = {}  # device -> beat time it may start again
        self._unjudged: deque[WindowMetrics] = deque()  # windows out, rules not yet run

    @property
    def pending(self) -> int:
        """Windows taken (emitted) whose rules have not run yet (see `judge`)."""
        return len(self._unjudged)

    @property
    def devices(self) -> list[str]:
        """Every device the engine has seen."""
        return self.engine.devices

    def feed(self, event: SourceEvent, *, now: float) -> Emissions:
        """One source event in; what it caused out. Never raises for any event content."""
        out = self.take(event, now=now)
        self._judge(out, None)
        return out

    def feed_many(self, events: Sequence[SourceEvent], *, now: float) -> Emissions:
        """`take_many`, then the rules on every window taken."""
        out = self.take_many(events, now=now)
        self._judge(out, None)
        return out

    def judge(self, limit: int | None = None) -> Emissions:
        """The rules on the oldest ``limit`` windows taken and not judged yet (all of them
        when None): their triggers and outcomes, and a QUARANTINED notice for a device whose
        rules raise."""
        out = Emissions()
        self._judge(out, limit)
        return out

    def take(self, event: SourceEvent, *, now: float) -> Emissions:
        """One source event through the guard and the engine: kept beats, windows (their
        rules wait for `judge`), status changes and notices out."""
        out = Emissions()
        if isinstance(event, DeviceStatus):
            out.statuses.append(event)
        elif isinstance(event, Feedback):
            self._feedback(event, out)
        elif isinstance(event, BeatColumns):
            self._columns(event, now, out)
        else:
            self._beats(event, now, out)
        return out

    def take_many(self, events: Sequence[SourceEvent], *, now: float) -> Emissions:
        """Events in order, runs of beats events together (see the module docstring): each
        device's records and notices are those of `take` one event at a time."""
        out = Emissions()
        run: list[BeatBatch | BeatColumns] = []
        for event in events:
            if isinstance(event, BeatBatch | BeatColumns):
                run.append(event)
                continue
            if run:
                self._columns(BeatColumns.join(run), now, out)
                run = []
            out.extend(self.take(event, now=now))
        if run:
            self._columns(BeatColumns.join(run), now, out)
        return out

    def _columns(self, columns: BeatColumns, now: float, out: Emissions) -> None:
        """Many messages: the vectorized guard and one engine call for the devices it keeps
        whole; messages of quarantined devices, and those the guard leaves, one by one."""
        names = columns.devices
        alone = [i for i, d in enumerate(names) if d in self._quarantined]
        if alone:
            mask = np.ones(len(names), np.bool_)
            mask[alone] = False
            busy = [columns.batch(i) for i in alone]
            columns = columns.select(mask)
            guarded = self.guard.check_columns(columns, now=now)
            later = [columns.batch(i) for i in guarded.rest]
            for batch in busy + later:  # devices apart: the order across them is free
                self._beats(batch, now, out)
        else:
            guarded = self.guard.check_columns(columns, now=now)
            for i in guarded.rest:
                self._beats(columns.batch(i), now, out)
        kept = guarded.kept
        if not len(kept):
            return
        rows = self.engine.register(list(kept.devices))
        try:
            table = self.engine.push_columns(
                np.repeat(rows, np.diff(kept.bounds)), kept.t_s, kept.rr_ms, kept.gap
            )
        except Exception:  # isolation: find the failing device by pushing them one by one
            self._push_one_by_one(kept, out)
            return
        out.beat_columns.append(kept)
        self.totals.beats += len(kept)
        self._emit(table.records(self.engine.devices), out)

    def _push_one_by_one(self, kept: BeatColumns, out: Emissions) -> None:
        for batch in kept.batches():
            device = batch.device
            if device in self._quarantined:
                self._count(out, device, "quarantined", len(batch))
            elif self._guarded(device, out, functools.partial(self.engine.push, batch)):
                out.beats.append(batch)
                self.totals.beats += len(batch)

    def _feedback(self, event: Feedback, out: Emissions) -> None:
        """Hand a person's answer to the rules (after every window taken before it);
        refusals are counted notices, never errors."""
        self._judge(out, None)
        trigger_id = event.trigger_id or self.evaluator.last_trigger_id(event.device)
        problem = ""
        if event.verdict not in set(FeedbackVerdict):
            problem = "unknown_verdict"
        elif not trigger_id:
            problem = "no_trigger"
        elif not math.isfinite(event.t_s):
            problem = "bad_time"
        if problem:
            out.notices.append(
                Notice(device=event.device, kind=NoticeKind.FEEDBACK, reason=problem)
            )
            return
        answer = Answer(
            trigger_id=str(trigger_id), verdict=FeedbackVerdict(event.verdict), t_s=event.t_s
        )
        result = self.evaluator.feedback(event.device, answer)
        out.feedback.append(result)
        if not result.accepted:
            reason = str(result.status)
            out.notices.append(Notice(device=event.device, kind=NoticeKind.FEEDBACK, reason=reason))

    def flush(self, devices: Sequence[str] | None = None) -> Emissions:
        """End every device's recording (or those of ``devices``): the last windows (and what
        they cause) out, every window judged."""
        out = self.judge()
        names = self.engine.devices if devices is None else devices
        names = [device for device in names if device not in self._quarantined]
        try:
            table = self.engine.flush_many(names)
        except Exception:  # isolation: find the failing device by flushing them one by one
            for device in names:
                self._guarded(device, out, functools.partial(self.engine.flush, device))
        else:
            self._emit(table.records(self.engine.devices), out)
        self._judge(out, None)
        return out

    def _beats(self, batch: BeatBatch, now: float, out: Emissions) -> None:
        device = batch.device
        guarded = self.guard.check(batch, now=now)
        for reason, n in guarded.dropped.items():
            self._count(out, device, reason, n)
        for segment in guarded.segments:
            beats = segment.beats
            since = self._quarantined.get(device)
            if since is not None:
                if beats.t_s[-1] < since:
                    self._count(out, device, "quarantined", len(beats))
                    continue
                keep = beats.t_s >= since
                self._count(out, device, "quarantined", int((~keep).sum()))
                beats = _restart(beats, keep)
                del self._quarantined[device]
                if device in self.engine.devices:  # not if it failed before the engine saw it
                    self.engine.reset(device)
                out.notices.append(Notice(device=device, kind=NoticeKind.RECOVERED))
            elif segment.new and device in self.engine.devices:
                out.notices.append(Notice(device=device, kind=NoticeKind.SEGMENT))
                if not self._guarded(device, out, functools.partial(self.engine.flush, device)):
                    continue
            if self._guarded(device, out, functools.partial(self.engine.push, beats)):
                out.beats.append(beats)
                self.totals.beats += len(beats)

    def _guarded(
        self, device: str, out: Emissions, step: Callable[[], Sequence[WindowMetrics]]
    ) -> bool:
        """Run one engine step of ``device`` and emit its windows; quarantine on error."""
        try:
            windows = step()
        except Exception as exc:  # isolation: one device's failure must not reach the others
            self._quarantine(device, exc, out)
            return False
        self._emit(windows, out)
        return True

    def _emit(self, records: Iterable[WindowMetrics], out: Emissions) -> None:
        """``records`` out now; their rules wait (in order) for `_judge`."""
        windows = list(records)
        out.windows += windows
        self._unjudged.extend(windows)
        self.totals.windows += len(windows)
        self.totals.valid_windows += sum(window.quality == "ok" for window in windows)

    def _judge(self, out: Emissions, limit: int | None) -> None:
        """The rules on the oldest ``limit`` windows taken (all when None), in order; a
        device whose rules raise is quarantined alone."""
        unjudged, totals = self._unjudged, self.totals
        left = len(unjudged) if limit is None else limit
        while unjudged and left > 0:
            window = unjudged.popleft()
            left -= 1
            local = None if self._local_time is None else self._local_time(window.t_end_s)
            try:
                step = self.evaluator.feed(window, local_time=local)
            except Exception as exc:  # isolation: one device's failure must not reach the others
                device = window.device
                self._unjudged = unjudged = deque(w for w in unjudged if w.device != device)
                self._quarantine(device, exc, out)
                continue
            out.triggers += step.triggers
            out.outcomes += step.outcomes
            totals.triggers += len(step.triggers)
            totals.outcomes += len(step.outcomes)

    def _quarantine(self, device: str, exc: Exception, out: Emissions) -> None:
        last = self.guard.last_beat_s().get(device, -math.inf)
        self._quarantined[device] = last + QUARANTINE_S
        self.totals.quarantines += 1
        reason = f"{type(exc).__name__}: {exc}"
        out.notices.append(Notice(device=device, kind=NoticeKind.QUARANTINED, reason=reason))

    def _count(self, out: Emissions, device: str, reason: str, n: int) -> None:
        if n <= 0:
            return
        per_device = self.totals.dropped.setdefault(device, {})
        per_device[reason] = per_device.get(reason, 0) + n
        out.notices.append(Notice(device=device, kind=NoticeKind.DROPPED, reason=reason, count=n))

    # -- state across restarts -------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """What a restart needs (JSON-ready): last beat times and rule state (take it after
        `judge`: windows not judged yet are not in it)."""
        return {"last_beat_s": self.guard.last_beat_s(), "rules": self.evaluator.snapshot()}

    def restore(self, state: Mapping[str, Any] | None, baselines: Mapping[str, Baseline]) -> None:
        """Start from a `snapshot` and stored baselines (validated by the caller's store)."""
        for device, baseline in baselines.items():
            self.engine.set_baseline(device, baseline)
        if state is None:
            return
        self.guard.restore(dict(state.get("last_beat_s", {})))
        rules = state.get("rules")
        if rules is not None:
            self.evaluator.restore(rules)


def _restart(beats: BeatBatch, keep: BoolArray) -> BeatBatch:
    """The kept beats of a recovering device; the first starts a new segment (a gap)."""
    gap = beats.gap[keep].copy()
    if gap.size:
        gap[0] = True
    return BeatBatch(device=beats.device, t_s=beats.t_s[keep], rr_ms=beats.rr_ms[keep], gap=gap)
