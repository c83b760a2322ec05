"""Logging setup: readable lines on a terminal, one JSON object per line elsewhere.

Health data (beats, HRV figures) is logged at debug level only; the live
view and the outputs the user configured are where figures go.
"""

from __future__ import annotations

import json
import logging
import sys

from rich.logging import RichHandler


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ts, level, logger, message (and the exception, if any)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(level: str = "info") -> None:
    """Configure the root logger once, for the stream stderr is."""
    handler: logging.Handler
    if sys.stderr.isatty():
        handler = RichHandler(show_path=False, rich_tracebacks=False)
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
