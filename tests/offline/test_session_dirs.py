"""Whole sessions: triggers and outcomes flattened to CSV and read back, several devices."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from hrv import BeatBatch
from recommender import Verdict
from tests.offline.factories import calm_stress_session, outcome, same_repr, trigger
from vagus.session import (
    SessionFileError,
    SessionWriter,
    read_session,
    read_triggers,
    write_session,
)


def test_session_round_trip_two_devices(tmp_path: Path) -> None:
    """write_session, read_session: every device's beats, windows, triggers and outcomes back."""
    sessions = (calm_stress_session("a"), calm_stress_session("b"))
    write_session(tmp_path, sessions)
    back = read_session(tmp_path)
    assert [s.device for s in back] == ["a", "b"]
    for wrote, read in zip(sessions, back, strict=True):
        np.testing.assert_array_equal(read.beats.t_s, wrote.beats.t_s)
        np.testing.assert_array_equal(read.beats.rr_ms, wrote.beats.rr_ms)
        assert same_repr(read.windows, wrote.windows)
        assert read.triggers == wrote.triggers
        assert read.outcomes == wrote.outcomes


def test_trigger_columns_flatten_exercise_and_reason(tmp_path: Path) -> None:
    """triggers.csv spells the exercise as id, name, pattern, rate, duration; reason as JSON."""
    fired = trigger("strap", 700.125)
    with SessionWriter(tmp_path) as writer:
        writer.write_triggers([fired])
    header, row = (tmp_path / "triggers.csv").read_text().splitlines()
    cells = dict(zip(header.split(","), row.split(",", 11), strict=True))
    assert cells["t_s"] == "700.125"
    assert cells["exercise_id"] == "box"
    assert cells["exercise_pattern"] == "inhale:4.0 hold:4.0 exhale:4.0 hold:4.0"
    assert cells["exercise_breaths_per_min"] == "3.75"
    assert cells["severity"] == "high"
    assert cells["reason"].startswith('"{""stress"":81.25,')


def test_outcomes_keep_verdict_and_figures(tmp_path: Path) -> None:
    """outcomes.csv reads back every Outcome field, the verdict as its enum."""
    fired = trigger("strap", 700.0)
    done = outcome(fired, 1000.0, Verdict.NO_CHANGE)
    write_session(tmp_path, [])
    with SessionWriter(tmp_path) as writer:
        writer.write_outcomes([done])
    assert (
        (tmp_path / "outcomes.csv")
        .read_text()
        .splitlines()[0]
        .startswith("trigger_id,device,rule,exercise_id,trigger_t_s,t_s,")
    )
    with SessionWriter(tmp_path) as writer:
        writer.write_triggers([fired])
    (session,) = read_session(tmp_path)
    assert session.outcomes == (done,)
    assert session.outcomes[0].verdict is Verdict.NO_CHANGE


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("inhale:4.0 hold", "inhale:4.0 breathe", r"line 2: column exercise_pattern: 'breathe'"),
        ('""stress"":81.25', '""stress"":""high""', r"line 2: column reason: expected a JSON"),
        (",high,", ",urgent,", r"line 2: column severity: 'urgent'"),
    ],
)
def test_bad_trigger_rows_name_line_and_column(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    """A damaged triggers.csv names the line and the column that cannot be read."""
    with SessionWriter(tmp_path) as writer:
        writer.write_triggers([trigger("strap", 700.0)])
    path = tmp_path / "triggers.csv"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    with pytest.raises(SessionFileError, match=message):
        read_triggers(path)


def test_missing_directory_is_named(tmp_path: Path) -> None:
    """Reading a session from a directory that does not exist says so, naming it."""
    with pytest.raises(SessionFileError, match=r"nowhere: not a session directory"):
        read_session(tmp_path / "nowhere")


def test_close_closes_every_file_past_a_full_disk(tmp_path: Path) -> None:
    """A table that cannot be flushed (its descriptor now writes to /dev/full) fails the
    close by name, and the other four files are closed all the same."""

    def open_here() -> dict[str, int]:
        found = {}
        for fd in Path("/proc/self/fd").iterdir():
            target = os.path.realpath(fd)
            if target.startswith(str(tmp_path)):
                found[Path(target).name] = int(fd.name)
        return found

    writer = SessionWriter(tmp_path / "s")
    assert len(open_here()) == 5
    full = os.open("/dev/full", os.O_WRONLY)
    os.dup2(full, open_here()["beats.csv"])
    os.close(full)
    with pytest.raises(OSError, match="No space left"):
        writer.write_beats(BeatBatch(device="a", t_s=np.array([1.0]), rr_ms=np.array([800.0])))
    with pytest.raises(SessionFileError, match=r"beats\.csv"):
        writer.close()
    assert open_here() == {}
