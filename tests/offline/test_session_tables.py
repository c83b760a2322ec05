"""Session CSV tables: exact round trips, appending, and errors that name file and line."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hrv import BeatBatch, Quality, WindowMetrics
from tests.offline.factories import same_repr, window
from vagus.errors import UserError
from vagus.session import SessionFileError, SessionWriter, read_beats, read_metrics
from vagus.session._cells import float_cell, parse_float


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_float_cells_round_trip_exactly(value: float) -> None:
    """Any double, NaN and infinities included, reads back bit for bit from its cell."""
    back = parse_float(float_cell(value))
    assert (math.isnan(value) and math.isnan(back)) or back.hex() == value.hex()


def test_float_cell_of_numpy_scalar_is_plain_number() -> None:
    """A numpy float64 is written as a plain number, not as ``np.float64(...)``."""
    assert float_cell(np.float64(0.1)) == "0.1"


def test_beats_round_trip_per_device(tmp_path: Path) -> None:
    """Beats of two devices, appended in batches, read back as one exact batch per device."""
    rng = np.random.default_rng(1)
    rr_a = rng.uniform(400, 1200, 50)
    rr_b = rng.uniform(400, 1200, 30)
    t_a = 1.7e9 + np.cumsum(rr_a) / 1000
    t_b = 1.7e9 + np.cumsum(rr_b) / 1000
    gap_a = np.zeros(50, dtype=bool)
    gap_a[17] = True
    with SessionWriter(tmp_path) as writer:
        writer.write_beats(BeatBatch(device="a", t_s=t_a[:20], rr_ms=rr_a[:20], gap=gap_a[:20]))
        writer.write_beats(BeatBatch(device="b", t_s=t_b, rr_ms=rr_b))
        writer.write_beats(BeatBatch(device="a", t_s=t_a[20:], rr_ms=rr_a[20:], gap=gap_a[20:]))
    beats = read_beats(tmp_path / "beats.csv")
    assert list(beats) == ["a", "b"]
    np.testing.assert_array_equal(beats["a"].t_s, t_a)
    np.testing.assert_array_equal(beats["a"].rr_ms, rr_a)
    np.testing.assert_array_equal(beats["a"].gap, gap_a)
    np.testing.assert_array_equal(beats["b"].rr_ms, rr_b)
    assert not beats["b"].gap.any()


def test_writer_flushes_each_batch(tmp_path: Path) -> None:
    """A reader sees every appended batch while the writer is still open (daemon use)."""
    writer = SessionWriter(tmp_path)
    try:
        writer.write_metrics([window("strap", 60.0)])
        assert len(read_metrics(tmp_path / "metrics.csv")["strap"]) == 1
        writer.write_metrics([window("strap", 65.0), window("strap", 70.0)])
        assert len(read_metrics(tmp_path / "metrics.csv")["strap"]) == 3
    finally:
        writer.close()


def test_metrics_round_trip_with_nan_and_quality(tmp_path: Path) -> None:
    """Windows with NaN figures, baselines and every quality read back identical."""
    windows = [
        window("strap", 5.0 * i, quality=quality, rmssd_ms=float("nan"), hr_z=-1.0 / 3)
        for i, quality in enumerate(Quality)
    ]
    windows.append(window("other", 1.0, baseline_ln_rmssd=3.7, baseline_hr_bpm=61.25))
    with SessionWriter(tmp_path) as writer:
        writer.write_metrics(windows)
    back = read_metrics(tmp_path / "metrics.csv")
    assert [*back] == ["strap", "other"]
    assert all(map(same_repr, [*back["strap"], *back["other"]], windows))


def test_metrics_header_is_window_metrics_fields(tmp_path: Path) -> None:
    """metrics.csv's header is exactly the WindowMetrics fields, in order."""
    SessionWriter(tmp_path).close()
    header = (tmp_path / "metrics.csv").read_text().splitlines()[0].split(",")
    assert header == list(WindowMetrics.__dataclass_fields__)


def test_reopening_continues_and_truncate_restarts(tmp_path: Path) -> None:
    """A writer reopened on a session appends; with truncate=True it starts afresh."""
    with SessionWriter(tmp_path) as writer:
        writer.write_metrics([window("strap", 60.0)])
    with SessionWriter(tmp_path) as writer:
        writer.write_metrics([window("strap", 65.0)])
    assert [w.t_end_s for w in read_metrics(tmp_path / "metrics.csv")["strap"]] == [60.0, 65.0]
    with SessionWriter(tmp_path, truncate=True) as writer:
        writer.write_metrics([window("strap", 70.0)])
    assert [w.t_end_s for w in read_metrics(tmp_path / "metrics.csv")["strap"]] == [70.0]


def test_appending_to_foreign_header_is_refused(tmp_path: Path) -> None:
    """An existing beats.csv with another header is not appended to: the error names it."""
    (tmp_path / "beats.csv").write_text("time,rr\n1,800\n")
    with pytest.raises(SessionFileError, match=r"beats\.csv, line 1: header time,rr differs"):
        SessionWriter(tmp_path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("device,t_s,rr_ms,gap\na,1.0,800.0,0\na,2.0,eight,0\n", r"line 3: column rr_ms: 'eight'"),
        ("device,t_s,rr_ms,gap\na,1.0,800.0,0\na,2.0,800.0\n", r"line 3: 3 cells, expected 4"),
        ("device,t_s,rr_ms\na,1.0,800.0\n", r"line 1: missing column\(s\) gap"),
        ("device,t_s,rr_ms,gap\n,1.0,800.0,0\n", r"line 2: column device: empty text"),
        ("device,t_s,rr_ms,gap\na,1.0,800.0,maybe\n", r"line 2: column gap: 'maybe' is not 0"),
        ("", r"beats\.csv: empty file"),
    ],
)
def test_bad_beats_files_name_line_and_reason(tmp_path: Path, text: str, message: str) -> None:
    """A malformed beats.csv raises a UserError naming the file, the line and the reason."""
    path = tmp_path / "beats.csv"
    path.write_text(text)
    with pytest.raises(UserError, match=message) as caught:
        read_beats(path)
    assert isinstance(caught.value, SessionFileError)
    assert caught.value.path == path


def test_bad_quality_names_column(tmp_path: Path) -> None:
    """An unknown quality verdict in metrics.csv names the line and the column."""
    with SessionWriter(tmp_path) as writer:
        writer.write_metrics([window("strap", 60.0)])
    path = tmp_path / "metrics.csv"
    path.write_text(path.read_text().replace(",ok,", ",great,"))
    with pytest.raises(SessionFileError, match=r"line 2: column quality: 'great'"):
        read_metrics(path)


def test_missing_file_is_a_user_error(tmp_path: Path) -> None:
    """A session file that does not exist is a one-line error naming it."""
    with pytest.raises(SessionFileError, match=r"metrics\.csv: No such file"):
        read_metrics(tmp_path / "metrics.csv")
