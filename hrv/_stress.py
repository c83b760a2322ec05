"""Personal baselines (decaying averages of valid windows) and the 0-100 stress score.

Baseline. For each device, the baseline of ln(RMSSD) and of HR is a decaying
(exponentially weighted) average over the device's valid windows, started
from a population prior (ln RMSSD 3.5, i.e. RMSSD 33 ms, and HR 70 bpm;
Nunan et al. 2010 give 42 ms / 72 bpm for healthy adults at rest, lower
RMSSD with age) that carries the weight of ``prior_s`` seconds of windows.
Every window, valid or not, ages all weights by ``2 ** (-step_s / half_life_s)``
(one hour by default), so the prior fades and the person's own data take
over: after 10 minutes of valid data the personal part has about half the
weight, after an hour about 85 %. The window being scored is not in its own
baseline (the baseline is the state before it). "Calm" is defined without
looking at the score, so the recursion stays linear and vectorizes as a
first-order IIR filter (`scipy.signal.lfilter`): windows count when valid;
a stress episode of minutes barely moves an hour-long average.

State: per device, ``weight_s`` (the decayed seconds of windows behind the
baseline, prior included) and the two baseline values. That is all that
is exported, imported and persisted across restarts.

Score. Deviations from the baseline are measured in fixed within-person
units: u_ln = (baseline ln RMSSD - ln RMSSD) / 0.3 (a 26 % RMSSD drop) and
u_hr = (HR - baseline HR) / 5 bpm; the Kubios stress index adds
u_si = (sqrt SI - 10) / 5 (Kubios reports 7-12 at rest, Baevsky's SI rises
with sympathetic activity). They combine as
c = 0.4 u_ln + 0.4 u_hr + 0.2 u_si and map to 0-100 by a logistic
stress = 100 / (1 + exp(-1.6 (c - 1.6))). At the baseline (c = 0) that is
7; HR +15 bpm with RMSSD halved (u_ln 2.3, u_hr 3) gives c = 2.1 plus the SI
term, i.e. 70-90. ``ln_rmssd_z`` and ``hr_z`` are -u_ln and u_hr. Invalid
windows get NaN scores and leave the baseline alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import lfilter

from hrv._records import BoolArray, FloatArray

PRIOR_LN_RMSSD = 3.5
PRIOR_HR_BPM = 70.0
LN_RMSSD_UNIT = 0.3
HR_UNIT_BPM = 5.0
SI_REST = 10.0
SI_UNIT = 5.0
WEIGHTS = (0.4, 0.4, 0.2)
SLOPE = 1.6
CENTRE = 1.6


@dataclass(frozen=True, slots=True, kw_only=True)
class Baseline:
    """One person's baseline: values and the decayed seconds of windows behind them."""

    ln_rmssd: float
    hr_bpm: float
    weight_s: float

    def __post_init__(self) -> None:
        if not (self.weight_s > 0 and np.isfinite(self.ln_rmssd) and np.isfinite(self.hr_bpm)):
            raise ValueError(f"Baseline needs finite values and weight_s > 0: {self}")


@dataclass(frozen=True, slots=True, kw_only=True)
class BaselineRule:
    """How baselines start and age."""

    prior: Baseline = Baseline(ln_rmssd=PRIOR_LN_RMSSD, hr_bpm=PRIOR_HR_BPM, weight_s=600.0)
    half_life_s: float = 3600.0

    def decay(self, step_s: float) -> float:
        """Weight factor per window step."""
        return float(2.0 ** (-step_s / self.half_life_s))


@dataclass(frozen=True, slots=True, kw_only=True)
class BaselineTrack:
    """Baselines before each window and the state after the last, for rows of devices.

    All arrays are 2-D (device row, window); the state arrays hold, per row,
    the running sums ``weight`` (in windows), ``ln_sum`` and ``hr_sum`` after
    each window, so a caller can pick each row's last real column.
    """

    ln_rmssd: FloatArray
    hr_bpm: FloatArray
    weight: FloatArray
    ln_sum: FloatArray
    hr_sum: FloatArray


def _ewma(x: FloatArray, before: FloatArray, decay: float) -> FloatArray:
    """y[k] = x[k] + decay * y[k-1] along axis 1, with y[-1] = ``before`` per row."""
    y, _ = lfilter([1.0], [1.0, -decay], x, axis=1, zi=(decay * before)[:, None])
    out: FloatArray = y
    return out


def track_baselines(
    *,
    valid: BoolArray,
    ln_rmssd: FloatArray,
    hr_bpm: FloatArray,
    weight: FloatArray,
    ln_sum: FloatArray,
    hr_sum: FloatArray,
    decay: float,
) -> BaselineTrack:
    """Run the decaying averages over windows (2-D: row per device) from per-row sums."""
    v = valid.astype(np.float64)
    w = _ewma(v, weight, decay)
    ls = _ewma(np.where(valid, ln_rmssd, 0.0), ln_sum, decay)
    hs = _ewma(np.where(valid, hr_bpm, 0.0), hr_sum, decay)
    w_before = np.concatenate([weight[:, None], w[:, :-1]], axis=1)
    ls_before = np.concatenate([ln_sum[:, None], ls[:, :-1]], axis=1)
    hs_before = np.concatenate([hr_sum[:, None], hs[:, :-1]], axis=1)
    return BaselineTrack(
        ln_rmssd=ls_before / w_before,
        hr_bpm=hs_before / w_before,
        weight=w,
        ln_sum=ls,
        hr_sum=hs,
    )


def to_sums(baseline: Baseline, step_s: float) -> tuple[float, float, float]:
    """A baseline as running sums (weight in windows of ``step_s``)."""
    weight = baseline.weight_s / step_s
    return weight, baseline.ln_rmssd * weight, baseline.hr_bpm * weight


def from_sums(weight: float, ln_sum: float, hr_sum: float, step_s: float) -> Baseline:
    """Running sums back to a `Baseline`."""
    return Baseline(ln_rmssd=ln_sum / weight, hr_bpm=hr_sum / weight, weight_s=weight * step_s)


@dataclass(frozen=True, slots=True, kw_only=True)
class StressScore:
    """The score and its parts, one array each."""

    stress: FloatArray
    ln_rmssd_z: FloatArray
    hr_z: FloatArray


def stress_score(
    *,
    valid: BoolArray,
    ln_rmssd: FloatArray,
    hr_bpm: FloatArray,
    stress_index: FloatArray,
    baseline_ln_rmssd: FloatArray,
    baseline_hr_bpm: FloatArray,
) -> StressScore:
    """0-100 stress of each window against its baseline (formula in the module docstring)."""
    ln_z = (ln_rmssd - baseline_ln_rmssd) / LN_RMSSD_UNIT
    hr_z = (hr_bpm - baseline_hr_bpm) / HR_UNIT_BPM
    si = np.where(np.isfinite(stress_index), stress_index, SI_REST)
    si_u = (si - SI_REST) / SI_UNIT
    w_ln, w_hr, w_si = WEIGHTS
    c = w_ln * -ln_z + w_hr * hr_z + w_si * si_u
    with np.errstate(over="ignore", invalid="ignore"):
        stress = 100.0 / (1.0 + np.exp(-SLOPE * (c - CENTRE)))
    nan = np.full(valid.shape, np.nan)
    return StressScore(
        stress=np.where(valid, stress, nan),
        ln_rmssd_z=np.where(valid, ln_z, nan),
        hr_z=np.where(valid, hr_z, nan),
    )
