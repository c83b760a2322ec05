"""Each person's biofeedback record in the state dir: assessed resonance rate and past sessions.

One JSON file per person, ``<state_dir>/biofeedback/<person>.json``
(``schema`` 1)::

    {"schema": 1, "resonance": {"rate_bpm": 5.5, "confidence": 0.75, "t_s": 1.7e9},
     "sessions": [{"t_s": ..., "rate_bpm": 5.5, "minutes": 5.0, "mean_coherence": 2.1,
                   "rsa_bpm": 11.0, "high_coherence_s": 170.0, "peak_bpm": 5.6}, ...]}

``sessions`` keeps the last `MAX_SESSIONS`. Written like the baseline file:
to a temporary file, flushed, renamed over the old one; mode 0600, directory
0700 when created here (`vagus.private_files`).
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
from dataclasses import asdict
from pathlib import Path
from typing import Any

from recommender import Evaluator
from vagus.biofeedback import SessionRecord
from vagus.errors import UserError
from vagus.private_files import private_dir, private_opener

log = logging.getLogger(__name__)

SCHEMA = 1
MAX_SESSIONS = 50
_PERSON = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


class BiofeedbackFileError(UserError):
    """A person's biofeedback file exists but cannot be read; ``path`` and ``reason`` say why."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"biofeedback file {path}: {reason} (move it away to start afresh)")
        self.path = path
        self.reason = reason


def check_person(person: str) -> str:
    """``person`` if it can name a file (letters, digits, ``_ . : -``); else UserError."""
    if not _PERSON.match(person) or person in {".", ".."}:
        raise UserError(f"person {person!r}: use 1-64 letters, digits, '_', '.', ':' or '-'")
    return person


class BiofeedbackStore:
    """Read and update the biofeedback files under ``<state_dir>/biofeedback``."""

    def __init__(self, state_dir: Path) -> None:
        self.directory = state_dir / "biofeedback"

    def path(self, person: str) -> Path:
        """The file of ``person``."""
        return self.directory / f"{check_person(person)}.json"

    def _load(self, person: str) -> dict[str, Any]:
        path = self.path(person)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {"schema": SCHEMA, "resonance": None, "sessions": []}
        except OSError as exc:
            raise BiofeedbackFileError(path, exc.strerror or str(exc)) from exc
        try:
            doc = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise BiofeedbackFileError(path, "not JSON") from exc
        if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
            raise BiofeedbackFileError(path, f"expected schema {SCHEMA}")
        if not isinstance(doc.get("sessions", []), list):
            raise BiofeedbackFileError(path, "'sessions' is not a list")
        return doc

    def resonance_bpm(self, person: str) -> float | None:
        """The person's assessed resonance rate, or None when never assessed."""
        entry = self._load(person).get("resonance")
        if entry is None:
            return None
        try:
            return float(entry["rate_bpm"])
        except (KeyError, TypeError, ValueError) as exc:
            raise BiofeedbackFileError(self.path(person), "bad 'resonance' entry") from exc

    def resonance_rates(self) -> dict[str, float]:
        """Every assessed person's rate; a file that cannot be read is logged once and skipped."""
        rates: dict[str, float] = {}
        paths = sorted(self.directory.glob("*.json")) if self.directory.is_dir() else []
        for path in paths:
            try:
                rate = self.resonance_bpm(path.stem)
            except UserError as exc:
                log.warning("%s", exc)
                continue
            if rate is not None:
                rates[path.stem] = rate
        return rates

    def sessions(self, person: str) -> list[SessionRecord]:
        """The person's past sessions, oldest first."""
        try:
            return [SessionRecord(**entry) for entry in self._load(person).get("sessions", [])]
        except (TypeError, ValueError) as exc:
            raise BiofeedbackFileError(self.path(person), f"bad session entry: {exc}") from exc

    def save_resonance(
        self, person: str, *, rate_bpm: float, confidence: float, t_s: float
    ) -> Path:
        """Store a newly assessed rate (replacing the last one); returns the file."""
        doc = self._load(person)
        doc["resonance"] = {"rate_bpm": rate_bpm, "confidence": confidence, "t_s": t_s}
        return self._write(person, doc)

    def add_session(self, person: str, record: SessionRecord) -> Path:
        """Append a finished session (the oldest beyond `MAX_SESSIONS` are dropped)."""
        doc = self._load(person)
        doc["sessions"] = [*doc.get("sessions", []), asdict(record)][-MAX_SESSIONS:]
        return self._write(person, doc)

    def _write(self, person: str, doc: dict[str, Any]) -> Path:
        path = self.path(person)
        private_dir(self.directory)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
        try:
            with open(tmp, "x", encoding="utf-8", opener=private_opener) as f:
                json.dump(doc, f, indent=1, allow_nan=False)
                f.write("\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return path


def pace_resonance(evaluator: Evaluator, state_dir: Path) -> None:
    """Pace each assessed person's resonance exercise at their rate (person = device id).

    A rate the exercise does not take (outside 4.5-7/min) is logged once and the
    default pace kept for that person.
    """
    for person, rate in BiofeedbackStore(state_dir).resonance_rates().items():
        try:
            evaluator.set_resonance_rate(person, rate)
        except ValueError as exc:
            log.warning("%s: %s; the default pace is used", person, exc)
