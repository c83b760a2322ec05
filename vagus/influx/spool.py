"""On-disk spool: an append-only, fsync'd queue of line-protocol lines that survives restarts.

Layout of the spool directory:

- ``000000000001.lp``, ``000000000002.lp``...: segments, one line of line
  protocol per line, appended and fsync'd batch by batch, never rewritten.
- ``cursor``: ``<segment> <byte offset>`` of the first line not yet stored
  in InfluxDB, replaced atomically (write, fsync, rename) after each
  acknowledged write. Fully sent segments are deleted.
- ``deadletter.lp``: points InfluxDB refused (a 4xx other than auth or rate
  limits), each group after a ``#`` comment with the status and the server's
  reason; fix and re-post them by hand (``curl --data-binary @deadletter.lp``).

Every file is mode 0600 and the directory, when created here, 0700.

A crash can leave a torn last line; opening the spool cuts it off. A crash
between an acknowledged write and the cursor update resends that chunk on the
next start, which is harmless: points carry their own timestamps and tags, so
InfluxDB overwrites them with identical values.

Opening the spool also checks what a crash cannot produce: a ``cursor`` that
is not two non-negative integers, or a segment that cannot be read or is not
UTF-8 text, raises `SpoolCorruptError` (a `UserError`: one line at start
naming the file and what to do) rather than failing later while sending.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vagus.influx.errors import SpoolCorruptError, SpoolFullError
from vagus.private_files import append_file, private_dir, private_opener

log = logging.getLogger(__name__)

SEGMENT_SUFFIX = ".lp"
DEAD_LETTER_NAME = "deadletter.lp"
CURSOR_NAME = "cursor"

_CURSOR_REMEDY = (
    "delete it to send the whole spool again from its oldest segment "
    "(harmless: InfluxDB overwrites points it already has)"
)
_SEGMENT_REMEDY = "move it out of the spool directory to start without it (its points are lost)"


@dataclass(frozen=True, slots=True, kw_only=True)
class SpoolChunk:
    """Lines read from one segment, and where the cursor goes once they are stored."""

    lines: list[str]
    segment: int
    end_offset: int


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _starts_line(data: bytes, offset: int) -> bool:
    """True when ``offset`` is the start of a line of ``data`` (or its end, after a newline)."""
    return offset == 0 or (offset <= len(data) and data[offset - 1 : offset] == b"\n")


class Spool:
    """Segment files plus a cursor; `append` at the tail, `peek` and `commit` at the head."""

    def __init__(
        self,
        directory: Path,
        *,
        cap_bytes: int,
        warn_fraction: float = 0.8,
        segment_bytes: int = 4 * 1024**2,
    ) -> None:
        self.directory = directory
        self.cap_bytes = cap_bytes
        self.warn_fraction = warn_fraction
        self.segment_bytes = segment_bytes
        self._warned = False
        private_dir(directory)  # health data: owner only
        self._sizes = self._segment_sizes()
        self._segment, self._offset = self._read_cursor()
        for number in [n for n in self._sizes if n < self._segment]:
            self._delete(number)
        self._check_segments()
        self._cut_torn_tail()
        if self.size_bytes:
            log.warning(
                "InfluxDB spool %s holds %d bytes from an earlier run: sending them first",
                directory,
                self.size_bytes,
            )

    @property
    def size_bytes(self) -> int:
        """Bytes of segments on disk (the figure the cap applies to)."""
        return sum(self._sizes.values())

    @property
    def empty(self) -> bool:
        """True when every spooled line has been stored."""
        return all(
            number < self._segment or (number == self._segment and size <= self._offset)
            for number, size in self._sizes.items()
        )

    def append(self, lines: Sequence[str]) -> None:
        """Append ``lines`` durably (fsync'd before returning); `SpoolFullError` past the cap."""
        if not lines:
            return
        data = ("\n".join(lines) + "\n").encode()
        if self.size_bytes + len(data) > self.cap_bytes:
            raise SpoolFullError(self.directory, self.size_bytes, self.cap_bytes, len(lines))
        tail = max(self._sizes, default=self._segment)
        if tail < self._segment or self._sizes.get(tail, 0) >= self.segment_bytes:
            tail = max(tail + 1, self._segment)
        path = self._path(tail)
        is_new = tail not in self._sizes
        append_file(path, data, sync=True)
        if is_new:
            _fsync_dir(self.directory)
        self._sizes[tail] = self._sizes.get(tail, 0) + len(data)
        self._check_cap()

    def peek(self, max_lines: int) -> SpoolChunk | None:
        """Up to ``max_lines`` oldest unsent lines (all from one segment), or None when empty."""
        while self._segment in self._sizes or any(n > self._segment for n in self._sizes):
            if self._segment in self._sizes and self._offset < self._sizes[self._segment]:
                with self._path(self._segment).open("rb") as file:
                    file.seek(self._offset)
                    lines = []
                    for raw in file:
                        lines.append(raw.decode().rstrip("\n"))
                        if len(lines) >= max_lines:
                            break
                    return SpoolChunk(lines=lines, segment=self._segment, end_offset=file.tell())
            self._advance()
        return None

    def commit(self, chunk: SpoolChunk) -> None:
        """Mark ``chunk`` as stored: move the cursor past it, delete finished segments."""
        self._segment, self._offset = chunk.segment, chunk.end_offset
        if self._offset >= self._sizes.get(self._segment, 0):
            self._advance()
        else:
            self._write_cursor()

    def dead_letter(self, lines: Sequence[str], *, status: int | None, detail: str) -> Path:
        """Keep refused ``lines`` in ``deadletter.lp`` under a comment saying why; its path."""
        path = self.directory / DEAD_LETTER_NAME
        reason = " ".join(detail.split())[:500]
        append_file(
            path, (f"# status={status} {reason}\n" + "\n".join(lines) + "\n").encode(), sync=True
        )
        return path

    def _advance(self) -> None:
        """Drop the finished head segment and point the cursor at the start of the next one."""
        if self._segment in self._sizes:
            self._delete(self._segment)
        self._segment, self._offset = self._segment + 1, 0
        self._write_cursor()
        self._check_cap()

    def _check_cap(self) -> None:
        near = self.size_bytes >= self.warn_fraction * self.cap_bytes
        if near and not self._warned:
            log.warning(
                "InfluxDB spool %s is at %d of %d bytes (%.0f %%): points will be dropped "
                "when it is full; is InfluxDB reachable?",
                self.directory,
                self.size_bytes,
                self.cap_bytes,
                100 * self.size_bytes / self.cap_bytes,
            )
        self._warned = near

    def _path(self, number: int) -> Path:
        return self.directory / f"{number:012d}{SEGMENT_SUFFIX}"

    def _delete(self, number: int) -> None:
        self._path(number).unlink(missing_ok=True)
        self._sizes.pop(number, None)

    def _segment_sizes(self) -> dict[int, int]:
        sizes = {}
        for path in self.directory.glob(f"*{SEGMENT_SUFFIX}"):
            if path.stem.isdigit():
                try:
                    sizes[int(path.stem)] = path.stat().st_size
                except OSError as exc:
                    raise SpoolCorruptError(
                        path, f"cannot read: {exc.strerror}", _SEGMENT_REMEDY
                    ) from exc
        return sizes

    def _read_cursor(self) -> tuple[int, int]:
        """The cursor's segment and offset; `SpoolCorruptError` unless two integers >= 0."""
        path = self.directory / CURSOR_NAME
        try:
            text = path.read_bytes().decode("utf-8")
        except FileNotFoundError:
            return min(self._sizes, default=1), 0
        except OSError as exc:
            raise SpoolCorruptError(path, f"cannot read: {exc.strerror}", _CURSOR_REMEDY) from exc
        except UnicodeDecodeError as exc:
            raise SpoolCorruptError(path, "not text", _CURSOR_REMEDY) from exc
        fields = text.split()
        if len(fields) != 2 or not all(field.isascii() and field.isdigit() for field in fields):
            reason = f"{text.strip()[:40]!r} is not '<segment> <byte offset>'"
            raise SpoolCorruptError(path, reason, _CURSOR_REMEDY)
        return int(fields[0]), int(fields[1])

    def _write_cursor(self) -> None:
        tmp = self.directory / "cursor.tmp"
        with open(tmp, "w", encoding="utf-8", opener=private_opener) as file:
            file.write(f"{self._segment} {self._offset}\n")
            file.flush()
            os.fsync(file.fileno())
        tmp.replace(self.directory / CURSOR_NAME)
        _fsync_dir(self.directory)

    def _check_segments(self) -> None:
        """Every segment is readable UTF-8 text (what `peek` decodes), and the cursor's offset
        starts a line of its segment; otherwise `SpoolCorruptError`.

        The tail's torn last line, if any, is not checked: `_cut_torn_tail` drops it.
        """
        tail = max(self._sizes, default=None)
        for number in sorted(self._sizes):
            path = self._path(number)
            try:
                data = path.read_bytes()
                if number == self._segment and not _starts_line(data, self._offset):
                    reason = f"offset {self._offset} does not start a line of {path.name}"
                    raise SpoolCorruptError(self.directory / CURSOR_NAME, reason, _CURSOR_REMEDY)
                if number == tail:
                    data = data[: data.rfind(b"\n") + 1]
                data.decode("utf-8")
            except OSError as exc:
                reason = f"cannot read: {exc.strerror}"
                raise SpoolCorruptError(path, reason, _SEGMENT_REMEDY) from exc
            except UnicodeDecodeError as exc:
                reason = f"byte {exc.start} is not UTF-8, so this is not line protocol"
                raise SpoolCorruptError(path, reason, _SEGMENT_REMEDY) from exc

    def _cut_torn_tail(self) -> None:
        if not self._sizes:
            return
        tail = max(self._sizes)
        path = self._path(tail)
        data = path.read_bytes()
        if data and not data.endswith(b"\n"):
            keep = data.rfind(b"\n") + 1
            log.warning(
                "InfluxDB spool %s: cutting a torn line of %d bytes", path, len(data) - keep
            )
            with open(path, "r+b", opener=private_opener) as file:
                file.truncate(keep)
                os.fsync(file.fileno())
            self._sizes[tail] = keep
