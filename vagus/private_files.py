"""Files and directories only their owner can read: health data and queued messages.

Whatever the umask, a file Vagus writes is ``0600`` and a directory it
creates is ``0700``. Files are opened with the builtin ``open`` and
`private_opener` (``open(path, "w", opener=private_opener)``), which creates
them ``0600`` and tightens an existing file it reopens for writing; directories
come from `private_dir`. A directory that already exists is left as it is: it
may be one the user chose and shares on purpose, and the files in it are
``0600`` anyway.

Appends are whole or nothing (`append_whole`, `append_file`): a write that
fails part-way, as on a full disk, is cut back off, so a line-based file never
holds a torn line followed by whole ones.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

FILE_MODE = 0o600
"""Mode of every file Vagus writes."""

DIR_MODE = 0o700
"""Mode of every directory Vagus creates."""


def private_opener(path: str | os.PathLike[str], flags: int) -> int:
    """An ``opener`` for the builtin ``open``: the file is (or becomes) mode 0600.

    The mode given to ``os.open`` is masked by the umask and ignored for an
    existing file, so it is set again on the open descriptor when it differs.
    """
    fd = os.open(path, flags, FILE_MODE)
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) != FILE_MODE:
            os.fchmod(fd, FILE_MODE)
    except BaseException:
        os.close(fd)
        raise
    return fd


def private_dir(path: Path) -> Path:
    """``mkdir -p path``, every directory it creates mode 0700; ``path`` is returned.

    ``mkdir``'s mode is masked by the umask (and ``Path.mkdir(parents=True)``
    gives the parents the default mode), so each new directory is created
    here one by one and set to 0700 explicitly. `NotADirectoryError` when
    ``path`` exists and is not a directory.
    """
    missing: list[Path] = []
    current = Path(os.path.abspath(path))
    while not os.path.lexists(current):
        missing.append(current)
        current = current.parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, DIR_MODE)
        except FileExistsError:  # created meanwhile by someone else: left as it is
            continue
        os.chmod(directory, DIR_MODE)
    if not path.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path))
    return path


def append_whole(out: BinaryIO, data: bytes, *, sync: bool = False) -> None:
    """Write ``data`` at the end of ``out`` (opened ``"ab"``, unbuffered) in full or not at all.

    When a write fails part-way (``ENOSPC``, ``EFBIG``) the file is truncated back
    to its length before the call and the error raised. ``sync`` fsyncs it.
    """
    start = out.seek(0, os.SEEK_END)
    try:
        view = memoryview(data)
        while view:
            view = view[out.write(view) or 0 :]
        if sync:
            os.fsync(out.fileno())
    except OSError:
        with contextlib.suppress(OSError):
            os.ftruncate(out.fileno(), start)
        raise


def append_file(path: Path, data: bytes, *, sync: bool = False) -> None:
    """Open ``path`` (0600), `append_whole` ``data``, close it."""
    with open(path, "ab", buffering=0, opener=private_opener) as out:
        append_whole(out, data, sync=sync)
