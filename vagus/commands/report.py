"""``vagus report``: a self-contained HTML report of a session directory or a recording."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from vagus import __version__
from vagus.config import Config, load_config
from vagus.errors import UserError
from vagus.private_files import private_opener
from vagus.report import render_report
from vagus.session import DeviceSession, read_session, replay_file

NAME = "report"
HELP = "Write a self-contained HTML report of a session directory or a recording."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """FILE|DIR, -o FILE, --config FILE."""
    parser.add_argument(
        "source", type=Path, metavar="FILE|DIR", help="session directory, or a recording"
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="HTML",
        help="where to write the page (default ./vagus-report-<name>.html)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="for a recording: take [engine] windows and [[rules]] from this config",
    )


def _read_session(directory: Path) -> tuple[DeviceSession, ...]:
    """`read_session`, with a table that is not CSV text as a one-line `UserError`.

    Interim: the session reader names the file for every other problem, but
    `vagus.session._csv_io.read_columns` lets these two escape (its CSV
    reader raises them while iterating). Once it wraps them in a
    `SessionFileError` naming the table, this wrapper can go.
    """
    try:
        return read_session(directory)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise UserError(f"{directory}: a session table is not CSV text ({exc})") from exc


def run(args: argparse.Namespace) -> int:
    """Read (or replay) the session, render the page, write it."""
    source: Path = args.source
    if source.is_dir():
        sessions = _read_session(source)
        name = source.resolve().name
    else:
        # Only [engine] and the rules are used: the daemon's directories are not checked.
        config = load_config(args.config, check_dirs=False) if args.config else Config()
        engine = config.engine
        sessions = (
            replay_file(
                source, window_s=engine.window_s, step_s=engine.step_s, rules=config.recommender
            ),
        )
        name = source.stem
    if not sessions:
        raise UserError(f"{source}: the session holds no devices")
    output: Path = args.output or Path(f"vagus-report-{name}.html")
    try:
        page = render_report(sessions, title=name, version=__version__)
        with open(output, "w", encoding="utf-8", opener=private_opener) as file:  # health data
            file.write(page)
    except OSError as exc:
        raise UserError(f"{output}: cannot write: {exc.strerror}") from exc
    print(f"{output}", flush=True)
    return 0
