"""The person's own reference level, kept by the rules: what "over baseline" means to them.

The engine's baseline (`hrv`, a one-hour decaying mean of every valid
window) takes in whatever the person does: after a 40-minute run it sits
20 bpm high for hours and hides the next episode; after a night it sits low
and makes the morning look stressed. The rules keep a second, robust
reference per device:

- **Level**: a decaying mean of heart rate and ln RMSSD with a half-life of
  ``half_life_s`` of *time* (30 min), fed only windows that are neither
  physical activity (`recommender._activity`, latched through the recovery)
  nor inside an episode the rules have fired on (for at most
  ``max_freeze_s``, so a lasting shift of level is taken in all the same).
  Each window's pull is clipped at ``clip_z`` within-person units (a Huber
  M-estimate in recursive form, Huber 1964; robust exponential smoothing,
  Cipra, J. Forecasting 11:57, 1992), so an episode the rules missed moves it
  little. The first windows are averaged without a clip (weight grows 1/n),
  so a new device has a level within minutes.
- **Waking rest** (``rest_hr_bpm``): the level's running peak, following it
  up at once and down with a half-life of ``rest_half_life_s`` (a day). In
  sleep the level sinks 6-12 bpm below the day's; waking rest barely moves,
  so a REM stretch (HR +5-8 bpm and RMSSD -25-45 % against deep sleep:
  physiologically a "moderate episode") stays below it, while stress (the
  sympathetic arousal of a waking person) rises above it.

Within-person z-scores against the level use the engine's fixed units
(`hrv`: 5 bpm and 0.3 in ln RMSSD). Pure: the evaluator keeps a
`ReferenceTrack` per device and persists it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from hrv import WindowMetrics

HR_UNIT_BPM = 5.0
LN_RMSSD_UNIT = 0.3


class ReferenceSettings(BaseModel):
    """How the person's reference level follows them (``[recommender.reference]``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    half_life_s: float = Field(default=1800.0, gt=0, le=86400)
    clip_z: float = Field(default=1.0, gt=0, le=100)
    warm_s: float = Field(default=600.0, ge=0, le=86400)
    max_step_s: float = Field(default=30.0, gt=0, le=3600)
    max_freeze_s: float = Field(default=3600.0, ge=0, le=86400)
    rest_half_life_s: float = Field(default=86400.0, gt=0, le=30 * 86400)


@dataclass
class ReferenceTrack:
    """One device's reference: level, its weight (s of windows), waking rest, clocks."""

    hr_bpm: float = math.nan
    ln_rmssd: float = math.nan
    weight_s: float = 0.0
    t_s: float = math.nan  # last update
    rest_hr_bpm: float = math.nan
    frozen_since_s: float = math.nan  # first window held out of the level (episode)

    @property
    def ready(self) -> bool:
        """True once the level has a first window."""
        return not math.isnan(self.hr_bpm)

    def z(self, window: WindowMetrics) -> tuple[float, float]:
        """The window's ``(hr_z, ln_rmssd_z)`` against this level (NaN before the first)."""
        return (
            (window.hr_bpm - self.hr_bpm) / HR_UNIT_BPM,
            (window.ln_rmssd - self.ln_rmssd) / LN_RMSSD_UNIT,
        )


def update(
    track: ReferenceTrack,
    window: WindowMetrics,
    s: ReferenceSettings,
    *,
    active: bool,
    in_episode: bool,
) -> None:
    """Take a valid window into ``track`` (or hold it out: activity, a fired episode)."""
    t_s, hr, ln = window.t_end_s, window.hr_bpm, window.ln_rmssd
    if not (math.isfinite(hr) and math.isfinite(ln)):
        return
    if active or in_episode:
        if math.isnan(track.frozen_since_s):
            track.frozen_since_s = t_s
        if active or t_s - track.frozen_since_s < s.max_freeze_s:
            return
    else:
        track.frozen_since_s = math.nan
    if not track.ready:
        track.hr_bpm, track.ln_rmssd, track.weight_s, track.t_s = hr, ln, s.max_step_s, t_s
        track.rest_hr_bpm = hr
        return
    dt = min(max(t_s - track.t_s, 0.0), s.max_step_s)
    track.weight_s = track.weight_s * 0.5 ** (max(t_s - track.t_s, 0.0) / s.half_life_s) + dt
    alpha = dt / track.weight_s if track.weight_s > 0 else 1.0
    d_hr, d_ln = hr - track.hr_bpm, ln - track.ln_rmssd
    if track.weight_s >= s.warm_s:
        d_hr = min(max(d_hr, -s.clip_z * HR_UNIT_BPM), s.clip_z * HR_UNIT_BPM)
        d_ln = min(max(d_ln, -s.clip_z * LN_RMSSD_UNIT), s.clip_z * LN_RMSSD_UNIT)
    track.hr_bpm += alpha * d_hr
    track.ln_rmssd += alpha * d_ln
    # Waking rest: up with the level at once, down toward it with rest_half_life_s.
    if track.hr_bpm >= track.rest_hr_bpm:
        track.rest_hr_bpm = track.hr_bpm
    else:
        keep = 0.5 ** (max(t_s - track.t_s, 0.0) / s.rest_half_life_s)
        track.rest_hr_bpm = track.hr_bpm + (track.rest_hr_bpm - track.hr_bpm) * keep
    track.t_s = t_s
