"""The per-person biofeedback file: round trip, 0600, bounded history, bad files as one error."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from vagus.biofeedback import SessionRecord
from vagus.biofeedback_store import MAX_SESSIONS, BiofeedbackFileError, BiofeedbackStore
from vagus.errors import UserError


def _record(i: int) -> SessionRecord:
    return SessionRecord(
        t_s=float(i), rate_bpm=5.5, minutes=5.0, mean_coherence=1.5, rsa_bpm=9.0,
        high_coherence_s=60.0, peak_bpm=5.5,
    )  # fmt: skip


def test_round_trip_private_and_bounded(tmp_path: Path) -> None:
    """Rate and sessions come back as saved; file 0600, directory 0700; oldest sessions go."""
    store = BiofeedbackStore(tmp_path / "state")
    assert store.resonance_bpm("ana") is None
    assert store.sessions("ana") == []
    store.save_resonance("ana", rate_bpm=5.0, confidence=0.75, t_s=1.0)
    for i in range(MAX_SESSIONS + 3):
        store.add_session("ana", _record(i))
    assert store.resonance_bpm("ana") == 5.0
    sessions = store.sessions("ana")
    assert len(sessions) == MAX_SESSIONS
    assert sessions[0] == _record(3)
    assert stat.S_IMODE(store.path("ana").stat().st_mode) == 0o600
    assert stat.S_IMODE(store.directory.stat().st_mode) == 0o700
    assert store.resonance_bpm("bob") is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{", "not JSON"),
        ('{"schema": 9}', "expected schema 1"),
        ('{"schema": 1, "sessions": {}}', "'sessions' is not a list"),
        ('{"schema": 1, "sessions": [{"t_s": 1}]}', "bad session entry"),
        ('{"schema": 1, "resonance": {"rate": 5}, "sessions": []}', "bad 'resonance' entry"),
    ],
)
def test_bad_files_name_themselves(tmp_path: Path, text: str, reason: str) -> None:
    """A file that is not a biofeedback record raises one error naming the file and why."""
    store = BiofeedbackStore(tmp_path)
    store.directory.mkdir()
    store.path("ana").write_text(text, encoding="utf-8")
    read = store.sessions if "session" in reason else store.resonance_bpm
    with pytest.raises(BiofeedbackFileError, match=reason) as caught:
        read("ana")
    assert str(store.path("ana")) in str(caught.value)


@pytest.mark.parametrize("person", ["", "..", "a/b", "x" * 65, "ümlaut"])
def test_person_names_are_file_safe(tmp_path: Path, person: str) -> None:
    """Names that could escape the directory or are empty are refused."""
    with pytest.raises(UserError, match="person"):
        BiofeedbackStore(tmp_path).path(person)
