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
looking at the score, so the recursion stays linear: windows count when
valid; a stress episode of minutes barely moves an hour-long average.

Recursion. The running sums (weight, valid ln RMSSD, valid HR) follow the
first-order recursion y[k] = x[k] + d y[k-1] over a device's window numbers
k (window end = k * step_s). It is evaluated without a loop over windows by
its closed form within blocks of B windows aligned to k // B (Blelloch 1990,
"Prefix sums and their applications", sec. 1.4: first-order linear
recurrences as scans): with ``a`` the window before the block (or before
the recording's first window), y[k] = d^(k-a) (y[a] + S[k]) and
S[k] = sum_{j=a+1..k} x[j] d^-(j-a), a left-to-right cumulative sum. Because
the blocks follow the absolute window numbers and the cumulative sum is
strictly sequential, a stream that stores (a, y[a], S) and resumes the sum
adds the same numbers in the same order as one pass over the recording:
both faces produce the same bits however the windows are split. B is 256
windows, fewer when d^-B would pass 2^512 (steps of hours).

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
from numpy.typing import NDArray

from hrv._records import BoolArray, FloatArray

IntArray = NDArray[np.int64]

PRIOR_LN_RMSSD = 3.5
PRIOR_HR_BPM = 70.0
LN_RMSSD_UNIT = 0.3
HR_UNIT_BPM = 5.0
SI_REST = 10.0
SI_UNIT = 5.0
WEIGHTS = (0.4, 0.4, 0.2)
SLOPE = 1.6
CENTRE = 1.6
BLOCK_WINDOWS = 256
#: Bound on d^-B within a block (keeps the block's factors far from overflow).
MAX_BLOCK_LOG2 = 512.0


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

    def __post_init__(self) -> None:
        if not self.half_life_s > 0:
            raise ValueError(f"BaselineRule needs half_life_s > 0: {self}")

    def decay(self, step_s: float) -> float:
        """Weight factor per window step."""
        return float(2.0 ** (-step_s / self.half_life_s))


@dataclass(frozen=True, slots=True, kw_only=True)
class BaselineState:
    """Running baseline sums of device rows, held in the blocked closed form.

    ``held``, ``partial`` and ``sums`` are (3, rows): weight (in windows),
    ln RMSSD sum, HR sum. ``anchor`` is the window number ``a`` whose sums
    ``held`` holds (y[a] in the module docstring), ``partial`` is S up to the
    row's last window (zero when that window is ``a``), and ``sums`` is y at
    the last window: the baseline in force.
    """

    anchor: IntArray
    held: FloatArray
    partial: FloatArray
    sums: FloatArray

    @classmethod
    def starting(cls, sums: FloatArray, first: IntArray) -> BaselineState:
        """Rows whose next window is number ``first``, from running ``sums``."""
        return cls(anchor=first - 1, held=sums, partial=np.zeros_like(sums), sums=sums)


@dataclass(frozen=True, slots=True, kw_only=True)
class BaselineTrack:
    """Baselines in force before each window, and the rows' state after their last window."""

    ln_rmssd: FloatArray
    hr_bpm: FloatArray
    after: BaselineState


def block_windows(decay: float) -> int:
    """Windows per block: `BLOCK_WINDOWS`, fewer if d^-B would pass 2^`MAX_BLOCK_LOG2`."""
    per_window = -float(np.log2(decay))  # step_s / half_life_s
    if per_window <= 0.0:
        return BLOCK_WINDOWS
    return int(max(1.0, min(float(BLOCK_WINDOWS), MAX_BLOCK_LOG2 // per_window)))


def scatter(dest: FloatArray, at: IntArray, values: FloatArray) -> None:
    """``dest[:, at] = values`` for (series, n) arrays, one series at a time (numpy's fast path)."""
    for lane, value in zip(dest, values, strict=True):
        lane[at] = value


def track_baselines(
    *,
    row: IntArray,
    index: IntArray,
    valid: BoolArray,
    ln_rmssd: FloatArray,
    hr_bpm: FloatArray,
    state: BaselineState,
    decay: float,
) -> BaselineTrack:
    """Run the decaying sums over windows (flat, sorted by row, then window number).

    Each row's window numbers follow on without holes from the last window
    its ``state`` covers. Python loops only over the blocks a row spans in
    this call (one step per `BLOCK_WINDOWS` windows), never over windows.
    """
    block = block_windows(decay)
    steps = np.arange(block + 1, dtype=np.float64)
    grow = decay**steps
    shrink = decay**-steps
    x = np.stack([valid * 1.0, np.where(valid, ln_rmssd, 0.0), np.where(valid, hr_bpm, 0.0)])
    n_rows = state.anchor.size
    counts = np.bincount(row, minlength=n_rows)
    first = np.zeros(n_rows, np.int64)
    np.cumsum(counts[:-1], out=first[1:])
    has = np.flatnonzero(counts)
    at = first[has]
    last = at + counts[has] - 1

    # Segments: per row, the block its state is in, then each further block it reaches.
    q0 = (state.anchor + 1) // block
    n_seg_row = np.zeros(n_rows, np.int64)
    n_seg_row[has] = index[last] // block - q0[has] + 1
    seg_first = np.zeros(n_rows, np.int64)
    np.cumsum(n_seg_row[:-1], out=seg_first[1:])
    n_seg = int(n_seg_row.sum())
    seg_row = np.repeat(np.arange(n_rows), n_seg_row)
    seg_j = np.arange(n_seg) - seg_first[seg_row]
    seg_anchor = np.where(seg_j == 0, state.anchor[seg_row], (q0[seg_row] + seg_j) * block - 1)
    opening = seg_first[has]
    seg = seg_first[row] + index // block - q0[row]
    p = index - seg_anchor[seg]

    # S per segment: a cumulative sum along each segment, resumed from the stored partial.
    seg_count = np.bincount(seg, minlength=n_seg)
    seg_start = np.zeros(n_seg, np.int64)
    np.cumsum(seg_count[:-1], out=seg_start[1:])
    width = int(seg_count.max(initial=0)) + 1
    cell = seg * width + 1 + np.arange(row.size) - seg_start[seg]
    grid = np.zeros((3, n_seg * width))
    scatter(grid, opening * width, state.partial.take(has, axis=1))
    scatter(grid, cell, x * shrink[p])
    # Strictly left to right, so the same bits however the windows were split.
    partial = np.cumsum(grid.reshape(3, n_seg, width), axis=2).reshape(3, -1)
    seg_end = partial.take(np.arange(n_seg) * width + seg_count, axis=1)

    # y[a] of each segment: one step per block, all rows at once.
    held = np.zeros((3, n_seg))
    scatter(held, opening, state.held.take(has, axis=1))
    for j in range(1, int(n_seg_row.max(initial=0))):
        now = seg_first[n_seg_row > j] + j
        ahead = grow[seg_anchor[now] - seg_anchor[now - 1]]
        scatter(held, now, ahead * (held.take(now - 1, axis=1) + seg_end.take(now - 1, axis=1)))

    y = grow[p] * (held.take(seg, axis=1) + partial.take(cell, axis=1))
    before = np.empty_like(y)
    before[:, 1:] = y[:, :-1]
    start = state.held.take(has, axis=1) + state.partial.take(has, axis=1)
    scatter(before, at, grow[index[at] - 1 - state.anchor[has]] * start)

    last_seg = seg[last]
    anchor = state.anchor.copy()
    anchor[has] = seg_anchor[last_seg]
    after = BaselineState(
        anchor=anchor, held=state.held.copy(), partial=state.partial.copy(), sums=state.sums.copy()
    )
    scatter(after.held, has, held.take(last_seg, axis=1))
    scatter(after.partial, has, partial.take(cell[last], axis=1))
    scatter(after.sums, has, y.take(last, axis=1))
    return BaselineTrack(ln_rmssd=before[1] / before[0], hr_bpm=before[2] / before[0], after=after)


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
