"""Sustained evidence: a one-sided CUSUM of a person's deviation from their baseline.

The level conditions of a rule (``stress >= 60`` held for a while) miss a
moderate episode that never crosses the level but lasts for minutes. The
cumulative sum of Page (E. S. Page, "Continuous inspection schemes",
Biometrika 41:100-115, 1954), in the tabular one-sided form of Montgomery
(D. C. Montgomery, *Introduction to Statistical Quality Control*, 6th ed.,
Wiley 2009, §9.1), accumulates how far a statistic stays above its
in-control mean by more than a reference value ``k`` and signals when the
sum reaches the decision interval ``h``::

    S_t = max(0, S_{t-1} + (x_t - m_t - k) * dt_t / 60 s)        signal when S_t >= h

- ``x_t`` is a weighted sum of figures the window already carries, by
  default ``0.5 hr_z - 0.5 ln_rmssd_z`` (within-person z-scores, against the
  rules' own reference of the person, `recommender._reference`, in the units
  of `hrv`: heart rate up and ln RMSSD down), clipped to ``±clip`` so that
  one outlying window adds at most ``(clip - k) * dt``: a single spike
  cannot reach ``h``.
- Windows overlap (60 s every 5 s), so the sum counts *time* (z-minutes),
  not windows: ``dt_t`` is the time since the previous valid window, capped
  at ``max_step_s`` (a data gap adds no evidence). ``h`` is then "minutes at
  one z above the allowance".
- ``m_t`` is the in-control mean. Page's CUSUM assumes it known: 0 here is the
  person's baseline (``reference_half_life_s = 0``). Waking from sleep
  shifts a person's level against an hour-long baseline for an hour, which
  is not an episode; by default ``m_t`` therefore follows ``x`` (an
  exponentially weighted mean, never below 0) while the sum is 0 and is
  frozen while evidence accumulates (a self-starting CUSUM in the sense of
  Hawkins & Olwell, *Cumulative Sum Charts and Charting for Quality
  Improvement*, Springer 1998, ch. 7): slow drifts are absorbed, an onset
  within a minute or two is not.

Pure functions on plain numbers; the evaluator keeps ``S``, ``m`` and the
time of the last update per device and rule (`recommender._tracks`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from hrv import WINDOW_FIGURES, WindowMetrics
from recommender._conditions import Condition, ConditionSyntaxError, parse_condition

_NUMERIC = frozenset(WINDOW_FIGURES)


def _condition(value: object) -> object:
    if isinstance(value, str):
        try:
            return parse_condition(value)
        except ConditionSyntaxError as exc:
            raise ValueError(str(exc)) from exc
    return value


class Evidence(BaseModel):
    """A rule's sustained-evidence path (``[rules.evidence]``): a one-sided CUSUM.

    ``weights`` maps window figures to their weight in the statistic ``x``;
    ``k`` (z) is the reference value (allowance), ``h`` (z·min) the decision
    interval; see the module doc for ``clip``, ``max_step_s`` and
    ``reference_half_life_s``. ``when`` lists conditions the window must meet
    for the evidence to fire (it accumulates regardless). ``above_rest_bpm``
    asks heart rate to be that far over the person's waking rest
    (`recommender._reference`) too: a sleeper's lighter (REM) stretches look
    like a moderate episode against the night's level, but stay below the
    day's rest. ``hr_backing`` counts ``hr_z`` only up to that many times the
    ln RMSSD drop (``-ln_rmssd_z``): mental stress is mostly vagal
    withdrawal, a surge on standing up or a startle is not.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    weights: dict[str, float] = Field(
        default_factory=lambda: {"hr_z": 0.5, "ln_rmssd_z": -0.5}, min_length=1
    )
    k: float = Field(default=0.75, ge=0, le=10)
    h: float = Field(default=1.5, gt=0, le=100)
    clip: float = Field(default=3.0, gt=0, le=100)
    max_step_s: float = Field(default=30.0, gt=0, le=3600)
    reference_half_life_s: float = Field(default=300.0, ge=0, le=86400)
    when: tuple[Annotated[Condition, BeforeValidator(_condition)], ...] = ()
    above_rest_bpm: float | None = Field(default=None, ge=-50, le=100)
    hr_backing: float | None = Field(default=None, gt=0, le=100)

    @model_validator(mode="after")
    def _known_fields(self) -> Self:
        for name, weight in self.weights.items():
            if name not in _NUMERIC:
                raise ValueError(f"unknown field {name!r}; known: {', '.join(sorted(_NUMERIC))}")
            if not math.isfinite(weight):
                raise ValueError(f"weight of {name!r} must be finite")
        return self

    def statistic(
        self, window: WindowMetrics, personal: Mapping[str, float] | None = None
    ) -> float:
        """``x`` of one window, clipped to ±clip; NaN when a weighted figure is NaN.

        Figures named in ``personal`` (the z-scores against the person's own
        reference, `recommender._reference`) stand in for the window's.
        """
        mine = personal or {}
        values = {
            name: float(getattr(window, name)) if name not in mine else mine[name]
            for name in self.weights
        }
        if self.hr_backing is not None and "hr_z" in values and "ln_rmssd_z" in values:
            backed = self.hr_backing * max(-values["ln_rmssd_z"], 0.0)
            values["hr_z"] = min(values["hr_z"], backed)
        x = math.fsum(w * values[name] for name, w in self.weights.items())
        return x if math.isnan(x) else min(max(x, -self.clip), self.clip)


@dataclass(frozen=True, slots=True, kw_only=True)
class CusumState:
    """The sum (z·min), the in-control mean (z) and the time of their last update (s)."""

    s_z_min: float = 0.0
    reference: float = 0.0
    t_s: float = math.nan


def cusum_step(
    state: CusumState,
    x: float,
    t_s: float,
    evidence: Evidence,
    *,
    k: float | None = None,
) -> CusumState:
    """The state after observation ``x`` at ``t_s`` (``k`` overrides the rule's allowance).

    A NaN ``x`` leaves the sum as it is and only moves the clock (no
    evidence either way). The first observation only starts the clock.
    """
    allowance = evidence.k if k is None else k
    dt = 0.0 if math.isnan(state.t_s) else min(max(t_s - state.t_s, 0.0), evidence.max_step_s)
    if math.isnan(x):
        return CusumState(s_z_min=state.s_z_min, reference=state.reference, t_s=t_s)
    s = max(0.0, state.s_z_min + (x - state.reference - allowance) * dt / 60.0)
    reference = state.reference
    half_life = evidence.reference_half_life_s
    if half_life > 0 and s == 0.0:
        keep = 0.5 ** (dt / half_life)
        reference = max(0.0, keep * reference + (1.0 - keep) * x)
    return CusumState(s_z_min=s, reference=reference, t_s=t_s)


def reset(state: CusumState) -> CusumState:
    """The sum back to 0 (after a trigger, or the end of an episode); mean and clock kept."""
    return CusumState(s_z_min=0.0, reference=state.reference, t_s=state.t_s)


def evidence_terms(evidence: Evidence) -> Mapping[str, float]:
    """The statistic's weights, for explanations."""
    return dict(evidence.weights)
