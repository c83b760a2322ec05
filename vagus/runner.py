"""Runs a daemon in the foreground: signals, logging, the closing summary."""

from __future__ import annotations

import asyncio
import signal

from rich.console import Console

from vagus.daemon import Daemon, Summary


async def run_until_signalled(daemon: Daemon) -> Summary:
    """Run ``daemon``; SIGINT and SIGTERM start its clean shutdown."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, daemon.stop)
    try:
        return await daemon.run()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def print_summary(console: Console, summary: Summary) -> None:
    """The closing lines: what was seen and suggested."""
    console.print(
        f"[bold]Session:[/] {summary.beats} beats, {summary.windows} windows "
        f"({summary.valid_windows} valid), {len(summary.triggers)} suggestions, "
        f"{len(summary.outcomes)} outcomes"
    )
    for trigger in summary.triggers:
        console.print(
            f"  {trigger.device}: {trigger.exercise.name} (rule {trigger.rule}, "
            f"stress {trigger.reason.get('stress', float('nan')):.0f})"
        )
    for outcome in summary.outcomes:
        console.print(f"  {outcome.device}: {outcome.exercise_id} -> {outcome.verdict}")
    for device, reasons in summary.dropped.items():
        text = ", ".join(f"{n} {reason}" for reason, n in sorted(reasons.items()))
        console.print(f"  [yellow]{device}: beats dropped: {text}[/]")
    if summary.quarantines:
        console.print(f"  [red]{summary.quarantines} device quarantine(s); see the log[/]")
    for name, failures in summary.output_failures.items():
        console.print(f"  [yellow]output {name} failed {failures} time(s); see the log[/]")
    for name, reason in summary.source_failures.items():
        console.print(f"  [red]source {name} stopped: {reason}[/]")
