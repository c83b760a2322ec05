"""Whole sessions: triggers and outcomes flattened to CSV and read back, several devices."""

from __future__ import annotations

import errno
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

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


def test_a_batch_failing_mid_row_leaves_no_torn_row(tmp_path: Path) -> None:
    """A file size limit (RLIMIT_FSIZE, the kernel's EFBIG: a full disk in miniature) hit
    part-way through a batch of beats: that batch raises and is cut off whole, and the
    batches before and after read back as a valid session."""
    script = f"""
import resource, signal
from pathlib import Path
import numpy as np
from hrv import BeatBatch
from vagus.session import SessionWriter

def beats(first, n):
    t = first + 0.8 * np.arange(n)
    return BeatBatch(device="a", t_s=t, rr_ms=np.full(n, 800.0))

with SessionWriter(Path({str(tmp_path / "s")!r})) as writer:
    writer.write_beats(beats(1000.0, 10))
    size = Path({str(tmp_path / "s" / "beats.csv")!r}).stat().st_size
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size + 50, hard))
    try:
        writer.write_beats(beats(1008.0, 100))
    except OSError as exc:
        print("refused", exc.errno)
    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    writer.write_beats(beats(1100.0, 5))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.split() == ["refused", str(errno.EFBIG)]
    (session,) = read_session(tmp_path / "s")
    np.testing.assert_allclose(
        session.beats.t_s, np.r_[1000.0 + 0.8 * np.arange(10), 1100.0 + 0.8 * np.arange(5)]
    )
