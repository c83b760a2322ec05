"""The persisted trigger queue: survives restarts and torn writes, acks, bounds, compaction."""

from __future__ import annotations

import errno
import subprocess
import sys
from pathlib import Path

import pytest

from vagus.mqtt import JournalCorruptError, JournalEntry, TriggerJournal, TriggerQueueFullError


def entry(i: int) -> JournalEntry:
    return JournalEntry(id=f"id-{i}", topic=f"vagus/d/trigger{i}", payload=b'{"n":%d}' % i)


def test_pending_survives_reopen_in_order(tmp_path: Path) -> None:
    """Unacked puts come back after a restart, oldest first; acked ones do not."""
    path = tmp_path / "q.jsonl"
    journal = TriggerJournal(path)
    for i in range(4):
        journal.put(entry(i))
    journal.ack("id-1")
    again = TriggerJournal(path)
    assert [e.id for e in again.pending()] == ["id-0", "id-2", "id-3"]
    assert again.pending()[1] == entry(2)


def test_put_is_idempotent_per_id(tmp_path: Path) -> None:
    """Putting a pending id again keeps one copy (replays give the same ids)."""
    journal = TriggerJournal(tmp_path / "q.jsonl")
    journal.put(entry(1))
    journal.put(entry(1))
    assert len(journal) == 1


def test_torn_last_line_is_ignored_and_counted(tmp_path: Path) -> None:
    """A crash mid-write leaves a partial last line: it is dropped, the rest kept."""
    path = tmp_path / "q.jsonl"
    journal = TriggerJournal(path)
    journal.put(entry(1))
    with path.open("a") as out:
        out.write('{"op":"put","id":"id-2","top')
    again = TriggerJournal(path)
    assert [e.id for e in again.pending()] == ["id-1"]
    assert again.torn_lines == 1


def test_corrupt_middle_line_raises(tmp_path: Path) -> None:
    """Garbage before valid lines is not a torn write: it raises with the line number."""
    path = tmp_path / "q.jsonl"
    path.write_text('garbage\n{"op":"ack","id":"x"}\n')
    with pytest.raises(JournalCorruptError, match=r"q\.jsonl:1"):
        TriggerJournal(path)


def test_full_queue_refuses_instead_of_dropping(tmp_path: Path) -> None:
    """At max_pending a put raises; nothing already queued is lost."""
    journal = TriggerJournal(tmp_path / "q.jsonl", max_pending=2)
    journal.put(entry(1))
    journal.put(entry(2))
    with pytest.raises(TriggerQueueFullError, match="limit 2"):
        journal.put(entry(3))
    assert [e.id for e in journal.pending()] == ["id-1", "id-2"]


def test_compacts_when_drained(tmp_path: Path) -> None:
    """Once everything is acked and the file is long, it is rewritten empty."""
    path = tmp_path / "q.jsonl"
    journal = TriggerJournal(path, compact_lines=10)
    for i in range(5):
        journal.put(entry(i))
        journal.ack(f"id-{i}")
    assert path.read_text() == ""
    journal.put(entry(9))
    assert len(path.read_text().splitlines()) == 1


def test_put_failing_mid_line_leaves_no_torn_line(tmp_path: Path) -> None:
    """A file size limit (RLIMIT_FSIZE, the kernel's EFBIG: a full disk in miniature) hit
    part-way through a put: the put raises, the part written is cut off, and later puts
    leave a journal that opens with every pending entry (not `JournalCorruptError`)."""
    path = tmp_path / "q.jsonl"
    TriggerJournal(path).put(entry(1))
    script = f"""
import resource, signal
from pathlib import Path
from vagus.mqtt import JournalEntry, TriggerJournal
journal = TriggerJournal(Path({str(path)!r}))
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, ({path.stat().st_size} + 20, hard))
try:
    journal.put(JournalEntry(id="big", topic="vagus/d/trigger", payload=b"x" * 200))
except OSError as exc:
    print("refused", exc.errno)
resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
journal.put(JournalEntry(id="id-2", topic="vagus/d/trigger2", payload=b"{{}}"))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.split() == ["refused", str(errno.EFBIG)]
    again = TriggerJournal(path)
    assert [e.id for e in again.pending()] == ["id-1", "id-2"]
    assert again.torn_lines == 0
