"""The evaluator's per-device state as plain data: one track per device, one per rule.

`recommender._evaluator` mutates these as windows arrive;
`recommender._snapshot` turns them into JSON and back. Nothing here decides
anything.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from recommender._records import Trigger
from recommender._rules import RecommenderConfig
from recommender._states import RuleState


@dataclass
class RuleTrack:
    """Where one rule stands for one device, and when it last fired."""

    state: RuleState = RuleState.IDLE
    hold_start_s: float = math.nan  # end of the first window of the open hold
    hold_windows: int = 0  # valid qualifying windows counted in the open hold
    exit_start_s: float = math.nan  # end of the first window of the running exit hold
    last_fire_s: float = -math.inf
    fires_s: deque[float] = field(default_factory=deque)  # trigger times, for max_per_hour
    escalation: int = 0  # unhelpful tries in a row


@dataclass
class Pending:
    """A trigger waiting for its outcome: the before means and the after windows so far."""

    trigger: Trigger
    before_ln_rmssd: float
    before_hr_bpm: float
    n_before: int
    after_ln_rmssd: list[float] = field(default_factory=list)
    after_hr_bpm: list[float] = field(default_factory=list)


@dataclass
class DeviceTrack:
    """Everything the evaluator knows about one device."""

    rules: dict[str, RuleTrack]
    last_valid_s: float = math.nan
    last_fire_s: float = -math.inf
    recent: deque[tuple[float, float, float]] = field(default_factory=deque)  # t, ln, hr
    pending: list[Pending] = field(default_factory=list)
    history: dict[str, deque[float]] = field(default_factory=dict)  # exercise -> Δln(RMSSD)


def new_device(config: RecommenderConfig) -> DeviceTrack:
    """A device never seen: every rule of ``config`` idle, nothing pending."""
    return DeviceTrack(rules={rule.name: RuleTrack() for rule in config.rules})
