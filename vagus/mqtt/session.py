"""Payloads of ``<prefix>/<device>/session``: a breathing session's updates and its summary.

Two kinds, both schema ``vagus.session/1`` (``vagus/schemas/session.json``):

- ``update`` (every few seconds of the session): the pacer (pattern, rate,
  phase, progress through it and seconds left in it, lung volume 0-1, cycle
  count, the phases of the cycle so a subscriber can animate it) and the
  live figures (heart rate, RSA, coherence, coherence peak); figures not
  known yet are ``null``;
- ``summary`` (once, at the end): mean coherence and RSA, time in high
  coherence, the coherence peak, the comparison with past sessions and a
  re-assessment suggestion (``null`` when none).
"""

from __future__ import annotations

import json
import math
from typing import Any

from vagus.biofeedback import LiveFigures, Pacer, SessionRecord

SCHEMA = "vagus.session/1"


def _number(value: float) -> float | None:
    return value if math.isfinite(value) else None


def session_update(figures: LiveFigures, pacer: Pacer, *, pattern: str, end_s: float) -> bytes:
    """One ``update`` message at ``figures.t_s``."""
    state = pacer.state(figures.t_s)
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "kind": "update",
        "device": figures.device,
        "t_s": figures.t_s,
        "elapsed_s": figures.elapsed_s,
        "remaining_s": max(end_s - figures.t_s, 0.0),
        "pacer": {
            "pattern": pattern,
            "rate_bpm": pacer.rate_bpm,
            "phase": state.kind.value,
            "progress": state.progress,
            "phase_remaining_s": state.remaining_s,
            "volume": state.volume,
            "cycle": state.cycle,
            "phases": [{"kind": p.kind.value, "duration_s": p.duration_s} for p in pacer.phases],
        },
        "hr_bpm": _number(figures.hr_bpm),
        "rsa_bpm": _number(figures.rsa_bpm),
        "coherence": _number(figures.coherence),
        "peak_bpm": _number(figures.peak_bpm),
    }
    return json.dumps(doc, allow_nan=False).encode()


def session_summary(
    device: str,
    record: SessionRecord,
    *,
    pattern: str,
    comparison: str,
    reassess: str | None,
) -> bytes:
    """The ``summary`` message of a finished session."""
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "kind": "summary",
        "device": device,
        "t_s": record.t_s + record.minutes * 60.0,
        "started_s": record.t_s,
        "pattern": pattern,
        "rate_bpm": record.rate_bpm,
        "minutes": record.minutes,
        "mean_coherence": _number(record.mean_coherence),
        "rsa_bpm": _number(record.rsa_bpm),
        "high_coherence_s": record.high_coherence_s,
        "peak_bpm": _number(record.peak_bpm),
        "comparison": comparison,
        "reassess": reassess,
    }
    return json.dumps(doc, allow_nan=False).encode()
