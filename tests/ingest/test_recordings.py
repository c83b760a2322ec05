"""Recording import: each export format gives the same beats; bad files name file, line, reason."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from hrv import sliding_windows
from ingest.recordings import RecordingError, RecordingFormat, detect_format, read_recording

FORMATS = Path(__file__).parents[1] / "data" / "formats"
RR = [859, 867, 883, 805, 852, 953, 1078, 883, 867, 953, 1031, 930, 828, 820, 844, 906, 883, 812]
RR += [883, 1055]
START = datetime(2024, 3, 15, 7, 30, 0, 250000, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("polar_sensor_logger_RR.txt", RecordingFormat.POLAR_SENSOR_LOGGER),
        ("hrv_logger_RR.csv", RecordingFormat.HRV_LOGGER),
        ("openhrv.csv", RecordingFormat.OPENHRV),
        ("elite_hrv.txt", RecordingFormat.ELITE_HRV),
        ("plain_two_devices.csv", RecordingFormat.PLAIN),
        ("unknown.csv", None),
    ],
)
def test_format_is_detected_from_the_first_line(name: str, fmt: RecordingFormat | None) -> None:
    """Each sample's first line is recognised as its format; an unknown header as None."""
    first = (FORMATS / name).read_text().splitlines()[0]
    assert detect_format(first) is fmt


@pytest.mark.parametrize(
    ("name", "first_t_s"),
    [
        ("polar_sensor_logger_RR.txt", START),
        ("hrv_logger_RR.csv", START),
        ("openhrv.csv", START + 0.037),
        ("elite_hrv.txt", RR[0] / 1000),
    ],
)
def test_every_format_gives_the_same_beats(name: str, first_t_s: float) -> None:
    """The 20 RR come back from each format, beats one RR apart from the right first time."""
    batch = read_recording(FORMATS / name)
    assert batch.device == Path(name).stem
    np.testing.assert_array_equal(batch.rr_ms, RR)
    assert batch.t_s[0] == pytest.approx(first_t_s, abs=1e-6)
    np.testing.assert_allclose(np.diff(batch.t_s), np.array(RR[1:]) / 1000, atol=1e-6)
    assert not batch.gap.any()


def test_plain_csv_with_devices_picks_one() -> None:
    """A plain CSV with two devices gives the chosen one's beats with the file's t_s."""
    chest = read_recording(FORMATS / "plain_two_devices.csv", device="chest")
    wrist = read_recording(FORMATS / "plain_two_devices.csv", device="wrist")
    assert (chest.device, wrist.device) == ("chest", "wrist")
    np.testing.assert_array_equal(chest.rr_ms, RR[:10])
    np.testing.assert_array_equal(wrist.rr_ms, np.array(RR[:10]) + 5)
    np.testing.assert_allclose(wrist.t_s - chest.t_s, 0.2, atol=1e-6)
    with pytest.raises(RecordingError, match="several devices"):
        read_recording(FORMATS / "plain_two_devices.csv")
    with pytest.raises(RecordingError, match="no beats of device 'ankle'"):
        read_recording(FORMATS / "plain_two_devices.csv", device="ankle")


def test_real_recording_without_times_aligns_with_sliding_windows(data_dir: Path) -> None:
    """pyhrv_short_5min.csv: 337 beats at cumulative RR; windows equal the engine's own timing."""
    batch = read_recording(data_dir / "pyhrv_short_5min.csv")
    assert len(batch) == 337
    assert batch.device == "pyhrv_short_5min"
    np.testing.assert_allclose(batch.t_s, np.cumsum(batch.rr_ms) / 1000.0)
    ours = sliding_windows(batch.rr_ms, t_s=batch.t_s)
    engine = sliding_windows(batch.rr_ms)
    np.testing.assert_array_equal(ours.t_end_s, engine.t_end_s)
    np.testing.assert_array_equal(ours.rmssd_ms, engine.rmssd_ms)


@pytest.mark.parametrize(
    ("name", "line", "reason"),
    [
        ("unknown.csv", 1, "unknown format"),
        ("bad_rr.csv", 5, "RR 'abc' is not a number"),
        ("polar_bad_time.txt", 3, "time 'yesterday' is not an ISO 8601 time"),
        ("plain_not_increasing.csv", 4, "beat time does not increase"),
    ],
)
def test_bad_files_name_file_line_and_reason(name: str, line: int, reason: str) -> None:
    """Errors carry the file, the 1-based line and the reason, and say them in the message."""
    with pytest.raises(RecordingError) as info:
        read_recording(FORMATS / name)
    err = info.value
    assert err.file == str(FORMATS / name)
    assert err.line == line
    assert reason in err.reason
    assert f"{FORMATS / name}, line {line}: " in str(err)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty file"),
        ("rr_ms\n", "no beats"),
        ("rr_ms\n800\n-5\n", "outside"),
        ("rr_ms,t_s\n800\n", "expected 2 columns"),
    ],
)
def test_edge_cases_are_recording_errors(tmp_path: Path, text: str, reason: str) -> None:
    """Empty files, headers without beats, negative RR and short rows are refused."""
    path = tmp_path / "r.csv"
    path.write_text(text)
    with pytest.raises(RecordingError, match=reason):
        read_recording(path)


def test_missing_file_is_a_recording_error(tmp_path: Path) -> None:
    """A file that cannot be read is a RecordingError naming it."""
    with pytest.raises(RecordingError, match="cannot read"):
        read_recording(tmp_path / "absent.csv")
