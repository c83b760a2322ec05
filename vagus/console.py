"""The live terminal view: a row per device, redrawn by the daemon (plain lines off a tty)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from rich.console import Console
from rich.table import Table
from rich.text import Text

from hrv import WindowMetrics


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
    return (
        f"{view.device}: t={w.t_end_s:.0f}s HR={_fmt(w.hr_bpm, '.0f')} "
        f"RMSSD={_fmt(w.rmssd_ms, '.1f')}ms stress={_fmt(w.stress, '.0f')} quality={w.quality}"
    )


def make_console(*, stderr: bool = False) -> Console:
    """A rich console; plain (no colour, no live redraw) when the stream is not a terminal."""
    return Console(stderr=stderr, highlight=False)
