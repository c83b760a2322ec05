"""Feedback offline: the feedback.csv table, its place in the report, and ``vagus explain``."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from hrv import StreamEngine
from recommender import FeedbackResult, FeedbackStatus, FeedbackVerdict, default_config
from tests.offline.factories import calm_stress_session
from tests.pipeline.strategies import NOW_S, demo_beats
from vagus.baseline_store import BaselineStore
from vagus.cli import main
from vagus.events import Feedback
from vagus.pipeline import Emissions, Pipeline
from vagus.report import render_report
from vagus.session import FeedbackRecord, SessionWriter, read_session, write_session


def _result(trigger_id: str, status: FeedbackStatus = FeedbackStatus.APPLIED) -> FeedbackResult:
    changes = {"sustained-stress.level": 0.34} if status is FeedbackStatus.APPLIED else {}
    return FeedbackResult(
        device="strap",
        trigger_id=trigger_id,
        verdict=FeedbackVerdict.FALSE_ALARM,
        status=status,
        changes=changes,
    )


def test_feedback_table_round_trips(tmp_path: Path) -> None:
    """Feedback rows written by the daemon's writer read back exactly, per device; a whole
    session written and read again is unchanged."""
    session = calm_stress_session()
    with SessionWriter(tmp_path / "s") as writer:
        writer.write_beats(session.beats)
        writer.write_metrics(session.windows)
        writer.write_triggers(session.triggers)
        tid = session.triggers[0].id
        writer.write_feedback([_result(tid)], t_s=1000.5)
        writer.write_feedback([_result(tid, FeedbackStatus.DUPLICATE)], t_s=1001.25)
    (back,) = read_session(tmp_path / "s")
    assert [(f.t_s, f.status, f.verdict) for f in back.feedback] == [
        (1000.5, FeedbackStatus.APPLIED, FeedbackVerdict.FALSE_ALARM),
        (1001.25, FeedbackStatus.DUPLICATE, FeedbackVerdict.FALSE_ALARM),
    ]
    assert back.feedback[0].changed() == {"sustained-stress.level": 0.34}
    assert back.feedback[0].accepted
    assert not back.feedback[1].accepted
    write_session(tmp_path / "again", [back])
    (again,) = read_session(tmp_path / "again")
    assert again.feedback == back.feedback


def test_report_shows_feedback(tmp_path: Path) -> None:
    """The report has a feedback table naming the verdict, whether it was taken, what moved."""
    session = calm_stress_session()
    record = FeedbackRecord.of(_result(session.triggers[0].id), t_s=session.triggers[0].t_s + 60)
    page = render_report([dataclasses.replace(session, feedback=(record,))], title="t", version="0")
    section = page[page.index("<h3>Feedback</h3>") :]
    assert "false alarm" in section
    assert "applied" in section
    assert "sustained-stress.level → 0.34" in section
    empty = render_report([session], title="t", version="0")
    assert "No feedback in this session." in empty


def _state_with_false_alarm(state_dir: Path) -> str:
    """A state file as the daemon leaves it: the demo scenario, then a false alarm on its
    trigger; returns the device."""
    device = "demo-strap"
    pipeline = Pipeline(engine=StreamEngine(), rules=default_config())
    out = Emissions()
    beats = demo_beats(device)
    out.extend(pipeline.feed(beats, now=NOW_S))
    assert len(out.triggers) == 1
    answer = Feedback(device=device, verdict="false_alarm", t_s=float(beats.t_s[-1]))
    (result,) = pipeline.feed(answer, now=NOW_S).feedback
    assert result.accepted
    baselines = {d: pipeline.engine.baseline(d) for d in pipeline.devices}
    BaselineStore(state_dir / "baselines.json").save(
        {d: b for d, b in baselines.items() if b is not None}, pipeline.snapshot()
    )
    return device


def test_explain_shows_moved_threshold(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`vagus explain` reads the state file and shows the raised threshold, the ranking and
    the false alarm that moved it; --json says the same as data."""
    state_dir = tmp_path / "state"
    device = _state_with_false_alarm(state_dir)
    config = tmp_path / "config.toml"
    config.write_text(f'state_dir = "{state_dir}"\n')
    assert main(["explain", device, "--config", str(config)]) == 0
    text = capsys.readouterr().out
    assert f"device {device}" in text
    assert "baseline: RMSSD" in text
    assert "raised 0.34" in text  # the demo fires on sustained evidence: that path moved
    assert "false_alarm on " in text
    assert "exercises (mean" in text
    assert "own reference (rest, out of exercise and episodes): HR " in text
    assert "activity veto eased 0.00 by did_exercise feedback" in text
    assert main(["explain", device, "--config", str(config), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    rule = doc["explain"]["rules"]["sustained-stress"]
    assert max(rule["raise_level"], rule["raise_evidence"]) == pytest.approx(0.34, abs=0.01)
    assert rule["evidence"]["k"] > 1.0 or rule["raise_level"] > 0
    assert [f["verdict"] for f in doc["explain"]["feedback"]] == ["false_alarm"]


def test_explain_unknown_device_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A device the state file does not know: exit 2 and one line naming it."""
    config = tmp_path / "config.toml"
    config.write_text(f'state_dir = "{tmp_path / "state"}"\n')
    assert main(["explain", "nobody", "--config", str(config)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "'nobody'" in err[0]


def test_feedback_command_refuses_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad verdict, or a config without [mqtt], is one line and exit 2 (nothing sent)."""
    config = tmp_path / "config.toml"
    config.write_text(f'state_dir = "{tmp_path / "state"}"\n')
    assert main(["feedback", "strap", "great", "--config", str(config)]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "verdict 'great'" in line
    assert main(["feedback", "strap", "helpful", "--config", str(config)]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "[mqtt]" in line
