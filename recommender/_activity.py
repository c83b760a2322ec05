"""Physical activity recognised from heart rate and RR alone (no motion sensor).

Mental stress and a brisk walk both raise heart rate and lower RMSSD; what
tells them apart in the windows is how the two move together:

- **Coupling.** Mental stress is mostly vagal withdrawal: ln RMSSD falls
  about 0.04-0.07 per bpm of heart-rate rise, i.e. ``-ln_rmssd_z / hr_z`` (the
  window's within-person units, 0.3 ln and 5 bpm) of 0.7-1.2. With exercise
  the heart rate rises by far more than vagal withdrawal explains (central
  command, muscle afferents, then sympathetic drive): ln RMSSD falls about
  0.025-0.035 per bpm (Michael et al., Front. Physiol. 8:301, 2017), a
  coupling of 0.4-0.6, while the whole rhythm turns metronome-like.
- **Rise profile.** Exercise keeps heart rate climbing for minutes, fast
  (15-60 bpm/min in 60 s windows) and far (25+ bpm over the person's
  baseline, beyond what mental stress produces).

The detector, per device, on valid windows with a baseline (the rules' own
reference of the person, `recommender._reference`, once it has one):

1. ``rising``: heart rate climbed at least ``rise_bpm_per_min`` over the last
   ``rise_span_s``, or did so less than ``settle_s`` ago, with a coupling below
   ``undecided_coupling``: too early to tell; rules that veto activity wait
   (nothing fires, holds keep running). A 60 s window's RMSSD lags its mean
   heart rate through a fast rise (it is the mean of squared successive
   differences over the whole window, still mostly from before the rise), so
   the coupling a window shows then is low for stress and exercise alike;
   ``settle_s`` after the climb has stopped lets it catch up.
2. ``active`` (latched): heart rate ``excess_bpm`` or more over the baseline,
   or, once the rise has levelled off and settled, ``coupled_excess_bpm`` or
   more with either a coupling below ``max_coupling`` plus ``coupling_per_bpm``
   per bpm of excess over ``coupled_excess_bpm`` (the further heart rate has
   gone, the more vagal withdrawal stress would have shown), or the LF power
   (``lf_ms2``, the Mayer-wave band) fallen ``lf_drop`` or more in ln below the
   person's resting LF (``rest_ln_lf``, a decaying mean of ln LF over resting
   windows, half-life ``lf_half_life_s``). Dynamic exercise makes the slow,
   baroreflex-driven (Mayer) oscillation collapse with everything else
   (absolute LF power falls as intensity rises: Perini &
   Veicsteinas, Eur. J. Appl. Physiol. 90:317, 2003; Michael et al. 2017);
   mental stress keeps it, or raises it (Castaldo et al., Biomed. Signal
   Process. Control 18:370, 2015). The spectral figures cover 120 s, so this
   sees a bout only 1-2 minutes in; it is skipped when they are off (NaN).
3. **Breathing** (``breathing_hz``, the RSA peak of the last 60 s, `hrv._spectral`)
   decides when it is known. Exercise hyperpnoea raises the breathing rate far
   more than mental stress does: walking 22-30 breaths/min, against +1-4
   breaths/min over rest under mental stress (Grassmann et al., Neural Plast.
   2016:8146809, a systematic review of respiration under cognitive load;
   Schäfer & Kratky, Ann. Biomed. Eng. 36:476, 2008, for the rate from
   the RSA peak). Per excursion (heart rate ``release_bpm`` or more over the
   baseline, from the first such window):
   - breathing ``breath_rise_hz`` (6 breaths/min) or more over the person's
     resting breathing (``rest_breath_hz``, a decaying mean over resting windows
     like the resting LF) with ``coupled_excess_bpm`` of heart rate is exercise:
     latched at once, even while heart rate climbs;
   - breathing known and under ``breath_calm_hz`` (5 breaths/min) over rest for
     the excursion's first ``breath_wait_s`` (long enough for a walk's
     breathing to show in 60 s windows) is not exercise: the heart-rate
     criteria neither latch nor hold ("rising") for the rest of the excursion,
     and a latch they set in it is dropped. NaN (no spectral figures yet, a
     gap) is unknown, never a verdict, and so is a rise between the two
     thresholds (a walk's breathing on its way up, or a stress episode's
     faster breathing: the shipped scenarios' stress breathes 0.33 Hz against
     0.25 Hz at rest): such a window in the wait starts it again, and the
     heart-rate criteria decide.
4. The latch holds through the bout and its recovery, and releases once heart
   rate has stayed within ``release_bpm`` of the baseline for ``release_s``.

Thresholds are calibrated on `simulators.population` (whose exercise and
stress physiology follow the sources above); see docs/hrv.md for what it
gets right and wrong. Pure: the evaluator keeps `ActivityTrack` per device.
"""

from __future__ import annotations

import enum
import math
from collections import deque
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from hrv import WindowMetrics


class ActivitySettings(BaseModel):
    """Thresholds of the activity detector (``[recommender.activity]``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rise_span_s: float = Field(default=30.0, gt=0, le=600)
    rise_bpm_per_min: float = Field(default=15.0, gt=0, le=200)
    undecided_coupling: float = Field(default=0.6, ge=0, le=10)
    excess_bpm: float = Field(default=32.0, gt=0, le=150)
    coupled_excess_bpm: float = Field(default=12.0, gt=0, le=150)
    max_coupling: float = Field(default=0.45, ge=0, le=10)
    coupling_per_bpm: float = Field(default=0.01, ge=0, le=1)
    release_bpm: float = Field(default=8.0, ge=0, le=150)
    release_s: float = Field(default=180.0, ge=0, le=7200)
    settle_s: float = Field(default=20.0, ge=0, le=600)
    lf_drop: float = Field(default=2.0, gt=0, le=20)
    lf_half_life_s: float = Field(default=300.0, gt=0, le=86400)
    breath_rise_hz: float = Field(default=0.1, gt=0, le=1)
    breath_calm_hz: float = Field(default=0.083, gt=0, le=1)
    breath_wait_s: float = Field(default=120.0, ge=0, le=3600)


def eased(s: ActivitySettings, rel: float) -> ActivitySettings:
    """``s`` for a person whose bouts were missed: coupling limits up by ``rel`` of their
    value, heart-rate limits down by it (``rel`` 0 gives ``s``)."""
    if rel <= 0.0:
        return s
    up, down = 1.0 + rel, 1.0 - rel
    return s.model_copy(
        update={
            "rise_bpm_per_min": s.rise_bpm_per_min * down,
            "undecided_coupling": s.undecided_coupling * up,
            "excess_bpm": s.excess_bpm * down,
            "coupled_excess_bpm": s.coupled_excess_bpm * down,
            "max_coupling": s.max_coupling * up,
        }
    )


class ActivityState(enum.StrEnum):
    """What the detector makes of the latest window."""

    REST = "rest"
    RISING = "rising"  # undecided: heart rate climbing faster than vagal withdrawal explains
    ACTIVE = "active"  # latched until heart rate is back near the baseline


@dataclass
class ActivityTrack:
    """One device's detector state: recent heart rates, the latch and its release clock."""

    recent_hr: deque[tuple[float, float]] = field(default_factory=deque)  # t_s, hr_bpm
    active: bool = False
    since_s: float = math.nan  # when the latch was set
    calm_since_s: float = math.nan  # first window of the running release hold
    fast_s: float = math.nan  # last window with heart rate climbing at rise_bpm_per_min or more
    rest_ln_lf: float = math.nan  # ln LF power (ms²) of the person's resting windows
    lf_t_s: float = math.nan  # its last update
    rest_breath_hz: float = math.nan  # breathing frequency of the person's resting windows
    breath_t_s: float = math.nan  # its last update
    above_s: float = math.nan  # first window of the running excursion (release_bpm or more)
    breath_fast: bool = False  # breathing breath_rise_hz over rest seen in this excursion
    breath_calm: bool = False  # breathing known and calm for its first breath_wait_s
    state: ActivityState = ActivityState.REST


def coupling(hr_z: float, ln_rmssd_z: float) -> float:
    """``-ln_rmssd_z / hr_z``: ln RMSSD lost per unit of heart-rate rise (NaN below 0.5 z)."""
    if not hr_z > 0.5 or math.isnan(ln_rmssd_z):
        return math.nan
    return -ln_rmssd_z / hr_z


def observe(
    track: ActivityTrack,
    window: WindowMetrics,
    s: ActivitySettings,
    *,
    baseline_hr_bpm: float,
    z: tuple[float, float],
) -> ActivityState:
    """Update ``track`` with a valid window, judged against the person's reference level
    (``baseline_hr_bpm``, and the window's ``(hr_z, ln_rmssd_z)`` against it); return (and
    store) the detector's verdict."""
    t_s, hr = window.t_end_s, window.hr_bpm
    excess = hr - baseline_hr_bpm
    if math.isnan(excess):
        return track.state
    recent = track.recent_hr
    if recent and t_s - recent[-1][0] > s.rise_span_s:
        recent.clear()  # after a gap the rise is unseen: judge from fresh windows only
    recent.append((t_s, hr))
    while len(recent) > 1 and recent[1][0] <= t_s - s.rise_span_s:
        recent.popleft()
    span_s = t_s - recent[0][0]
    rise = (hr - recent[0][1]) * 60.0 / span_s if span_s >= s.rise_span_s / 2 else 0.0
    c = coupling(*z)
    rising = rise >= s.rise_bpm_per_min
    if rising:
        track.fast_s = t_s
    # Early in any fast rise RMSSD (a 60 s window) lags heart rate: coupling is judged
    # only once the rise has levelled off and ``settle_s`` more have let RMSSD catch up.
    settling = rising or t_s - track.fast_s < s.settle_s  # fast_s NaN: not settling
    settled = span_s >= s.rise_span_s and not settling
    # The further heart rate has gone, the more vagal withdrawal stress would have shown.
    limit = s.max_coupling + s.coupling_per_bpm * max(excess - s.coupled_excess_bpm, 0.0)
    low_coupling = settled and not math.isnan(c) and c < limit
    ln_lf = math.log(window.lf_ms2) if window.lf_ms2 > 0 else math.nan
    collapsed = ln_lf < track.rest_ln_lf - s.lf_drop  # Mayer waves gone (NaN: unknown)
    _breathing(track, window, excess, s)
    by_hr = excess >= s.excess_bpm or (
        excess >= s.coupled_excess_bpm and (low_coupling or (collapsed and not rising))
    )
    if track.breath_calm and track.active and track.since_s >= track.above_s:
        track.active, track.since_s = False, math.nan  # latched in this excursion: not exercise
    if (by_hr and not track.breath_calm) or (track.breath_fast and excess >= s.coupled_excess_bpm):
        if not track.active:
            track.active, track.since_s = True, t_s
        track.calm_since_s = math.nan
    elif track.active:
        if excess < s.release_bpm:
            if math.isnan(track.calm_since_s):
                track.calm_since_s = t_s
            if t_s - track.calm_since_s >= s.release_s:
                track.active, track.since_s, track.calm_since_s = False, math.nan, math.nan
        else:
            track.calm_since_s = math.nan
    if track.active:
        track.state = ActivityState.ACTIVE
    elif settling and not track.breath_calm and (math.isnan(c) or c < s.undecided_coupling):
        track.state = ActivityState.RISING
    else:
        track.state = ActivityState.REST
        if not settling and excess < s.coupled_excess_bpm:
            if math.isfinite(ln_lf):
                track.rest_ln_lf = _decayed(track.rest_ln_lf, ln_lf, t_s - track.lf_t_s, s)
                track.lf_t_s = t_s
            if math.isfinite(window.breathing_hz):
                track.rest_breath_hz = _decayed(
                    track.rest_breath_hz, window.breathing_hz, t_s - track.breath_t_s, s
                )
                track.breath_t_s = t_s
    return track.state


def breathing_verdict(track: ActivityTrack) -> dict[str, float | str | None]:
    """What the detector knows of the person's breathing, for `Evaluator.explain`: the
    resting breathing (Hz; None until learnt) and the running excursion's verdict."""
    if math.isnan(track.above_s):
        verdict = "no excursion"
    elif track.breath_fast:
        verdict = "fast: exercise"
    elif track.breath_calm:
        verdict = "calm: not exercise"
    else:
        verdict = "undecided"
    rest = track.rest_breath_hz
    return {"rest_hz": rest if math.isfinite(rest) else None, "excursion": verdict}


def _breathing(
    track: ActivityTrack, window: WindowMetrics, excess: float, s: ActivitySettings
) -> None:
    """Follow the running excursion and what its breathing says (see the module docs)."""
    t_s = window.t_end_s
    if excess < s.release_bpm:
        track.above_s, track.breath_fast, track.breath_calm = math.nan, False, False
        return
    if math.isnan(track.above_s):
        track.above_s = t_s
    rise = window.breathing_hz - track.rest_breath_hz  # NaN: unknown
    if rise >= s.breath_rise_hz:
        track.breath_fast, track.breath_calm = True, False
    elif math.isnan(rise) or rise >= s.breath_calm_hz:
        if t_s - track.above_s < s.breath_wait_s:
            track.above_s = math.nan  # undecided in the wait: it starts again when calm
    elif not track.breath_fast and t_s - track.above_s >= s.breath_wait_s:
        track.breath_calm = True  # a walk's breathing would have shown by now


def _decayed(mean: float, value: float, dt_s: float, s: ActivitySettings) -> float:
    """A resting mean (ln LF, breathing) after taking in a resting window's ``value``: a
    time-decaying mean (half-life ``lf_half_life_s``; a gap counts as at most 30 s, so the
    first window after it does not take over). The first value starts it."""
    if math.isnan(mean):
        return value
    keep: float = 0.5 ** (min(max(dt_s, 0.0), 30.0) / s.lf_half_life_s)
    return keep * mean + (1.0 - keep) * value
