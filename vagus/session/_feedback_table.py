"""``feedback.csv``: one row per answer the daemon took (`recommender.FeedbackResult`)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass

from recommender import FeedbackResult, FeedbackStatus, FeedbackVerdict
from vagus.session._flat_table import FlatTable


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedbackRecord:
    """A person's answer to a suggestion and what it did, as ``feedback.csv`` keeps it.

    ``t_s`` is when the daemon recorded it; ``changes`` is the JSON object of
    what moved (`recommender.FeedbackResult.changes`), ``{}`` for a refused answer.
    """

    t_s: float
    device: str
    trigger_id: str
    verdict: FeedbackVerdict
    status: FeedbackStatus
    changes: str

    @classmethod
    def of(cls, result: FeedbackResult, *, t_s: float) -> FeedbackRecord:
        """The row of ``result``, recorded at ``t_s``."""
        changes = {k: v for k, v in result.changes.items() if math.isfinite(v)}
        return cls(
            t_s=t_s,
            device=result.device,
            trigger_id=result.trigger_id,
            verdict=result.verdict,
            status=result.status,
            changes=json.dumps(changes, separators=(",", ":"), sort_keys=True),
        )

    @property
    def accepted(self) -> bool:
        """True when the answer was applied."""
        return self.status is FeedbackStatus.APPLIED

    def changed(self) -> Mapping[str, float]:
        """``changes`` as a mapping."""
        data = json.loads(self.changes)
        return {str(k): float(v) for k, v in data.items()}


FEEDBACK = FlatTable(FeedbackRecord)
