"""Replay: a recording's beats through the engine and the rules, as fast as they compute.

The same pure functions as the daemon: `hrv.sliding_windows` over the whole
recording (so the windows are exactly the batch engine's), then a
`recommender.Evaluator` fed the windows in order.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hrv import BeatBatch, InputError, sliding_windows
from ingest.errors import RecordingError
from ingest.recordings import read_recording
from recommender import Evaluator, Outcome, RecommenderConfig, Trigger, default_config
from vagus.session._session import DeviceSession
from vagus.session.errors import SessionFileError

FEED_CHUNK = 256
"""Windows fed to the evaluator between two progress reports."""

Progress = Callable[[int, int], None]
"""Called with (windows done, windows in total) as the replay goes."""


def replay_beats(
    batch: BeatBatch,
    *,
    window_s: float = 60.0,
    step_s: float = 5.0,
    rules: RecommenderConfig | None = None,
    progress: Progress | None = None,
) -> DeviceSession:
    """One device's session made from its beats: windows, then the rules' triggers and outcomes.

    Beat times are the batch's ``t_s`` (a recording without timestamps has
    the cumulative RR from t = 0, so the windows are those of
    ``sliding_windows(rr_ms)``). Quiet hours are not applied: a recording's
    times are not wall-clock times, so the rules must not set them.
    """
    table = sliding_windows(
        batch.rr_ms, window_s=window_s, step_s=step_s, t_s=batch.t_s, gap=batch.gap
    )
    windows = tuple(table.records(batch.device))
    evaluator = Evaluator(rules or default_config())
    triggers: list[Trigger] = []
    outcomes: list[Outcome] = []
    for start in range(0, len(windows), FEED_CHUNK):
        step = evaluator.feed_many(windows[start : start + FEED_CHUNK])
        triggers.extend(step.triggers)
        outcomes.extend(step.outcomes)
        if progress is not None:
            progress(min(start + FEED_CHUNK, len(windows)), len(windows))
    return DeviceSession(
        device=batch.device,
        beats=batch,
        windows=windows,
        triggers=tuple(triggers),
        outcomes=tuple(outcomes),
    )


def replay_file(
    path: Path,
    *,
    window_s: float = 60.0,
    step_s: float = 5.0,
    rules: RecommenderConfig | None = None,
    progress: Progress | None = None,
) -> DeviceSession:
    """Import a recording with `ingest.recordings.read_recording` and replay it.

    A file that cannot be imported or computed raises `SessionFileError`
    naming the file, the line (when known) and the reason.
    """
    try:
        batch = read_recording(path)
    except RecordingError as exc:
        raise SessionFileError(path, exc.line or None, exc.reason) from exc
    try:
        return replay_beats(batch, window_s=window_s, step_s=step_s, rules=rules, progress=progress)
    except InputError as exc:
        raise SessionFileError(path, None, str(exc)) from exc
