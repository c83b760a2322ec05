"""``vagus replay``: recordings through the engine and rules, written as session directories."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from vagus.config import Config, directory_problem, load_config
from vagus.errors import UserError
from vagus.session import DeviceSession, replay_file, write_session
from vagus.session import Progress as ProgressCallback

NAME = "replay"
HELP = "Run recordings through the HRV engine and rules, faster than real time, into session files."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """FILE..., --out DIR, --config FILE."""
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="recordings")
    parser.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="session directory (default ./vagus-replay-<stem>; with several files "
        "./vagus-replay, one subdirectory <stem> each)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="take [engine] windows and [[rules]] from this config (default: built-in defaults)",
    )


def output_dirs(files: Sequence[Path], out: Path | None) -> list[Path]:
    """Where each recording's session goes: DIR itself for one file, DIR/<stem> for several."""
    if len(files) == 1:
        return [out or Path(f"vagus-replay-{files[0].stem}")]
    base = out or Path("vagus-replay")
    seen: dict[str, int] = {}
    dirs = []
    for file in files:
        seen[file.stem] = seen.get(file.stem, 0) + 1
        count = seen[file.stem]
        dirs.append(base / (file.stem if count == 1 else f"{file.stem}-{count}"))
    return dirs


@contextmanager
def _progress_bar(label: str) -> Iterator[ProgressCallback | None]:
    """A rich progress bar on a terminal; nothing otherwise (the summary line follows)."""
    if not sys.stderr.isatty():
        yield None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("beats"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=None)

        def report(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield report


def summary_line(file: Path, session: DeviceSession, directory: Path) -> str:
    """What one replay produced, in one line."""
    return (
        f"{file.name}: {len(session.beats)} beats, {len(session.windows)} windows, "
        f"{len(session.triggers)} triggers, {len(session.outcomes)} outcomes -> {directory}"
    )


def run(args: argparse.Namespace) -> int:
    """Replay every file; a bad file stops with a one-line error (exit 2)."""
    config = load_config(args.config, check_dirs=False) if args.config else Config()
    engine = config.engine
    dirs = output_dirs(args.files, args.out)
    for directory in dirs:
        if (problem := directory_problem(directory)) is not None:
            raise UserError(f"--out {directory}: {problem}")
    for file, directory in zip(args.files, dirs, strict=True):
        with _progress_bar(file.name) as progress:
            session = replay_file(
                file,
                window_s=engine.window_s,
                step_s=engine.step_s,
                rules=config.recommender,
                progress=progress,
            )
        write_session(directory, [session])
        print(summary_line(file, session, directory), flush=True)
    return 0
