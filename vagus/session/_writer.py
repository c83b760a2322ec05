"""`SessionWriter`: appends beats, windows, triggers and outcomes to a session directory."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

from hrv import BeatBatch, WindowMetrics
from recommender import Outcome, Trigger
from vagus.session._beats_table import BEATS_HEADER, beat_rows
from vagus.session._csv_io import TableAppender
from vagus.session._metrics_table import METRICS
from vagus.session._outcomes_table import OUTCOMES
from vagus.session._triggers_table import TRIGGERS_HEADER, trigger_rows

BEATS_FILE = "beats.csv"
METRICS_FILE = "metrics.csv"
TRIGGERS_FILE = "triggers.csv"
OUTCOMES_FILE = "outcomes.csv"


class SessionWriter:
    """Appends to the CSV files of one session directory, flushing after every call.

    All four files are created (with their header) when the writer opens, so
    a session without triggers still has an empty ``triggers.csv``. With
    ``truncate=False`` (the daemon's case) an existing session is continued;
    with ``truncate=True`` (replay) it is started afresh. Use it as a context
    manager or call `close`.
    """

    def __init__(self, directory: Path, *, truncate: bool = False) -> None:
        self.directory = directory
        self._beats = TableAppender(directory / BEATS_FILE, BEATS_HEADER, truncate=truncate)
        self._metrics = TableAppender(directory / METRICS_FILE, METRICS.header, truncate=truncate)
        self._triggers = TableAppender(
            directory / TRIGGERS_FILE, TRIGGERS_HEADER, truncate=truncate
        )
        self._outcomes = TableAppender(
            directory / OUTCOMES_FILE, OUTCOMES.header, truncate=truncate
        )

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

    def close(self) -> None:
        """Close every file."""
        for table in (self._beats, self._metrics, self._triggers, self._outcomes):
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
