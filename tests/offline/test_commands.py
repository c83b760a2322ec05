"""``vagus replay`` and ``vagus report`` end to end, through the command line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hrv import METRIC_COLUMNS, sliding_windows
from tests.offline.html_check import outline
from vagus.cli import main
from vagus.session import read_metrics, read_session


def test_replay_gives_exactly_sliding_windows(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`vagus replay pyhrv_long_60min.csv` writes exactly sliding_windows' windows."""
    out = tmp_path / "session"
    assert main(["replay", str(data_dir / "pyhrv_long_60min.csv"), "--out", str(out)]) == 0
    rr_ms = np.loadtxt(data_dir / "pyhrv_long_60min.csv", skiprows=1)
    table = sliding_windows(rr_ms)
    (windows,) = read_metrics(out / "metrics.csv").values()
    assert len(windows) == len(table)
    for name in METRIC_COLUMNS:
        written = np.array([getattr(w, name) for w in windows])
        np.testing.assert_array_equal(written, table.column(name), err_msg=name)
    assert sorted(p.name for p in out.iterdir()) == [
        "beats.csv",
        "feedback.csv",
        "metrics.csv",
        "outcomes.csv",
        "triggers.csv",
    ]
    assert capsys.readouterr().out == (
        f"pyhrv_long_60min.csv: 4684 beats, 719 windows, 0 triggers, 0 outcomes -> {out}\n"
    )


def test_several_files_get_one_subdirectory_each(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --out, several recordings go to ./vagus-replay/<stem>, a repeated stem numbered."""
    monkeypatch.chdir(tmp_path)
    short = str(data_dir / "pyhrv_short_5min.csv")
    assert main(["replay", short, short]) == 0
    dirs = sorted(p.name for p in (tmp_path / "vagus-replay").iterdir())
    assert dirs == ["pyhrv_short_5min", "pyhrv_short_5min-2"]
    (session,) = read_session(tmp_path / "vagus-replay" / "pyhrv_short_5min-2")
    assert len(session.beats) == 337


def test_one_file_defaults_to_a_directory_named_after_it(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --out, one recording goes to ./vagus-replay-<stem>."""
    monkeypatch.chdir(tmp_path)
    assert main(["replay", str(data_dir / "pyhrv_short_5min.csv")]) == 0
    assert (tmp_path / "vagus-replay-pyhrv_short_5min" / "metrics.csv").is_file()


def test_config_sets_window_and_step(data_dir: Path, tmp_path: Path) -> None:
    """--config takes window_s and step_s from the config's [engine] table."""
    config = tmp_path / "vagus.toml"
    config.write_text("[engine]\nwindow_s = 120.0\nstep_s = 30.0\n")
    out = tmp_path / "session"
    short = str(data_dir / "pyhrv_short_5min.csv")
    assert main(["replay", short, "--out", str(out), "--config", str(config)]) == 0
    (windows,) = read_metrics(out / "metrics.csv").values()
    rr_ms = np.loadtxt(data_dir / "pyhrv_short_5min.csv", skiprows=1)
    table = sliding_windows(rr_ms, window_s=120.0, step_s=30.0)
    np.testing.assert_array_equal([w.t_end_s for w in windows], table.t_end_s)
    np.testing.assert_array_equal([w.sdnn_ms for w in windows], table.sdnn_ms)


@pytest.mark.parametrize("command", ["replay", "report"])
def test_bad_recording_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    """A recording with a bad row: exit 2 and one line naming file, line and reason."""
    bad = tmp_path / "bad.csv"
    bad.write_text("rr_ms\n800\n812\nlots\n790\n")
    assert (
        main([command, str(bad), "-o" if command == "report" else "--out", str(tmp_path / "x")])
        == 2
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"vagus {command}: {bad}, line 4: ")
    assert "Traceback" not in err


def test_bad_session_file_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A session directory with a damaged metrics.csv: exit 2, the file and line named."""
    (tmp_path / "beats.csv").write_text("device,t_s,rr_ms,gap\na,0.8,800.0,0\n")
    (tmp_path / "metrics.csv").write_text("device,t_end_s\na,5.0\n")
    assert main(["report", str(tmp_path), "-o", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"vagus report: {tmp_path / 'metrics.csv'}, line 1: missing column(s) ")
    assert err.count("\n") == 1


def test_report_of_a_directory_and_of_its_recording_agree(data_dir: Path, tmp_path: Path) -> None:
    """Reporting the replayed directory and the recording itself give the same sections."""
    recording = data_dir / "pyhrv_short_5min.csv"
    session_dir = tmp_path / "pyhrv_short_5min"
    assert main(["replay", str(recording), "--out", str(session_dir)]) == 0
    from_dir, from_file = tmp_path / "dir.html", tmp_path / "file.html"
    assert main(["report", str(session_dir), "-o", str(from_dir)]) == 0
    assert main(["report", str(recording), "-o", str(from_file)]) == 0
    page = from_dir.read_text()
    assert page == from_file.read_text()
    found = outline(page)
    assert found.errors == []
    assert found.devices == ["pyhrv_short_5min"]
    assert found.charts == ["RR tachogram", "Heart rate", "RMSSD", "Stress"]
    assert "337" in " ".join(found.text)


def test_report_defaults_to_a_page_named_after_the_source(
    data_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Without -o the page is ./vagus-report-<name>.html, and its path is printed."""
    monkeypatch.chdir(tmp_path)
    assert main(["report", str(data_dir / "pyhrv_short_5min.csv")]) == 0
    assert (tmp_path / "vagus-report-pyhrv_short_5min.html").is_file()
    assert capsys.readouterr().out == "vagus-report-pyhrv_short_5min.html\n"
