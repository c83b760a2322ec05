"""Replay: a recording's beats through the daemon's pipeline, as fast as they compute.

The same `vagus.pipeline.Pipeline` `vagus run` drives, fed the recording in
chunks with ``now`` taken from the recording itself, then flushed: the
windows are exactly `hrv.sliding_windows` of the beats the input guard
keeps (all of them, for a clean recording). Quiet hours are not applied: a
recording's times are not wall-clock times.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from hrv import BeatBatch, InputError, StreamEngine
from ingest.errors import RecordingError
from ingest.recordings import read_recording
from recommender import RecommenderConfig, default_config
from vagus.pipeline import Emissions, Pipeline
from vagus.session._session import DeviceSession
from vagus.session.errors import SessionFileError

FEED_CHUNK = 4096
"""Beats fed to the pipeline between two progress reports."""

Progress = Callable[[int, int], None]
"""Called with (beats done, beats in total) as the replay goes."""


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
    ``sliding_windows(rr_ms)``). Beats the input guard drops (see
    `vagus.pipeline`) are left out of the session's beats.
    """
    pipeline = Pipeline(
        engine=StreamEngine(window_s=window_s, step_s=step_s), rules=rules or default_config()
    )
    got = Emissions()
    total = len(batch)
    for start in range(0, total, FEED_CHUNK):
        stop = min(start + FEED_CHUNK, total)
        chunk = BeatBatch(
            device=batch.device,
            t_s=batch.t_s[start:stop],
            rr_ms=batch.rr_ms[start:stop],
            gap=batch.gap[start:stop],
        )
        now = float(np.nanmax(chunk.t_s)) if np.isfinite(chunk.t_s).any() else 0.0
        got.extend(pipeline.feed(chunk, now=now))
        if progress is not None:
            progress(stop, total)
    got.extend(pipeline.flush())
    return DeviceSession(
        device=batch.device,
        beats=_concat(batch.device, got.beats),
        windows=tuple(got.windows),
        triggers=tuple(got.triggers),
        outcomes=tuple(got.outcomes),
    )


def _concat(device: str, batches: list[BeatBatch]) -> BeatBatch:
    if not batches:
        return BeatBatch(device=device, t_s=np.zeros(0), rr_ms=np.zeros(0))
    return BeatBatch(
        device=device,
        t_s=np.concatenate([b.t_s for b in batches]),
        rr_ms=np.concatenate([b.rr_ms for b in batches]),
        gap=np.concatenate([b.gap for b in batches]),
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
