"""Biofeedback (pure): the breathing pacer, resonance-frequency assessment, live session figures.

No clocks, no IO: beats and times in, records out. `assess` scores a paced
protocol rate by rate and picks the person's resonance rate; `Pacer` says
where a breathing pacer is at any time; `live_figures` and `summarize` score
a breathing session.
"""

from vagus.biofeedback._pacer import Pacer, PacerState, even_phases, schedule_pacers
from vagus.biofeedback._resonance import (
    Assessment,
    RateResult,
    assess,
    choose,
    parse_schedule,
)
from vagus.biofeedback._session import (
    HIGH_COHERENCE,
    LiveFigures,
    SessionRecord,
    compare,
    live_figures,
    reassessment_advice,
    summarize,
)

__all__ = [
    "HIGH_COHERENCE",
    "Assessment",
    "LiveFigures",
    "Pacer",
    "PacerState",
    "RateResult",
    "SessionRecord",
    "assess",
    "choose",
    "compare",
    "even_phases",
    "live_figures",
    "parse_schedule",
    "reassessment_advice",
    "schedule_pacers",
    "summarize",
]
