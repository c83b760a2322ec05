"""What the daemon keeps across restarts: one small JSON file, written atomically.

Format (``schema`` 1)::

    {"schema": 1, "baselines": {"<device>": {"ln_rmssd": 3.9, "hr_bpm": 58.0, "weight_s": 7200.0}},
     "pipeline": {...}}

``baselines`` are the personal HRV baselines; ``pipeline`` (optional) is
`vagus.pipeline.Pipeline.snapshot`: each device's last beat time and rule
state (levels, hold timers, cooldowns, pending outcomes), so a restart in
the middle of an episode neither re-triggers nor re-reads redelivered beats.

Floats are written with ``repr`` precision, so a save/load round trip gives
the engine back the same bits. Writes go to a temporary file in the same
folder, are flushed to disk, then renamed over the old file: a crash leaves
either the old or the new file, never half of one. The file is mode 0600, its
directory 0700 when created here (see `vagus.private_files`).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hrv import Baseline
from vagus.errors import UserError
from vagus.private_files import private_dir, private_opener

SCHEMA = 1


class BaselineFileError(UserError):
    """The baseline file exists but cannot be read as baselines; ``path`` and ``reason`` say why."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"baseline file {path}: {reason} (move it away to start from the prior)")
        self.path = path
        self.reason = reason


def dump_baselines(baselines: Mapping[str, Baseline]) -> dict[str, dict[str, float]]:
    """``baselines`` as the JSON-ready ``baselines`` object of the format above."""
    return {
        device: {"ln_rmssd": b.ln_rmssd, "hr_bpm": b.hr_bpm, "weight_s": b.weight_s}
        for device, b in sorted(baselines.items())
    }


def load_baselines(entries: Mapping[str, Any]) -> dict[str, Baseline]:
    """The baselines of a ``baselines`` object; ValueError names the first bad device."""
    out: dict[str, Baseline] = {}
    for device, entry in entries.items():
        try:
            out[device] = Baseline(
                ln_rmssd=float(entry["ln_rmssd"]),
                hr_bpm=float(entry["hr_bpm"]),
                weight_s=float(entry["weight_s"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"bad entry for device {device!r}") from exc
    return out


class BaselineStore:
    """Load and save the baselines (and pipeline state) of every device in one file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _doc(self) -> dict[str, Any] | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise BaselineFileError(self.path, exc.strerror or str(exc)) from exc
        try:
            doc = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise BaselineFileError(self.path, "not JSON") from exc
        if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
            raise BaselineFileError(self.path, f"expected schema {SCHEMA}")
        return doc

    def load_pipeline(self) -> dict[str, Any] | None:
        """The stored pipeline state, or None when there is none."""
        doc = self._doc()
        state = None if doc is None else doc.get("pipeline")
        if state is not None and not isinstance(state, dict):
            raise BaselineFileError(self.path, "'pipeline' is not an object")
        return state

    def load(self) -> dict[str, Baseline]:
        """Stored baselines by device; an absent file means none yet."""
        doc = self._doc()
        if doc is None:
            return {}
        entries = doc.get("baselines")
        if not isinstance(entries, dict):
            raise BaselineFileError(self.path, "missing 'baselines' object")
        try:
            return load_baselines(entries)
        except ValueError as exc:
            raise BaselineFileError(self.path, str(exc)) from exc

    def save(
        self, baselines: Mapping[str, Baseline], pipeline: Mapping[str, Any] | None = None
    ) -> None:
        """Replace the file with ``baselines`` and ``pipeline`` state (atomically, mode 0600)."""
        doc: dict[str, Any] = {
            "schema": SCHEMA,
            "baselines": dump_baselines(baselines),
        }
        if pipeline is not None:
            doc["pipeline"] = pipeline
        private_dir(self.path.parent)
        tmp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(8)}.tmp")
        try:
            with open(tmp, "x", encoding="utf-8", opener=private_opener) as f:
                # json.dumps without indent is the C encoder; json.dump and indent are the
                # pure-Python one, seconds of the event loop's GIL at 10,000 devices.
                f.write(json.dumps(doc, separators=(",", ":")))
                f.write("\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
