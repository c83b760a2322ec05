"""Session files: the CSV tables of one session (beats, windows, triggers, outcomes, feedback,
and the updates of a breathing session).

`SessionWriter` appends per batch (the daemon's CSV output and ``vagus
replay``); `read_session` / `write_session` handle whole sessions, the
``read_*`` helpers single tables, and `replay_beats` / `replay_file` make a
session from a recording with the engine and rules. Values read back are exactly those written.
"""

from vagus.session._beats_table import read_beats
from vagus.session._breathing_table import BREATHING_FILE, BreathingWriter, read_breathing
from vagus.session._feedback_table import FeedbackRecord
from vagus.session._metrics_table import read_metrics
from vagus.session._reader import read_session, write_session
from vagus.session._replay import Progress, replay_beats, replay_file
from vagus.session._session import DeviceSession
from vagus.session._triggers_table import read_triggers
from vagus.session._writer import SessionWriter
from vagus.session.errors import SessionFileError

__all__ = [
    "BREATHING_FILE",
    "BreathingWriter",
    "DeviceSession",
    "FeedbackRecord",
    "Progress",
    "SessionFileError",
    "SessionWriter",
    "read_beats",
    "read_breathing",
    "read_metrics",
    "read_session",
    "read_triggers",
    "replay_beats",
    "replay_file",
    "write_session",
]
