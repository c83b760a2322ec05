"""RR intervals sent in milliseconds instead of 1/1024 s: detected from the heart rate, corrected.

0x2A37 carries RR in 1/1024 s (`ingest.hrm.RR_UNIT_MS`). A strap whose
firmware writes milliseconds there decodes to RR ``1000/1024`` of the truth:
2.3 % short, beats too close, and the summed-RR beat clock (`ingest.timing`)
falling 23 ms behind every second, re-anchoring every few seconds.

The same notification carries the strap's own heart rate, computed on the
strap from the true intervals: an integer (rounded, or truncated: -0.8 % at
60 bpm) of an average over its last few beats. So for notification ``i``

    ratio_i(m) = hr_i / model_m(RR decoded up to its last beat)

is about 1 when the units are right and ``1000/1024`` (0.977) when they are
ms, for the averaging ``m`` the strap uses. That is not known; the models
tried are 60000 over a box or exponential average of the last RR, and a box
or exponential average of 60000/RR, over 1 to `MODEL_BEATS` beats. For each
the spread of ``log ratio_i(m)`` over a block of notifications is taken
(median absolute deviation), and the model with the least spread (the
strap's, or what comes closest) gives the block's ratio,
``exp(median log ratio_i(m))``; medians keep a missed or extra beat from
moving it. Comparing plain block means (HR field against 60000/mean RR)
fails: the averaging's lag at a block's edges moved 20-notification blocks
of the shipped scenarios, right units, anywhere in 0.969-1.046.

A block votes for a unit when its ratio lies in that unit's band (`UNITS_BAND`,
`MS_BAND`; the gap between them votes for nothing); two blocks in a row
voting alike decide (about 90 notifications after the start: `HISTORY` RR
to fill the averages, then two blocks of `BLOCK`). Property-tested on
simulated people and straps of every averaging above (tests/ingest). `RrUnitCheck` multiplies RR by
1024/1000 from the decision on. Notifications are not held back until
then: that would delay every correct strap's first beats by over a minute
to mend the first minute of a rare wrong one, whose beats pass as decoded
(and are cut into short segments by the beat clock, which sees them fall
behind the arrival times). The caller starts a new segment at the
decision, so no window mixes the two units. Pure: no IO, no clock.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import replace
from typing import Final

import numpy as np

from hrv import FloatArray
from ingest.hrm import RR_UNIT_MS, HeartRateMeasurement

__all__ = [
    "BLOCK",
    "HISTORY",
    "MODEL_BEATS",
    "MS_BAND",
    "MS_RATIO",
    "UNITS_BAND",
    "RrUnit",
    "RrUnitCheck",
    "block_ratio",
]

MS_RATIO: Final = RR_UNIT_MS
"""The ratio when RR are ms read as 1/1024 s: 1000/1024."""
UNITS_BAND: Final = (0.987, 1.025)
"""Block ratios voting for 1/1024 s (truncated HR fields sit near 0.992)."""
MS_BAND: Final = (0.950, 0.983)
"""Block ratios voting for ms (centre 0.977; truncated HR fields near 0.969)."""
TRUNCATION_MARGIN: Final = 0.002
"""A ms vote also needs the ratio below ``1 - 1/HR`` by this much: a strap truncating a
steady heart rate to whole bpm can lose almost one bpm (2.2 % at 45 bpm), which must not
pass for ms. Below about 55 bpm ms can therefore go unnoticed: safe, RR are then used as
decoded."""
MODEL_BEATS: Final = 12
"""Strap averages tried: over the last 1 to 12 RR (box), of span 2 to 12 (exponential)."""
HISTORY: Final = 32
"""Trailing RR kept for the averages (an exponential one of span 12 weighs the 32nd 0.4 %)."""
BLOCK: Final = 30
"""Notifications (with RR, skin contact, a heart rate and `HISTORY` RR before) per vote."""
_RR_MAX_MS: Final = 0xFFFF * RR_UNIT_MS
"""The largest RR a `HeartRateMeasurement` holds."""


class RrUnit(enum.StrEnum):
    """What a device's RR values turned out to be."""

    UNKNOWN = "unknown"
    UNITS_1024 = "1/1024 s"
    MILLISECONDS = "ms"


def _model_weights() -> FloatArray:
    """Weights (`HISTORY` x models) over the trailing RR, newest first: a box average of the
    last 1 to `MODEL_BEATS`, and an exponential one of span 2 to `MODEL_BEATS` (its tail's
    weight left on the oldest)."""
    columns = []
    for k in range(1, MODEL_BEATS + 1):
        columns.append(np.where(np.arange(HISTORY) < k, 1.0 / k, 0.0))
    for span in range(2, MODEL_BEATS + 1):
        alpha = 2.0 / (span + 1)
        w = alpha * (1 - alpha) ** np.arange(HISTORY)
        w[-1] += 1.0 - w.sum()
        columns.append(w)
    return np.column_stack(columns)


_WEIGHTS: Final = _model_weights()


def block_ratio(hr_bpm: FloatArray, trailing_rr_ms: FloatArray) -> float:
    """A block's ratio (module docstring): ``hr_bpm`` of N notifications, ``trailing_rr_ms``
    (N x `HISTORY`) the RR up to each one's last beat, oldest first."""
    hr = np.asarray(hr_bpm, dtype=np.float64)
    rr = np.asarray(trailing_rr_ms, dtype=np.float64)
    if hr.ndim != 1 or not hr.size or rr.shape != (hr.size, HISTORY):
        raise ValueError(f"block_ratio needs N heart rates and N x {HISTORY} RR")
    newest_first = rr[:, ::-1]
    model_hr = np.hstack(
        [60000.0 / (newest_first @ _WEIGHTS), (60000.0 / newest_first) @ _WEIGHTS]
    )  # strap HR as 60000 / average RR, or as the average of 60000 / RR
    logs = np.log(hr[:, None] / model_hr)
    centre = np.median(logs, axis=0)
    spread = np.median(np.abs(logs - centre), axis=0)
    return float(np.exp(centre[int(np.argmin(spread))]))


def _vote(ratio: float, hr_bpm: float) -> RrUnit:
    """The unit a block's ratio votes for; ``hr_bpm`` (its median) bounds truncation's bias."""
    if UNITS_BAND[0] <= ratio <= UNITS_BAND[1]:
        return RrUnit.UNITS_1024
    truncated_low = 1.0 - 1.0 / hr_bpm - TRUNCATION_MARGIN
    if MS_BAND[0] <= ratio <= min(MS_BAND[1], truncated_low):
        return RrUnit.MILLISECONDS
    return RrUnit.UNKNOWN


class RrUnitCheck:
    """One device's RR unit, decided from blocks of notifications (module docstring); from the
    decision on, `take` returns RR sent in ms corrected to what they mean."""

    def __init__(self) -> None:
        self.unit = RrUnit.UNKNOWN
        self.ratios: list[float] = []
        """Each block's ratio, oldest first (the last two decided)."""
        self.corrected_rr = 0
        self._recent: deque[float] = deque(maxlen=HISTORY)
        self._hr: list[float] = []
        self._trailing: list[list[float]] = []
        self._last_vote = RrUnit.UNKNOWN

    def take(self, m: HeartRateMeasurement) -> HeartRateMeasurement:
        """Learn from ``m`` while undecided; return it with its RR in ms as far as known."""
        if self.unit is RrUnit.UNKNOWN and m.sensor_contact is not False:
            self._observe(m)
        if self.unit is not RrUnit.MILLISECONDS or not m.rr_ms:
            return m
        self.corrected_rr += len(m.rr_ms)
        # Over 64 s when corrected (junk in any unit): left as is for the input guard to drop.
        rr_ms = tuple(rr / MS_RATIO if rr / MS_RATIO <= _RR_MAX_MS else rr for rr in m.rr_ms)
        return replace(m, rr_ms=rr_ms)

    def link_down(self) -> None:
        """The RR before a disconnect do not precede the next ones: start the trailing RR anew."""
        self._recent.clear()

    def _observe(self, m: HeartRateMeasurement) -> None:
        self._recent.extend(m.rr_ms)
        if not (m.rr_ms and m.hr_bpm and len(self._recent) == HISTORY):
            return
        self._hr.append(float(m.hr_bpm))
        self._trailing.append(list(self._recent))
        if len(self._hr) < BLOCK:
            return
        ratio = block_ratio(np.array(self._hr), np.array(self._trailing))
        vote = _vote(ratio, float(np.median(self._hr)))
        self._hr, self._trailing = [], []
        self.ratios.append(ratio)
        if vote is not RrUnit.UNKNOWN and vote is self._last_vote:
            self.unit = vote
        self._last_vote = vote
