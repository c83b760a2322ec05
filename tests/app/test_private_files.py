"""Every file Vagus writes is 0600 and every directory it creates 0700, whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from hrv import Baseline
from vagus.baseline_store import BaselineStore
from vagus.cli import main
from vagus.influx.spool import Spool
from vagus.mqtt import JournalEntry, TriggerJournal
from vagus.private_files import private_dir, private_opener
from vagus.session import SessionWriter


@pytest.fixture(params=[0o022, 0o002, 0o000], ids=lambda m: f"umask {m:03o}")
def permissive_umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """A umask that would leave files readable by others; the previous one is restored."""
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def assert_private_tree(top: Path) -> None:
    """``top`` and every directory below it are 0700, every file 0600."""
    assert mode(top) == 0o700, top
    for path in top.rglob("*"):
        assert mode(path) == (0o700 if path.is_dir() else 0o600), path


@pytest.mark.usefixtures("permissive_umask")
def test_private_dir_makes_every_new_level_0700(tmp_path: Path) -> None:
    """Parents created on the way are 0700 too; an existing directory is left alone."""
    tmp_path.chmod(0o755)
    leaf = private_dir(tmp_path / "a" / "b" / "c")
    assert leaf.is_dir()
    assert_private_tree(tmp_path / "a")
    assert mode(tmp_path) == 0o755
    assert private_dir(leaf) == leaf  # existing: fine


def test_private_dir_refuses_a_file(tmp_path: Path) -> None:
    """A file where the directory should be is `NotADirectoryError`, as with ``mkdir -p``."""
    (tmp_path / "f").write_text("")
    with pytest.raises(NotADirectoryError):
        private_dir(tmp_path / "f")


@pytest.mark.usefixtures("permissive_umask")
def test_private_opener_creates_0600_and_tightens_existing(tmp_path: Path) -> None:
    """A new file is 0600; an existing 0644 file reopened for writing becomes 0600."""
    with open(tmp_path / "new", "w", opener=private_opener) as file:
        file.write("x")
    assert mode(tmp_path / "new") == 0o600
    old = tmp_path / "old"
    old.write_text("x")
    old.chmod(0o644)
    with open(old, "a", opener=private_opener) as file:
        file.write("y")
    assert mode(old) == 0o600
    assert old.read_text() == "xy"


@pytest.mark.usefixtures("permissive_umask")
def test_mqtt_journal_and_its_rewrite_are_private(tmp_path: Path) -> None:
    """The state dir, mqtt-journal.jsonl and the file its compaction renames over it."""
    state = tmp_path / "state"
    journal = TriggerJournal(state / "mqtt-journal.jsonl", compact_lines=1)
    assert_private_tree(state)  # the first rewrite (tmp file renamed) happened on open
    journal.put(JournalEntry(id="a", topic="vagus/d/trigger", payload=b"{}"))
    journal.ack("a")  # compacts: a new tmp file replaces the journal
    assert_private_tree(state)
    assert [p.name for p in state.iterdir()] == ["mqtt-journal.jsonl"]


@pytest.mark.usefixtures("permissive_umask")
def test_legacy_world_readable_journal_is_tightened(tmp_path: Path) -> None:
    """A journal left 0644 by an earlier version is rewritten 0600 on open."""
    path = tmp_path / "mqtt-journal.jsonl"
    path.write_text("")
    path.chmod(0o644)
    TriggerJournal(path)
    assert mode(path) == 0o600


@pytest.mark.usefixtures("permissive_umask")
def test_influx_spool_is_private(tmp_path: Path) -> None:
    """The spool dir, its segments, cursor and dead letters."""
    directory = tmp_path / "state" / "influx-spool"
    spool = Spool(directory, cap_bytes=10_000, segment_bytes=20)
    spool.append(["m v=1 1", "m v=2 2"])
    spool.append(["m v=3 3"])
    chunk = spool.peek(1)
    assert chunk is not None
    spool.commit(chunk)
    spool.dead_letter(["m v=4 4"], status=400, detail="bad")
    names = {p.name for p in directory.iterdir()}
    assert {"cursor", "deadletter.lp"} <= names
    assert any(name.endswith(".lp") and name[0].isdigit() for name in names)
    assert_private_tree(tmp_path / "state")


@pytest.mark.usefixtures("permissive_umask")
def test_torn_spool_segment_stays_private(tmp_path: Path) -> None:
    """Cutting a torn tail on open keeps the segment 0600."""
    Spool(tmp_path / "s", cap_bytes=10_000).append(["m v=1 1"])
    (segment,) = (tmp_path / "s").glob("0*.lp")
    with segment.open("ab") as file:
        file.write(b"m v=")
    Spool(tmp_path / "s", cap_bytes=10_000)
    assert_private_tree(tmp_path / "s")


@pytest.mark.usefixtures("permissive_umask")
def test_session_files_are_private(tmp_path: Path) -> None:
    """beats, feedback, metrics, triggers and outcomes .csv, and the directories created for
    them."""
    top = tmp_path / "sessions"
    with SessionWriter(top / "today"):
        pass
    with SessionWriter(top / "today"):  # continued
        pass
    assert sorted(p.name for p in (top / "today").iterdir()) == [
        "beats.csv",
        "feedback.csv",
        "metrics.csv",
        "outcomes.csv",
        "triggers.csv",
    ]
    assert_private_tree(top)


@pytest.mark.usefixtures("permissive_umask")
def test_baselines_are_private(tmp_path: Path) -> None:
    """baselines.json (written through a temporary file) and its directory."""
    state = tmp_path / "state"
    store = BaselineStore(state / "baselines.json")
    store.save({"d": Baseline(ln_rmssd=3.9, hr_bpm=58.0, weight_s=7200.0)})
    store.save({"d": Baseline(ln_rmssd=3.8, hr_bpm=57.0, weight_s=7300.0)})
    assert [p.name for p in state.iterdir()] == ["baselines.json"]
    assert_private_tree(state)
    assert store.load()["d"].hr_bpm == 57.0


@pytest.mark.usefixtures("permissive_umask")
def test_replay_and_report_outputs_are_private(data_dir: Path, tmp_path: Path) -> None:
    """`vagus replay --out` files and the page of `vagus report -o` are 0600."""
    out = tmp_path / "replayed"
    assert main(["replay", str(data_dir / "pyhrv_short_5min.csv"), "--out", str(out)]) == 0
    assert_private_tree(out)
    page = tmp_path / "page.html"
    assert main(["report", str(out), "-o", str(page)]) == 0
    assert mode(page) == 0o600
