"""The live terminal view: a row per device, redrawn by the daemon (plain lines off a tty)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import math
from dataclasses import dataclass, field

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from hrv import BeatBatch, WindowMetrics
from recommender import FeedbackResult, Outcome, Trigger
from vagus.events import DeviceStatus


@dataclass(slots=True)
class DeviceView:
    """What the console shows of one device; the daemon updates it as events arrive."""

    device: str
    connection: str = "starting"
    battery_pct: int | None = None
    window: WindowMetrics | None = None
    last_trigger: str | None = None
    triggers: int = 0
    beats: int = 0
    notes: list[str] = field(default_factory=list)


def stress_bar(stress: float, width: int = 20) -> Text:
    """A coloured bar for a 0-100 stress score (empty when the score is unknown)."""
    if math.isnan(stress):
        return Text("·" * width, style="dim")
    filled = round(width * min(max(stress, 0.0), 100.0) / 100.0)
    style = "green" if stress < 40 else "yellow" if stress < 70 else "red"
    return Text("█" * filled, style=style) + Text("·" * (width - filled), style="dim")


def _fmt(value: float, spec: str) -> str:
    return "–" if math.isnan(value) else format(value, spec)


def render(views: list[DeviceView], *, title: str) -> Table:
    """The table the live view shows."""
    table = Table(title=title, expand=False)
    for column in ("device", "link", "batt", "HR", "RMSSD", "stress", "", "quality", "trigger"):
        table.add_column(column, justify="right" if column in ("HR", "RMSSD", "batt") else "left")
    for view in views:
        w = view.window
        table.add_row(
            view.device,
            view.connection,
            "–" if view.battery_pct is None else f"{view.battery_pct}%",
            "–" if w is None else _fmt(w.hr_bpm, ".0f"),
            "–" if w is None else _fmt(w.rmssd_ms, ".1f"),
            "–" if w is None else _fmt(w.stress, ".0f"),
            stress_bar(float("nan") if w is None else w.stress),
            "–" if w is None else str(w.quality),
            view.last_trigger or "",
        )
    return table


def plain_line(view: DeviceView) -> str:
    """One log-friendly line for a device's latest window (used when not on a terminal)."""
    w = view.window
    if w is None:
        return f"{view.device}: {view.connection}"
    clock = dt.datetime.fromtimestamp(w.t_end_s)
    return (
        f"{view.device}: {clock:%H:%M:%S} HR={_fmt(w.hr_bpm, '.0f')} "
        f"RMSSD={_fmt(w.rmssd_ms, '.1f')}ms stress={_fmt(w.stress, '.0f')} quality={w.quality}"
    )


def make_console(*, stderr: bool = False) -> Console:
    """A rich console; plain (no colour, no live redraw) when the stream is not a terminal."""
    return Console(stderr=stderr, highlight=False, soft_wrap=True)


class ConsoleOutput:
    """The daemon's console output: a live table on a terminal, plain lines elsewhere.

    Plain mode prints one line per device every ``plain_every`` windows and
    every trigger, so a log stays readable; no health data goes to the
    structured logs, only to this view the user asked for.
    """

    name = "console"
    blocking = False

    def __init__(self, console: Console, *, title: str, plain_every: int = 12) -> None:
        self.console = console
        self.title = title
        self.views: dict[str, DeviceView] = {}
        self._plain_every = plain_every
        self._counts: dict[str, int] = {}
        self._live: Live | None = None
        self._closed = asyncio.Event()

    def _view(self, device: str) -> DeviceView:
        view = self.views.get(device)
        if view is None:
            view = self.views[device] = DeviceView(device=device)
        return view

    def beats(self, batch: BeatBatch) -> None:
        self._view(batch.device).beats += len(batch)

    def windows(self, windows: list[WindowMetrics]) -> None:
        for window in windows:
            view = self._view(window.device)
            view.window = window
            count = self._counts[window.device] = self._counts.get(window.device, 0) + 1
            if self._live is None and count % self._plain_every == 0:
                self.console.print(plain_line(view))

    def trigger(self, trigger: Trigger) -> None:
        view = self._view(trigger.device)
        view.triggers += 1
        view.last_trigger = f"{trigger.exercise.id} ({trigger.rule})"
        exercise = trigger.exercise
        pattern = ", ".join(f"{p.kind} {p.duration_s:g} s" for p in exercise.phases)
        self.console.print(
            f"[bold]{trigger.device}[/]: suggest [cyan]{exercise.name}[/] "
            f"for {exercise.duration_s / 60:.0f} min ({pattern}; "
            f"rule {trigger.rule}, {trigger.severity})"
        )

    def outcome(self, outcome: Outcome) -> None:
        self.console.print(f"{outcome.device}: outcome of {outcome.exercise_id}: {outcome.verdict}")

    def feedback(self, result: FeedbackResult) -> None:
        """One line per answer: what was said and whether it was taken."""
        moved = ", ".join(f"{k} {v:.2f}" for k, v in sorted(result.changes.items()))
        line = f"{result.device}: feedback {result.verdict} on {result.trigger_id[:8]}: "
        self.console.print(escape(line + str(result.status) + (f" ({moved})" if moved else "")))

    def status(self, status: DeviceStatus) -> None:
        view = self._view(status.device)
        view.connection = status.link
        if status.battery_pct is not None:
            view.battery_pct = status.battery_pct
        if status.note:
            self.console.print(f"{status.device}: {status.note}")

    async def run(self) -> None:
        """Redraw the live table once a second on a terminal until `close`; nothing to do
        elsewhere."""
        if not self.console.is_terminal:
            return
        with Live(console=self.console, auto_refresh=False) as live:
            self._live = live
            try:
                while not self._closed.is_set():
                    live.update(render(list(self.views.values()), title=self.title), refresh=True)
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(1.0):
                            await self._closed.wait()
            finally:
                live.update(render(list(self.views.values()), title=self.title), refresh=True)
                self._live = None

    async def close(self) -> None:
        """Nothing buffered: end the redrawing (the last table stays on screen)."""
        self._closed.set()
