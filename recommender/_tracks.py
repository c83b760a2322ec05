"""The evaluator's per-device state as plain data: one track per device, one per rule.

`recommender._evaluator` mutates these as windows arrive;
`recommender._snapshot` turns them into JSON and back. Nothing here decides
anything.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from recommender._activity import ActivityTrack
from recommender._evidence import CusumState
from recommender._records import Trigger
from recommender._reference import ReferenceTrack
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
    cusum: CusumState = field(default_factory=CusumState)  # sustained-evidence path
    # Personal raises of the thresholds (false alarms), each (value 0-1, time it was set).
    raise_level: tuple[float, float] = (0.0, -math.inf)
    raise_evidence: tuple[float, float] = (0.0, -math.inf)


@dataclass
class Issued:
    """A trigger the device was sent, remembered for feedback: which paths fired it, answer."""

    trigger_id: str
    t_s: float
    rule: str
    exercise_id: str
    level: bool  # the level conditions held long enough
    evidence: bool  # the CUSUM reached its decision interval
    answer: str = ""  # the FeedbackVerdict value once answered


@dataclass
class FeedbackEntry:
    """One feedback that moved something, for `Evaluator.explain`."""

    t_s: float
    trigger_id: str
    rule: str
    verdict: str


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
    activity: ActivityTrack = field(default_factory=ActivityTrack)
    reference: ReferenceTrack = field(default_factory=ReferenceTrack)
    snooze_until_s: float = -math.inf
    # "did exercise" answers: how far the activity veto is eased (value 0-1, time it was set).
    raise_activity: tuple[float, float] = (0.0, -math.inf)
    issued: deque[Issued] = field(default_factory=deque)  # newest last, bounded
    feedback: deque[FeedbackEntry] = field(default_factory=deque)  # applied, newest last
    feedback_counts: dict[str, int] = field(default_factory=dict)  # FeedbackStatus -> count


def new_device(config: RecommenderConfig) -> DeviceTrack:
    """A device never seen: every rule of ``config`` idle, nothing pending."""
    return DeviceTrack(rules={rule.name: RuleTrack() for rule in config.rules})
