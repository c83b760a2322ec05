"""``vagus resonance``: the per-rate table and last line from a recording, non-adherence,
bad input as one line, and a live run on a virtual strap storing the rate (0600)."""

from __future__ import annotations

import csv
import json
import stat
from pathlib import Path

import pytest

from simulators import simulate
from simulators.assessment import DEFAULT_SCHEDULE, assessment, draw_breather
from simulators.breathing import Adherence
from vagus.biofeedback_store import BiofeedbackStore
from vagus.cli import main
from vagus.privacy import Pseudonyms, read_key

SCHEDULE = "6.5:120,6.0:120,5.5:120,5.0:120,4.5:120"


def _recording(path: Path, *, rate_bpm: float, seed: int, adherence: Adherence) -> Path:
    person = draw_breather(seed, rate_bpm=rate_bpm)
    sim = simulate(assessment(person, adherence=[adherence] * len(DEFAULT_SCHEDULE)))
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["t_s", "rr_ms"])
        writer.writerows(zip(sim.t_s.tolist(), sim.rr_ms.tolist(), strict=True))
    return path


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'state_dir = "{tmp_path / "state"}"\n', encoding="utf-8")
    return path


def test_recording_prints_a_row_per_rate_and_the_rate_last(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A follower with resonance 5.0/min: five rows, all followed, last line the rate; with
    --person the rate is stored for that person, mode 0600."""
    rec = _recording(tmp_path / "p.csv", rate_bpm=5.0, seed=31, adherence=Adherence.FOLLOWS)
    args = ["resonance", "--recording", str(rec), "--schedule", SCHEDULE, "--start", "0"]
    code = main([*args, "--person", "ana", "--config", str(_config(tmp_path))])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    rows = [line for line in lines if line.strip()[:3] in {"6.5", "6.0", "5.5", "5.0", "4.5"}]
    assert len(rows) == 5
    assert all(row.endswith("yes") for row in rows)
    assert lines[-1] in {"resonance: 4.5 breaths/min", "resonance: 5.0 breaths/min",
                         "resonance: 5.5 breaths/min"}  # fmt: skip
    stored = tmp_path / "state" / "biofeedback" / "ana.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert json.loads(stored.read_text())["resonance"]["rate_bpm"] == float(lines[-1].split()[1])


def test_a_recording_that_ignores_the_pacer_is_flagged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Breathing at one's own rate: rates marked NOT FOLLOWED, no rate chosen, exit 1."""
    rec = _recording(tmp_path / "q.csv", rate_bpm=5.5, seed=32, adherence=Adherence.OWN_RATE)
    code = main(["resonance", "--recording", str(rec), "--schedule", SCHEDULE])
    lines = capsys.readouterr().out.splitlines()
    assert code == 1
    assert sum("NOT FOLLOWED" in line for line in lines) >= 4
    assert lines[-1].startswith("resonance: none")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--schedule", "6.5:120,fast"], "--schedule: 'fast' is not RATE:SECONDS"),
        (["--schedule", "6.5:120", "--settle", "200"], "--settle 200.0"),
        (["--person", "../x"], "person '../x'"),
    ],
)
def test_bad_input_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    """A bad schedule, settle or person name: one line naming it, exit 2, no traceback."""
    rec = _recording(tmp_path / "p.csv", rate_bpm=5.0, seed=33, adherence=Adherence.FOLLOWS)
    code = main(["resonance", "--recording", str(rec), *args])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_unreadable_recording(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A recording that is not one: the importer's one-line reason, exit 2."""
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\x00\x01garbage")
    assert main(["resonance", "--recording", str(bad)]) == 2
    assert "bad.csv" in capsys.readouterr().err


@pytest.mark.slow
def test_live_protocol_on_a_virtual_strap(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The shipped assessment scenario (resonance 5.5/min) played at 250x: the pacer shows each
    rate, 5.5 is chosen within ±0.5 and stored for the strap."""
    code = main(["resonance", "--speed", "250", "--config", str(_config(tmp_path))])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    assert any(line.startswith("6.5/min settle") for line in lines)
    assert any(line.startswith("4.5/min") for line in lines)
    chosen = float(lines[-1].split()[1])
    assert abs(chosen - 5.5) <= 0.5
    stored = tmp_path / "state" / "biofeedback" / "resonance-strap.json"
    assert json.loads(stored.read_text())["resonance"]["rate_bpm"] == chosen


@pytest.mark.slow
def test_live_rate_is_stored_under_the_daemons_pseudonym(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With [privacy] pseudonymise the strap's id is its pseudonym, as in the daemon: the rate
    is stored under it (never the real name), where the daemon looks it up."""
    key_file = tmp_path / "pseudonym.key"
    key_file.write_bytes(bytes(range(32)))
    key_file.chmod(0o600)
    config = _config(tmp_path)
    config.write_text(
        config.read_text() + f'[privacy]\npseudonymise = true\nsalt_file = "{key_file}"\n'
    )
    assert main(["resonance", "--speed", "250", "--config", str(config)]) == 0
    chosen = float(capsys.readouterr().out.splitlines()[-1].split()[1])
    alias = Pseudonyms(read_key(key_file), tmp_path / "state")("resonance-strap")
    stored = {p.stem for p in (tmp_path / "state" / "biofeedback").glob("*.json")}
    assert stored == {alias}
    assert BiofeedbackStore(tmp_path / "state").resonance_rates() == {alias: chosen}


def test_no_bluetooth_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A strap named while no system D-Bus answers: one line saying so, exit 2, no traceback."""
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", f"unix:path={tmp_path / 'no-bus'}")
    config = str(_config(tmp_path))
    assert main(["resonance", "--device", "C0:FF:EE:00:00:09", "--config", config]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vagus resonance: Bluetooth unavailable")
    assert len(err.strip().splitlines()) == 1
