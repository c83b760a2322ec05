"""Session files: the CSV tables of one session (beats, windows, triggers, outcomes).

`SessionWriter` appends per batch (the daemon's CSV output and ``vagus
replay``); the ``read_*`` helpers load whole tables back exactly.
"""

from vagus.session._beats_table import read_beats
from vagus.session._metrics_table import read_metrics
from vagus.session._writer import SessionWriter
from vagus.session.errors import SessionFileError

__all__ = ["SessionFileError", "SessionWriter", "read_beats", "read_metrics"]
