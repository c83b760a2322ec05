"""Personal HRV baselines on disk, kept across restarts: one small JSON file, written atomically.

Format (``schema`` 1)::

    {"schema": 1, "baselines": {"<device>": {"ln_rmssd": 3.9, "hr_bpm": 58.0, "weight_s": 7200.0}}}

Floats are written with ``repr`` precision, so a save/load round trip gives
the engine back the same bits. Writes go to a temporary file in the same
folder, are flushed to disk, then renamed over the old file: a crash leaves
either the old or the new file, never half of one.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from hrv import Baseline
from vagus.errors import UserError

SCHEMA = 1


class BaselineFileError(UserError):
    """The baseline file exists but cannot be read as baselines; ``path`` and ``reason`` say why."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"baseline file {path}: {reason} (move it away to start from the prior)")
        self.path = path
        self.reason = reason


class BaselineStore:
    """Load and save the baselines of every device in one file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, Baseline]:
        """Stored baselines by device; an absent file means none yet."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise BaselineFileError(self.path, exc.strerror or str(exc)) from exc
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BaselineFileError(self.path, f"not JSON ({exc.msg})") from exc
        if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
            raise BaselineFileError(self.path, f"expected schema {SCHEMA}")
        entries = doc.get("baselines")
        if not isinstance(entries, dict):
            raise BaselineFileError(self.path, "missing 'baselines' object")
        out: dict[str, Baseline] = {}
        for device, entry in entries.items():
            try:
                out[device] = Baseline(
                    ln_rmssd=float(entry["ln_rmssd"]),
                    hr_bpm=float(entry["hr_bpm"]),
                    weight_s=float(entry["weight_s"]),
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise BaselineFileError(self.path, f"bad entry for device {device!r}") from exc
        return out

    def save(self, baselines: Mapping[str, Baseline]) -> None:
        """Replace the file with ``baselines`` (atomically)."""
        doc = {
            "schema": SCHEMA,
            "baselines": {
                device: {"ln_rmssd": b.ln_rmssd, "hr_bpm": b.hr_bpm, "weight_s": b.weight_s}
                for device, b in sorted(baselines.items())
            },
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(doc, f, indent=1)
                f.write("\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
