"""Replay: a recording's beats through the batch engine and the rules, exactly as computed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hrv import METRIC_COLUMNS, BeatBatch, sliding_windows
from recommender import Evaluator, default_config
from simulators import load_scenario, simulate
from tests.offline.factories import same_repr
from vagus.session import read_session, replay_beats, write_session


def _long_recording(data_dir: Path) -> BeatBatch:
    rr_ms = np.loadtxt(data_dir / "pyhrv_long_60min.csv", skiprows=1)
    return BeatBatch(device="pyhrv", t_s=np.cumsum(rr_ms) / 1000.0, rr_ms=rr_ms)


def test_windows_are_sliding_windows_of_the_rr(data_dir: Path) -> None:
    """Beats timed by cumulative RR replay into exactly sliding_windows(rr_ms), every column."""
    batch = _long_recording(data_dir)
    session = replay_beats(batch)
    table = sliding_windows(batch.rr_ms)
    assert len(session.windows) == len(table) == 719
    for name in METRIC_COLUMNS:
        replayed = np.array([getattr(w, name) for w in session.windows])
        np.testing.assert_array_equal(replayed, table.column(name), err_msg=name)


def test_window_settings_are_passed_on(data_dir: Path) -> None:
    """Other window length and step give sliding_windows' result for those settings."""
    batch = _long_recording(data_dir)
    session = replay_beats(batch, window_s=300.0, step_s=30.0)
    table = sliding_windows(batch.rr_ms, window_s=300.0, step_s=30.0)
    np.testing.assert_array_equal([w.t_end_s for w in session.windows], table.t_end_s)
    np.testing.assert_array_equal([w.rmssd_ms for w in session.windows], table.rmssd_ms)


def test_progress_reaches_the_total(data_dir: Path) -> None:
    """The progress callback counts beats up to the total, never backwards."""
    calls: list[tuple[int, int]] = []
    session = replay_beats(_long_recording(data_dir), progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (len(session.beats), len(session.beats))
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


@pytest.fixture(scope="module")
def two_hours() -> tuple[BeatBatch, np.ndarray, np.ndarray]:
    """The two_hours scenario's beats, with the onsets and ends of its stress episodes."""
    sim = simulate(load_scenario("two_hours"))
    stress = sim.segments.state == "stress"
    return sim.batch("sim"), sim.segments.onset_s[stress], sim.segments.end_s[stress]


def test_each_stress_episode_fires_once(
    two_hours: tuple[BeatBatch, np.ndarray, np.ndarray],
) -> None:
    """The two_hours scenario's three stress episodes give three triggers, each in its episode."""
    batch, onsets, ends = two_hours
    session = replay_beats(batch)
    times = np.array([t.t_s for t in session.triggers])
    assert times.size == onsets.size == 3
    assert ((times > onsets) & (times < ends)).all()


def test_rules_see_every_window_in_order(
    two_hours: tuple[BeatBatch, np.ndarray, np.ndarray],
) -> None:
    """Replay's triggers and outcomes are an evaluator's fed the same windows in one go."""
    batch, _, _ = two_hours
    session = replay_beats(batch)
    step = Evaluator(default_config()).feed_many(session.windows)
    assert session.triggers == step.triggers
    assert session.outcomes == step.outcomes


def test_replayed_session_survives_files(
    tmp_path: Path, two_hours: tuple[BeatBatch, np.ndarray, np.ndarray]
) -> None:
    """A replayed session written to files reads back the same (triggers and outcomes too)."""
    session = replay_beats(two_hours[0])
    write_session(tmp_path, [session])
    (back,) = read_session(tmp_path)
    assert same_repr(back.windows, session.windows)
    assert back.triggers == session.triggers
    assert back.outcomes == session.outcomes
    assert len(back.outcomes) == 3
