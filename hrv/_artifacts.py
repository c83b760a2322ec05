"""Artifact detection and correction (Lipponen & Tarvainen 2019), incremental and vectorized.

Lipponen J.A., Tarvainen M.P. (2019) "A robust algorithm for heart rate
variability time series artefact correction using novel beat classification",
J Med Eng Technol 43(3):173-181: the method Kubios HRV uses, and NeuroKit2's
``signal_fixpeaks(method="Kubios")``. For each beat i:

- dRR_i = RR_i - RR_i-1 (0 at a device's first beat and after a gap);
- mRR_i = RR_i - median(RR_i-5..i+5), doubled where negative;
- Th1, Th2 = 5.2 x quartile deviation ((Q3 - Q1) / 2) of |dRR| and |mRR|;
- ectopic: dRR_i/Th1 > 1 and S12 < -0.13 dRR_i/Th1 - 0.17, or < -1 and
  S12 > -0.13 dRR_i/Th1 + 0.17, S12 the larger (smaller) neighbouring
  dRR/Th1; long/short: |dRR_i/Th1| > 1 and (dRR_i/Th1 > 1 and S22 < -1, or
  |mRR_i/Th2| > 3, or dRR_i/Th1 < -1 and S22 > 1), S22 the smaller (larger) of
  the next two; among those, missed if long and |RR_i/2 - med| < Th2, extra
  if short and |RR_i + RR_i+1 - med| < Th2.

Changes that make it exact in a stream with a lookahead of 5 beats. (1)
Thresholds are the larger of a trailing and a local term. The trailing term
is fixed per block of 16 beats: 5.2 x QD over the 91 beats *before* the
block (Kubios centres 91 beats on every beat, which would hold every window
back by 45 beats). The local term is per beat: 5.2 x 0.616 x median over 24
values, the |dRR| of the 24 beats ending 5 beats after the beat and the |mRR|
of the 24 ending with it (the last ones known once the 5 beats after it are
in; over a device's first 24 beats, the first 24). For normally distributed
values QD = 0.616 x median of |x|; the median's 50 % breakdown keeps a noise
burst of up to 11 beats from hiding itself, and the local term follows a
sudden rise in variability, e.g. paced breathing, that the trailing 91 beats
have not seen yet. (2) Every neighbourhood is bounded: a beat is decided once
``LOOKAHEAD`` = 5 more (the median's half width) are in (after a device's
first 24 beats), or when the device's data end. The stream engine therefore
emits a window once the 5th beat after its last beat is in, and its
``flush`` decides the last beats with truncated neighbourhoods exactly as the
batch face does at the end of a recording. Each dRR is normalised by the
threshold of the beat being classified.

Two passes, like NeuroKit2's iterative mode (which re-detects on the
corrected series until nothing changes): the first classifies with the
thresholds above; the second recomputes the trailing QD without the beats
the first pass flagged (their |mRR|, their |dRR| and the next beat's), so a
burst of artifacts does not raise the thresholds of the six blocks after it
and hide the next artifact. First-pass flags depend on raw data alone, so a
stream keeps them (one bit per beat) and gets the batch face's thresholds.

A beat is also flagged "premature" when the next beat, judged with this
beat's thresholds, is the long beat of an ectopic pair (next dRR > Th1 and
the larger of this and the one after < -0.13 x next - 0.17, the paper's
ectopic rule seen from the short beat): in large breathing swings the
premature beat's own drop often stays under Th1 while the compensatory beat
trips it, and correcting only the long beat leaves the short one.

Correction keeps the beat grid (beat times are what windows are cut on).
Where the kind says what the true intervals were, that is used: an ectopic
pair's two intervals become their mean (NeuroKit2 moves the ectopic beat
half way), a missed beat's interval its half (as if the missing beat were
added half way), if that lies within Th2 of the median and half as far from
it as the raw RR. Other flagged beats are interpolated linearly between
the nearest plausible neighbours (see `_interpolate`: the right one is
chosen by value among the next 5 beats, whose flags are not decided yet);
straight lines flatten real beat-to-beat changes, which is what
held RMSSD low on a real, very variable recording. The beat after an
"extra" beat (the rest of the split interval) and after a premature one
whose pair mean is used (the rest of the pair) is flagged too. Beats are never inserted or removed,
so ``artifact_pct`` is flagged beats / beats.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from hrv._metrics import UNITS_PER_MS, quantize_rr
from hrv._records import BoolArray, FloatArray

IntArray = NDArray[np.int64]

ALPHA = 5.2
C1 = 0.13
C2 = 0.17
SPAN = 91
BLOCK = 16
LOCAL = 24
#: QD / median of |x| for normal x: (1.150 - 0.319) / 2 / 0.674.
MEDIAN_TO_QD = 0.616
HALF_MEDIAN = 5
LOOKAHEAD = HALF_MEDIAN
#: Beats of history a stream must keep before its first undecided beat: the
#: trailing threshold's 91 |dRR| values end where the beat's block starts (up to
#: 15 beats back) and need one more RR.
HISTORY = SPAN + BLOCK
#: History enough when the block's trailing terms are known: the local |mRR| term
#: reaches 23 beats back (the |dRR| term 18, plus one RR; interpolation 16).
RECENT = LOCAL
#: Thresholds never go below this (ms), so flat recordings do not divide by zero.
THRESHOLD_FLOOR_MS = 5.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Segments:
    """Consecutive beats of several devices laid end to end, one segment per device.

    Per beat: ``rr_ms``, ``gap``, ``k`` (the beat's number since the device's
    first beat), and, known from earlier calls for each segment's first
    ``done`` beats (anything elsewhere): ``mrr_ms``, ``artifact`` (the final
    flags) and ``suspect`` (the first pass's flags). Per segment:
    ``start``/``stop`` flat bounds, ``done`` (leading beats already decided),
    ``final`` (the device's data end here), ``extra_before`` and
    ``pair_before`` (the last decided beat was "extra", or the first of an
    ectopic pair corrected to its mean), and ``trail`` (4 x segments: the
    trailing terms, see `Decided`, of the block of the first undecided beat
    where an earlier call computed them, else NaN).
    """

    rr_ms: FloatArray
    gap: BoolArray
    k: IntArray
    mrr_ms: FloatArray
    artifact: BoolArray
    suspect: BoolArray
    start: IntArray
    stop: IntArray
    done: IntArray
    final: BoolArray
    extra_before: BoolArray
    pair_before: BoolArray
    trail: FloatArray


@dataclass(frozen=True, slots=True, kw_only=True)
class Decided:
    """Beats decided by one call: flat ``index``, segment, corrected RR, flags, mRR.

    ``trail`` (4 x segments): the trailing threshold terms of the block of each
    segment's last decided beat, first pass (|dRR|, |mRR|) then second pass;
    NaN for a segment with no beat decided.
    """

    index: IntArray
    segment: IntArray
    rr_ms: FloatArray
    artifact: BoolArray
    suspect: BoolArray
    extra: BoolArray
    pair: BoolArray
    mrr_ms: FloatArray
    trail: FloatArray


def ranges(start: IntArray, stop: IntArray) -> tuple[IntArray, IntArray]:
    """Row number and value of every integer in the ranges ``[start, stop)``, row by row."""
    n = np.maximum(stop - start, 0)
    row = np.repeat(np.arange(n.size, dtype=np.int64), n)
    first = np.zeros(n.size, np.int64)
    np.cumsum(n[:-1], out=first[1:])
    return row, np.arange(int(n.sum()), dtype=np.int64) - np.repeat(first - start, n)


def _rows(values: FloatArray, first: IntArray, count: IntArray, width: int) -> FloatArray:
    """Sorted rows ``values[first : first + count]``, NaN-filled to ``width``."""
    n = values.size
    safe = np.minimum(first, max(n - width, 0))
    if n >= width:
        rows = sliding_window_view(values, width)[safe]
    else:
        rows = np.full((first.size, width), np.nan)
    short = (count < width) | (first != safe)
    if short.any():
        cols = np.arange(width)
        idx = np.clip(first[short, None] + cols, 0, max(n - 1, 0))
        inside = cols < count[short, None]
        rows[short] = np.where(inside, values[idx] if n else np.nan, np.nan)
    rows.sort(axis=1)
    return rows


def _quantile(rows: FloatArray, count: IntArray, q: float) -> FloatArray:
    """Linear-interpolated quantile (numpy's default) of the first ``count`` of sorted rows."""
    pos = q * (count - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, count - 1)
    r = np.arange(rows.shape[0])
    a, b = rows[r, lo], rows[r, hi]
    out: FloatArray = a + (pos - lo) * (b - a)
    return out


def _median(rows: FloatArray, count: IntArray) -> FloatArray:
    """Median of the first ``count`` values of sorted rows."""
    r = np.arange(rows.shape[0])
    upper = rows[r, count // 2]
    lower = rows[r, (count - 1) // 2]
    return (lower + upper) / 2.0


def _deltas(seg: Segments) -> FloatArray:
    """dRR of every flat beat (0 after a gap and at a segment's start, e.g. a device's first)."""
    d = np.empty(seg.rr_ms.size)
    if d.size:
        d[0] = 0.0
        np.subtract(seg.rr_ms[1:], seg.rr_ms[:-1], out=d[1:])
        d[seg.gap] = 0.0
        d[seg.start[seg.start < seg.stop]] = 0.0
    return d


def _interpolate(
    seg: Segments,
    index: IntArray,
    s: IntArray,
    artifact: BoolArray,
    next_bad: BoolArray,
    med: FloatArray,
    th2: FloatArray,
) -> FloatArray:
    """Replacement RR of each flagged beat: linear between the nearest plausible neighbours.

    Left: the nearest unflagged beat up to ``BLOCK`` beats back (decided
    already). Right: the first of the next ``LOOKAHEAD`` beats whose RR lies
    within Th2 of this beat's median, skipping the next beat where
    ``next_bad`` says it is part of this beat's artifact (the long beat after
    a premature one, the rest of an "extra" beat's split interval); the
    flags of later beats are not decided yet. Without neighbours: the
    median. Every input is fixed once the beat and ``LOOKAHEAD`` more are
    in, so a stream gets the same values. Returns one value per beat of
    ``index`` (the median where not flagged).
    """
    out = med.copy()
    fix = np.flatnonzero(artifact)
    if fix.size == 0:
        return out
    rr = seg.rr_ms
    n = rr.size
    # Work only on the stretch of each segment with a flagged beat the searches can reach.
    segs = np.unique(s[fix])
    _, near = ranges(np.maximum(seg.start, seg.start + seg.done - BLOCK)[segs], seg.stop[segs])
    flags = seg.artifact[near]
    reached = np.zeros(seg.start.size, np.bool_)
    reached[segs] = True
    mine = reached[s]
    flags[np.searchsorted(near, index[mine])] = artifact[mine]
    i, sf = index[fix], s[fix]
    at = np.searchsorted(near, i)
    pos = np.arange(near.size)
    seg_lo, seg_hi = seg.start[sf], seg.stop[sf]
    left_all = np.maximum.accumulate(np.where(flags, -1, pos))
    left = np.where(i - 1 >= seg_lo, left_all[np.maximum(at - 1, 0)], -1)
    left = np.where(left >= 0, near[np.maximum(left, 0)], -1)
    left = np.where((left >= seg_lo) & (left >= i - BLOCK), left, -1)
    ahead = i + np.arange(1, LOOKAHEAD + 1)[:, None]
    usable = (ahead < seg_hi) & (np.abs(rr[np.minimum(ahead, n - 1)] - med[fix]) < th2[fix])
    usable[0] &= ~next_bad[fix]
    right = np.where(usable.any(axis=0), ahead[np.argmax(usable, axis=0), np.arange(fix.size)], n)
    lv = rr[np.clip(left, 0, n - 1)]
    rv = rr[np.clip(right, 0, n - 1)]
    share = (i - left) / np.maximum(right - left, 1)
    out[fix] = np.where(
        (left >= 0) & (right < n),
        lv + share * (rv - lv),
        np.where(left >= 0, lv, np.where(right < n, rv, med[fix])),
    )
    return out


def _span(seg: Segments, p_seg: IntArray, k_end: IntArray, span: int) -> tuple[IntArray, IntArray]:
    """Flat bounds ``[begin, end)`` of the ``span`` beats before beat number ``k_end``."""
    seg_k0 = seg.k[np.minimum(seg.start[p_seg], max(seg.k.size - 1, 0))]
    k_begin = np.maximum(k_end - span, 0)
    f_begin = (seg.start[p_seg] + (k_begin - seg_k0)).astype(np.int64)
    f_end = np.maximum(np.minimum(seg.start[p_seg] + (k_end - seg_k0), seg.stop[p_seg]), f_begin)
    return f_begin, f_end


def _scale(
    values: FloatArray,
    seg: Segments,
    p_seg: IntArray,
    k_end: IntArray,
    span: int,
    *,
    masked: bool = False,
) -> FloatArray:
    """5.2 x the spread of ``values`` over the ``span`` beats before beat number ``k_end``.

    Spread: the quartile deviation ((Q3 - Q1) / 2) where ``span`` is
    ``SPAN``, else ``MEDIAN_TO_QD`` x the median. With ``masked``, NaN
    values are left out. 0 where no value is left.
    """
    f_begin, f_end = _span(seg, p_seg, k_end, span)
    rows = _rows(values, f_begin, np.maximum(f_end - f_begin, 1), span)
    count = f_end - f_begin
    if masked:
        count = np.where(count > 0, span - np.count_nonzero(np.isnan(rows), axis=1), 0)
    n = np.maximum(count, 1)
    if span == SPAN:
        scale = (_quantile(rows, n, 0.75) - _quantile(rows, n, 0.25)) / 2.0
    else:
        scale = MEDIAN_TO_QD * _quantile(rows, n, 0.5)
    out: FloatArray = np.where(count > 0, ALPHA * scale, 0.0)
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class _Classes:
    """Per beat: flagged (ectopic, long/short or premature), "missed", "extra", "premature"."""

    artifact: BoolArray
    missed: BoolArray
    extra: BoolArray
    premature: BoolArray


def _neighbours(seg: Segments, s: IntArray, index: IntArray, drr: FloatArray) -> FloatArray:
    """dRR of the beats before, at, and one and two after each beat (0 outside its device)."""
    k = seg.k[index]
    hi = seg.stop[s]
    padded = np.concatenate([drr, np.zeros(2)])  # index + 2 stays inside; -1 is a pad too
    out = np.empty((4, index.size))
    out[0] = np.where(k >= 1, padded[index - 1], 0.0)  # a segment holds a device's first beats
    out[1] = drr[index]
    out[2] = np.where(index + 1 < hi, padded[index + 1], 0.0)
    out[3] = np.where(index + 2 < hi, padded[index + 2], 0.0)
    return out


def _classify(
    seg: Segments,
    index: IntArray,
    near: FloatArray,
    mrr: FloatArray,
    med: FloatArray,
    th1: FloatArray,
    th2: FloatArray,
) -> _Classes:
    """Lipponen & Tarvainen 2019, Fig. 1, for each beat of ``index``.

    ``near`` holds the beats' `_neighbours` dRR, ``mrr`` their mRR. Only
    beats with |dRR| or the next dRR above Th1 can be flagged, so the rules
    run on those alone.

    Added: a beat is "premature" when the next beat, judged with this beat's
    thresholds, is the long (compensatory) beat of an ectopic pair, so that
    both intervals of the pair are corrected (moving the ectopic beat's time,
    as Kubios and NeuroKit2 do, changes both too). Needs two beats ahead.
    """
    at = np.flatnonzero((np.abs(near[1]) > th1) | (near[2] > th1))
    dm1, d0, dp1, dp2 = near[:, at] / th1[at]
    m0 = mrr[at] / th2[at]
    s12 = np.where(d0 > 0, np.maximum(dm1, dp1), np.minimum(dm1, dp1))
    s22 = np.where(d0 >= 0, np.minimum(dp1, dp2), np.maximum(dp1, dp2))
    ectopic = ((d0 > 1) & (s12 < -C1 * d0 - C2)) | ((d0 < -1) & (s12 > -C1 * d0 + C2))
    candidate = (np.abs(d0) > 1) & ~ectopic
    eq3 = (d0 > 1) & (s22 < -1)
    eq5 = (d0 < -1) & (s22 > 1)
    long_short = candidate & (eq3 | (np.abs(m0) > 3) | eq5)
    # A device's last beat has no next beat: dp1 is 0 there, so eq5 is False.
    rr, i = seg.rr_ms, index[at]
    here_med, here_th2 = med[at], th2[at]
    extra = (
        long_short
        & eq5
        & (np.abs(rr[i] + rr[np.minimum(i + 1, rr.size - 1)] - here_med) < here_th2)
    )
    long = long_short & ((d0 > 1) | (m0 > 3))
    missed = long & (np.abs(rr[i] / 2.0 - here_med) < here_th2)
    premature = (dp1 > 1) & (np.maximum(d0, dp2) < -C1 * dp1 - C2)
    out = np.zeros((4, index.size), np.bool_)
    out[:, at] = (ectopic | long_short | premature, missed, extra, premature)
    return _Classes(artifact=out[0], missed=out[1], extra=out[2], premature=out[3])


def decide(seg: Segments) -> Decided:
    """Detect and correct the beats of each segment that can now be decided."""
    n_seg = seg.start.size
    lengths = seg.stop - seg.start
    # A beat is decided once LOOKAHEAD more are in (or the data end).
    has = lengths > 0
    k_first = np.zeros(n_seg, np.int64)
    k_last = np.full(n_seg, -1, np.int64)
    k_first[has] = seg.k[seg.start[has]]
    k_last[has] = seg.k[seg.stop[has] - 1]
    ready = np.where(seg.final, lengths, np.clip(k_last - LOOKAHEAD - k_first + 1, 0, lengths))
    ready = np.where(seg.final | (k_last >= LOCAL - 1), ready, 0)
    s, index = ranges(seg.start + seg.done, seg.start + np.maximum(ready, seg.done))
    rr = seg.rr_ms
    k = seg.k[index]

    # Rolling 11-beat median, clipped at the device's first beat and at a final end.
    lo = np.maximum(index - HALF_MEDIAN, index - k)
    hi = np.minimum(index + HALF_MEDIAN + 1, seg.stop[s])
    med = _median(_rows(rr, lo, hi - lo, 2 * HALF_MEDIAN + 1), hi - lo)
    mrr = seg.mrr_ms.copy()
    fresh = rr[index] - med
    mrr[index] = np.where(fresh < 0, 2.0 * fresh, fresh)

    # Thresholds: a trailing term per block, one pair (segment, block) at a time,
    # and a local term per beat.
    drr = _deltas(seg)
    adrr = np.abs(drr)
    amrr = np.abs(mrr)
    block = k // BLOCK
    # Beats come by segment, then in order: a pair starts where either changes.
    starts = np.ones(index.size, np.bool_)
    starts[1:] = (s[1:] != s[:-1]) | (block[1:] != block[:-1])
    first_of_pair = np.flatnonzero(starts)
    inverse = np.cumsum(starts) - 1
    p_seg = s[first_of_pair]
    p_block = block[first_of_pair]
    # Local term: the LOCAL beats ending with the beat.
    local1 = _scale(adrr, seg, s, np.maximum(k + 1 + LOOKAHEAD, LOCAL), LOCAL)
    local2 = _scale(amrr, seg, s, np.maximum(k + 1, LOCAL - LOOKAHEAD), LOCAL)
    # Trailing terms over the SPAN beats before the block: the segment's cached
    # ones for the block its first undecided beat is in, the others computed.
    trail = np.full((4, p_seg.size), np.nan)
    cont = first_of_pair[np.isfinite(seg.trail[0, p_seg])]
    cont = inverse[cont[index[cont] == (seg.start + seg.done)[s[cont]]]]
    trail[:, cont] = seg.trail[:, p_seg[cont]]
    todo = np.flatnonzero(np.isnan(trail[0]))
    trail[0, todo] = _scale(adrr, seg, p_seg[todo], p_block[todo] * BLOCK, SPAN)
    trail[1, todo] = _scale(amrr, seg, p_seg[todo], p_block[todo] * BLOCK, SPAN)
    trail1, trail2 = trail[0], trail[1]
    th1 = np.maximum(np.maximum(trail1[inverse], local1), THRESHOLD_FLOOR_MS)
    th2 = np.maximum(np.maximum(trail2[inverse], local2), THRESHOLD_FLOOR_MS)
    near = _neighbours(seg, s, index, drr)
    first = _classify(seg, index, near, mrr[index], med, th1, th2)
    # Second pass: the trailing term leaves out what the first pass flagged
    # (a suspect beat's mRR, its dRR and the next beat's, unless that is a
    # device's first beat, whose dRR is 0 and not a neighbour's).
    known = seg.suspect.copy()
    known[index] = first.artifact
    suspect = np.flatnonzero(known)
    known[1:] |= known[:-1] & (seg.k[1:] > 0)
    with_after = np.flatnonzero(known)
    # Only pairs whose trailing span holds a left-out beat change; the rest keep
    # the first pass's term (the same values, sorted the same way).
    trail[2:, todo] = trail[:2, todo]
    f_begin, f_end = _span(seg, p_seg[todo], p_block[todo] * BLOCK, SPAN)
    for values, bad, trailing in ((adrr, with_after, trail[2]), (amrr, suspect, trail[3])):
        hit = todo[np.searchsorted(bad, f_end) > np.searchsorted(bad, f_begin)]
        if hit.size:
            masked = values.copy()
            masked[bad] = np.nan
            trailing[hit] = _scale(
                masked, seg, p_seg[hit], (p_block * BLOCK)[hit], SPAN, masked=True
            )
    th1 = np.maximum(np.maximum(trail[2][inverse], local1), THRESHOLD_FLOOR_MS)
    th2 = np.maximum(np.maximum(trail[3][inverse], local2), THRESHOLD_FLOOR_MS)
    final = _classify(seg, index, near, mrr[index], med, th1, th2)

    # Pair mean / missed half where they lie within Th2 of the median and half
    # as far from it as the raw RR (a real long beat is not halved).
    here = rr[index]
    nearer = np.minimum(th2, np.abs(here - med) / 2.0)
    pair = final.premature.copy()
    at = np.flatnonzero(pair)
    pair_mean = (here[at] + rr[np.minimum(index[at] + 1, rr.size - 1)]) / 2.0
    pair[at] = np.abs(pair_mean - med[at]) < nearer[at]
    # The beat after an "extra" one holds the rest of the split interval, the
    # beat after a pair's first the rest of the pair.
    prev_extra = np.zeros(index.size, np.bool_)
    prev_pair = np.zeros(index.size, np.bool_)
    if index.size:
        first_new = index == seg.start[s] + seg.done[s]
        prev_extra[first_new] = seg.extra_before[s[first_new]]
        prev_pair[first_new] = seg.pair_before[s[first_new]]
        before = np.flatnonzero(~first_new) - 1
        prev_extra[~first_new] = final.extra[before]
        prev_pair[~first_new] = pair[before]
    artifact = final.artifact | prev_extra | prev_pair
    replacement = _interpolate(seg, index, s, artifact, final.premature | final.extra, med, th2)
    out = here.copy()
    fix = np.flatnonzero(artifact)
    i = index[fix]
    half = here[fix] / 2.0
    out[fix] = np.select(
        [prev_pair[fix], pair[fix], final.missed[fix] & (np.abs(half - med[fix]) < nearer[fix])],
        [
            (rr[np.maximum(i - 1, 0)] + here[fix]) / 2.0,
            (here[fix] + rr[np.minimum(i + 1, rr.size - 1)]) / 2.0,
            half,
        ],
        replacement[fix],
    )
    return Decided(
        index=index,
        segment=s,
        rr_ms=out,
        artifact=artifact,
        suspect=first.artifact,
        extra=final.extra,
        pair=pair,
        mrr_ms=mrr[index],
        trail=_last_per_segment(trail, p_seg, n_seg),
    )


def _last_per_segment(values: FloatArray, segment: IntArray, n_seg: int) -> FloatArray:
    """Columns of ``values`` (one per pair, pairs in segment order) of each segment's last pair."""
    out = np.full((values.shape[0], n_seg), np.nan)
    out[:, segment] = values  # pairs are in order: the last write per segment wins
    return out


def correct(rr_ms: FloatArray, gap: BoolArray | None = None) -> tuple[FloatArray, BoolArray]:
    """Corrected RR (ms) and artifact flags of one whole recording, as `sliding_windows` uses.

    Detection runs on the RR as the metrics see them: on the 1/1024 ms grid,
    clipped to [200, 3000] ms (`hrv._metrics.quantize_rr`).
    """
    rr_ms = quantize_rr(np.ascontiguousarray(rr_ms, dtype=np.float64)) / float(UNITS_PER_MS)
    n = rr_ms.size
    gap = np.zeros(n, np.bool_) if gap is None else np.ascontiguousarray(gap, np.bool_)
    one = np.array([0], np.int64)
    seg = Segments(
        rr_ms=rr_ms,
        gap=gap,
        k=np.arange(n, dtype=np.int64),
        mrr_ms=np.zeros(n),
        artifact=np.zeros(n, np.bool_),
        suspect=np.zeros(n, np.bool_),
        start=one,
        stop=np.array([n], np.int64),
        done=one,
        final=np.array([True]),
        extra_before=np.array([False]),
        pair_before=np.array([False]),
        trail=np.full((4, 1), np.nan),
    )
    out = decide(seg)
    return out.rr_ms, out.artifact
