"""``vagus breathe`` end to end on a virtual strap and the real Mosquitto: terminal output,
session messages valid against their schema, the session saved and shown by ``vagus report``."""

from __future__ import annotations

import asyncio
import json
import stat
import sys
from pathlib import Path

import jsonschema
import pytest

from tests.mqtt.collector import collecting
from tests.servers import Mosquitto
from vagus.cli import main
from vagus.schemas import load_schema
from vagus.session import read_session

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _config(tmp_path: Path, mosquitto: Mosquitto) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""state_dir = "{tmp_path / "state"}"
[mqtt]
host = "127.0.0.1"
port = {mosquitto.port}
client_id = "vagus-breathe-{tmp_path.name}"
prefix = "bt"
""",
        encoding="utf-8",
    )
    return path


async def _breathe(config: Path, out: Path) -> tuple[int, str]:
    """Run ``vagus breathe`` (2 simulated minutes at 24x) as its own process."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "vagus.cli",
        "breathe",
        "--device",
        "sim",
        "--speed",
        "24",
        "--minutes",
        "2",
        "--config",
        str(config),
        "--out",
        str(out),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode == 0, stderr.decode()
    return proc.returncode, stdout.decode()


async def test_breathe_session_end_to_end(
    tmp_path: Path, mosquitto: Mosquitto, capsys: pytest.CaptureFixture[str]
) -> None:
    """The pacer and figures print every 5 s, every session message on bt/<device>/session
    validates, the summary arrives last, the session directory holds the updates, the
    person's record is kept (0600) and a second session is compared with the first."""
    config = _config(tmp_path, mosquitto)
    validator = jsonschema.Draft202012Validator(load_schema("session"))
    async with collecting(mosquitto.port, "bt/+/session") as collector:
        _, first = await _breathe(config, tmp_path / "one")
        messages = await collector.wait_for("/session", 25, timeout_s=20)
    lines = first.splitlines()
    pacer_lines = [line for line in lines if line.startswith("5.5/min")]
    assert len(pacer_lines) == 24  # one per 5 s over 2 minutes
    assert all(("inhale" in line or "exhale" in line) and "left" in line for line in pacer_lines)
    assert "coherence" in pacer_lines[-1]
    assert "HR -" not in pacer_lines[-1]
    summary_line = next(line for line in lines if line.startswith("summary:"))
    assert "2.0 min at 5.5/min" in summary_line
    assert "first session" in first

    docs = [json.loads(m.payload) for m in messages]
    for doc in docs:
        validator.validate(doc)
    assert {m.topic for m in messages} == {"bt/breathe-strap/session"}
    assert [d["kind"] for d in docs] == ["update"] * 24 + ["summary"]
    last = docs[-2]
    assert last["pacer"]["rate_bpm"] == pytest.approx(60 / 11)
    assert last["coherence"] > 1.0  # following the pacer at resonance: coherent
    assert docs[-1]["high_coherence_s"] > 0

    (session,) = read_session(tmp_path / "one")
    assert len(session.breathing) == 24
    assert len(session.windows) > 0
    record = tmp_path / "state" / "biofeedback" / "breathe-strap.json"
    assert stat.S_IMODE(record.stat().st_mode) == 0o600

    _, second = await _breathe(config, tmp_path / "two")
    assert "vs. your last 1:" in second
    assert main(["report", str(tmp_path / "one"), "-o", str(tmp_path / "r.html")]) == 0
    capsys.readouterr()
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Breathing session" in page
    assert 'data-chart="Coherence"' in page
