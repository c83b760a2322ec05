"""`SessionWriter`: appends beats, windows, triggers, outcomes and feedback to a session."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from contextlib import ExitStack, closing
from pathlib import Path
from types import TracebackType

from hrv import BeatBatch, WindowMetrics
from recommender import FeedbackResult, Outcome, Trigger
from vagus.private_files import private_dir
from vagus.session._beats_table import BEATS_HEADER, beat_rows
from vagus.session._csv_io import TableAppender
from vagus.session._feedback_table import FEEDBACK, FeedbackRecord
from vagus.session._metrics_table import METRICS
from vagus.session._outcomes_table import OUTCOMES
from vagus.session._triggers_table import TRIGGERS_HEADER, trigger_rows
from vagus.session.errors import SessionFileError

BEATS_FILE = "beats.csv"
METRICS_FILE = "metrics.csv"
TRIGGERS_FILE = "triggers.csv"
OUTCOMES_FILE = "outcomes.csv"
FEEDBACK_FILE = "feedback.csv"


class SessionWriter:
    """Appends to the CSV files of one session directory, flushing after every call.

    All five files are created (with their header) when the writer opens, so
    a session without triggers still has an empty ``triggers.csv``. With
    ``truncate=False`` (the daemon's case) an existing session is continued;
    with ``truncate=True`` (replay) it is started afresh. Use it as a context
    manager or call `close`.

    The files are mode 0600, the directory (when created here) 0700.

    A directory or file that cannot be used (a file where the directory
    should be, no permission, an existing table that is not CSV text) raises
    `SessionFileError` naming it, and leaves no file open.
    """

    def __init__(self, directory: Path, *, truncate: bool = False) -> None:
        self.directory = directory
        if directory.exists() and not directory.is_dir():
            raise SessionFileError(directory, None, "exists and is not a directory")
        with ExitStack() as opened:
            try:
                private_dir(directory)
            except OSError as exc:
                raise _write_error(exc, directory) from exc
            self._beats, self._metrics, self._triggers, self._outcomes, self._feedback = (
                opened.enter_context(closing(_open_table(directory / name, header, truncate)))
                for name, header in (
                    (BEATS_FILE, BEATS_HEADER),
                    (METRICS_FILE, METRICS.header),
                    (TRIGGERS_FILE, TRIGGERS_HEADER),
                    (OUTCOMES_FILE, OUTCOMES.header),
                    (FEEDBACK_FILE, FEEDBACK.header),
                )
            )
            opened.pop_all()  # all five open: they stay open until `close`

    def write_beats(self, batch: BeatBatch) -> None:
        """Append one device's batch of beats."""
        self._beats.append(beat_rows(batch))

    def write_metrics(self, windows: Iterable[WindowMetrics]) -> None:
        """Append windows (any devices)."""
        self._metrics.append(METRICS.rows(windows))

    def write_triggers(self, triggers: Iterable[Trigger]) -> None:
        """Append triggers (any devices)."""
        self._triggers.append(trigger_rows(triggers))

    def write_outcomes(self, outcomes: Iterable[Outcome]) -> None:
        """Append outcomes (any devices)."""
        self._outcomes.append(OUTCOMES.rows(outcomes))

    def write_feedback(self, results: Iterable[FeedbackResult], *, t_s: float) -> None:
        """Append what became of people's answers, recorded at ``t_s``."""
        self._feedback.append(FEEDBACK.rows(FeedbackRecord.of(r, t_s=t_s) for r in results))

    def write_feedback_records(self, records: Iterable[FeedbackRecord]) -> None:
        """Append feedback rows as read back (`write_session`)."""
        self._feedback.append(FEEDBACK.rows(records))

    def close(self) -> None:
        """Close every file."""
        tables = (self._beats, self._metrics, self._triggers, self._outcomes, self._feedback)
        for table in tables:
            table.close()

    def __enter__(self) -> SessionWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _open_table(path: Path, header: Sequence[str], truncate: bool) -> TableAppender:
    """`TableAppender`, with what can go wrong on disk as `SessionFileError` naming ``path``."""
    try:
        return TableAppender(path, header, truncate=truncate)
    except OSError as exc:
        raise _write_error(exc, path) from exc
    except (UnicodeDecodeError, csv.Error) as exc:
        raise SessionFileError(path, 1, f"not a session table (CSV text): {exc}") from exc


def _write_error(exc: OSError, path: Path) -> SessionFileError:
    return SessionFileError(path, None, f"cannot write: {exc.strerror or exc}")
