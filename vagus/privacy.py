"""Pseudonymised device ids (``[privacy] pseudonymise = true``): the key and the mapping.

The key is the content of ``privacy.salt_file``, made once by the user (e.g.
``(umask 077; head -c 32 /dev/urandom > ~/.config/vagus/pseudonym.key)``); it
must exist, hold at least `MIN_KEY_BYTES` bytes and not be readable by other
users. It is never created here: a key that silently changed (a new state dir,
a reinstall) would give every device a new identity and split its history.

`Pseudonyms` is applied where a device id enters the daemon (a BLE strap's
label or address, a simulated strap's name, the device level of an MQTT beats
topic), so everything after that (topics, payloads, files, InfluxDB tags,
Home Assistant discovery, logs) only sees the pseudonym. The reverse mapping
(pseudonym -> device id) is appended to ``<state_dir>/pseudonyms.jsonl``,
mode 0600, the only place the real ids are kept.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from vagus.errors import UserError
from vagus.private_files import append_file, private_dir
from vagus.pseudonym import MIN_KEY_BYTES, pseudonym

MAPPING_FILE = "pseudonyms.jsonl"
"""Name of the mapping file in the state dir."""

MAKE_KEY = "make one with: (umask 077; head -c 32 /dev/urandom > {path})"


class SaltFileError(UserError):
    """``privacy.salt_file`` cannot serve as the pseudonym key; says why and how to fix it."""

    def __init__(self, *, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"privacy.salt_file = {str(path)!r}: {reason}")


def read_key(path: Path) -> bytes:
    """The pseudonym key in ``path``; `SaltFileError` when missing, short or readable by others."""
    try:
        with path.open("rb") as file:
            mode = stat.S_IMODE(os.fstat(file.fileno()).st_mode)
            key = file.read()
    except OSError as exc:
        how = MAKE_KEY.format(path=path)
        raise SaltFileError(path=path, reason=f"{exc.strerror or 'unreadable'}; {how}") from None
    if mode & 0o007:
        raise SaltFileError(
            path=path, reason=f"other users may read it (mode {mode:04o}); chmod 600 it"
        )
    if len(key) < MIN_KEY_BYTES:
        raise SaltFileError(
            path=path,
            reason=f"holds {len(key)} bytes, at least {MIN_KEY_BYTES} are needed; "
            + MAKE_KEY.format(path=path),
        )
    return key


class Pseudonyms:
    """Maps device ids to their pseudonyms, recording each new one in the state dir."""

    def __init__(self, key: bytes, state_dir: Path) -> None:
        self._key = key
        self.path = state_dir / MAPPING_FILE
        self._known: dict[str, str] = {}
        if self.path.exists():
            with self.path.open(encoding="utf-8") as file:
                for line in file:
                    if line.strip():
                        entry = json.loads(line)
                        self._known[entry["device"]] = entry["pseudonym"]

    def __call__(self, device: str) -> str:
        """The pseudonym of ``device`` (recorded in the mapping file the first time)."""
        known = self._known.get(device)
        if known is not None:
            return known
        alias = pseudonym(device, self._key)
        private_dir(self.path.parent)
        line = json.dumps({"pseudonym": alias, "device": device}) + "\n"
        append_file(self.path, line.encode(), sync=True)
        self._known[device] = alias
        return alias
