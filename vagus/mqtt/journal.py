"""The persisted queue of must-deliver messages (triggers, outcomes): append-only JSONL with acks.

Each line is ``{"op": "put", "id", "topic", "payload"}`` or ``{"op": "ack", "id"}``.
A put is fsync'ed before `TriggerJournal.put` returns, so a trigger survives a
crash or power cut; a message is pending from its put until its ack. A write
that fails part-way (a full disk) is cut back off the file before it raises, so
no torn line is ever followed by whole ones. On open the file is replayed (a
torn last line from a crash mid-write is ignored and counted; a bad line before
others raises `JournalCorruptError`) and rewritten with only the pending puts;
it is compacted the same way whenever nothing is pending and it has grown past
``compact_lines``. Bounded: at
``max_pending`` undelivered messages `put` raises `TriggerQueueFullError`
rather than drop anything. Single writer: one publisher per state dir. The file (and
its rewrite's temporary file) is mode 0600, its directory 0700 if created here.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from vagus.mqtt.errors import JournalCorruptError, TriggerQueueFullError
from vagus.private_files import append_file, private_dir, private_opener


@dataclass(frozen=True, slots=True, kw_only=True)
class JournalEntry:
    """One undelivered message with its unique id (the trigger id, or outcome's)."""

    id: str
    topic: str
    payload: bytes


class TriggerJournal:
    """Pending must-deliver messages, in put order, persisted in ``path``."""

    def __init__(self, path: Path, *, max_pending: int = 10_000, compact_lines: int = 1000) -> None:
        self._path = path
        self._max_pending = max_pending
        self._compact_lines = compact_lines
        self._pending: dict[str, JournalEntry] = {}
        self.torn_lines = 0
        private_dir(path.parent)
        if path.exists():
            self._replay()
        self._rewrite()

    @property
    def path(self) -> Path:
        """The JSONL file."""
        return self._path

    def pending(self) -> list[JournalEntry]:
        """Undelivered messages, oldest first."""
        return list(self._pending.values())

    def __len__(self) -> int:
        return len(self._pending)

    def put(self, entry: JournalEntry) -> None:
        """Persist ``entry`` (a no-op when the same id is already pending)."""
        if entry.id in self._pending:
            return
        if len(self._pending) >= self._max_pending:
            raise TriggerQueueFullError(pending=len(self._pending), limit=self._max_pending)
        self._append(
            {"op": "put", "id": entry.id, "topic": entry.topic, "payload": entry.payload.decode()}
        )
        self._pending[entry.id] = entry

    def ack(self, entry_id: str) -> None:
        """Mark ``entry_id`` delivered (the broker acknowledged it)."""
        if self._pending.pop(entry_id, None) is None:
            return
        self._append({"op": "ack", "id": entry_id})
        if not self._pending and self._lines >= self._compact_lines:
            self._rewrite()

    def _replay(self) -> None:
        lines = self._path.read_bytes().split(b"\n")
        for number, raw in enumerate(lines):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
                entry_id = str(record["id"])
                if record["op"] == "put":
                    self._pending[entry_id] = JournalEntry(
                        id=entry_id, topic=record["topic"], payload=record["payload"].encode()
                    )
                else:
                    self._pending.pop(entry_id, None)
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                if any(rest.strip() for rest in lines[number + 1 :]):
                    raise JournalCorruptError(path=self._path, line=number + 1) from exc
                self.torn_lines += 1

    def _rewrite(self) -> None:
        """Atomically replace the file by the pending puts only."""
        tmp = self._path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8", opener=private_opener) as out:
            for e in self._pending.values():
                out.write(
                    _line(
                        {"op": "put", "id": e.id, "topic": e.topic, "payload": e.payload.decode()}
                    )
                )
            out.flush()
            os.fsync(out.fileno())
        tmp.replace(self._path)
        self._lines = len(self._pending)

    def _append(self, record: dict[str, str]) -> None:
        append_file(self._path, _line(record).encode(), sync=True)
        self._lines += 1


def _line(record: dict[str, str]) -> str:
    return json.dumps(record, separators=(",", ":")) + "\n"
