"""The streaming face: many devices' beats in, each window out once its beats are decided.

State is columnar: one row per device in fixed-width ring buffers (beat time,
raw and corrected RR on the 1/1024 ms grid, the artifact detector's mRR,
gap/artifact bits) and one array per scalar (beats received and decided,
next window, the trailing threshold terms of the current artifact block,
baseline state). A push appends beats, decides the beats whose 5-beat
lookahead is in (`hrv._artifacts`), and
computes the due windows with the same `hrv._core.compute_windows` the batch
face uses, so pushing a recording in any chunks and then `flush` gives
exactly `hrv.sliding_windows` of it. Both steps run in passes of at most
``ROWS_PER_PASS`` devices, which keeps their temporaries in cache. A window
ending at ``T`` is due once its last beat has been decided, i.e. with the 5th
beat after it (the first windows of a device wait for its 24th beat). Large pushes are processed in
rounds of at most ``round_beats`` beats per device, which bounds the rings.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from hrv._artifacts import BLOCK, HISTORY, LOCAL, LOOKAHEAD, RECENT, Segments, decide, ranges
from hrv._batch import (
    DEFAULT_BASELINE,
    DEFAULT_QUALITY,
    DEFAULT_SPECTRAL_WINDOW_S,
    check_settings,
)
from hrv._core import Beats, Grid, Windows, compute_windows
from hrv._metrics import UNITS_PER_MS, quantize_rr
from hrv._records import BeatBatch, BoolArray, FloatArray, WindowMetrics
from hrv._spectral import GRID_HZ, beat_slopes, grid_samples, grid_size
from hrv._stress import Baseline, BaselineRule, BaselineState, from_sums, scatter, to_sums
from hrv._table import WindowTable
from hrv._windows import QualityRule
from hrv.errors import InputError, UnknownDeviceError

IntArray = NDArray[np.int64]
_GAP = np.uint8(1)
_ARTIFACT = np.uint8(2)
_SUSPECT = np.uint8(4)
#: Devices worked on per vectorized pass: devices are independent, and passes
#: over a few thousand devices keep their temporaries in cache (one pass over
#: 10,000 devices spends much of its time on fresh memory).
ROWS_PER_PASS = 2048
#: The same for the windows, by ring beats: longer windows, fewer devices per pass.
RING_BEATS_PER_PASS = 2048 * 128


def _count_le(t: FloatArray, start: IntArray, stop: IntArray, q: FloatArray) -> IntArray:
    """Flat index of the first beat in ``[start, stop)`` with ``t > q``, per query.

    Each query's beats are sorted; this is ``start + np.searchsorted(t[start:stop],
    q, side="right")`` for all queries at once, by vectorized bisection. Pure
    comparisons, so it agrees with the batch face's searchsorted.
    """
    lo = start.copy()
    hi = stop.copy()
    while True:
        open_ = lo < hi
        if not open_.any():
            return lo
        mid = (lo + hi) // 2
        right = open_ & (t[np.minimum(mid, max(t.size - 1, 0))] <= q)
        lo = np.where(right, mid + 1, lo)
        hi = np.where(open_ & ~right, mid, hi)


class StreamEngine:
    """Sliding-window HRV for many devices at once, exactly equal to `sliding_windows`.

    ``push`` takes one device's `BeatBatch` and returns its due windows as
    records; ``push_columns`` takes beats of many devices as columns (device
    numbers from ``register``) and returns a `WindowTable` whose
    ``device_idx`` are those numbers. ``flush`` ends a device's recording:
    it decides the last beats and emits the last windows, as the batch face
    does at a recording's end, and keeps only the device's baseline.
    """

    _n_total: IntArray
    _n_decided: IntArray
    _m_next: IntArray
    _keep_k: IntArray
    _extra_before: BoolArray
    _pair_before: BoolArray
    _trail: FloatArray
    _anchor: IntArray
    _held: FloatArray
    _partial: FloatArray
    _sums: FloatArray
    _t: FloatArray
    _raw: NDArray[np.int32]
    _rr: NDArray[np.int32]
    _mrr: FloatArray
    _flags: NDArray[np.uint8]
    _cap_used: int
    _g_next: IntArray
    _grid: NDArray[np.float32]
    _gcap: int

    def __init__(
        self,
        *,
        window_s: float = 60.0,
        step_s: float = 5.0,
        spectral_window_s: float | None = DEFAULT_SPECTRAL_WINDOW_S,
        correct_artifacts: bool = True,
        quality: QualityRule = DEFAULT_QUALITY,
        baseline_rule: BaselineRule = DEFAULT_BASELINE,
        round_beats: int = 64,
        capacity: int = 64,
    ) -> None:
        check_settings(window_s, step_s, baseline_rule, spectral_window_s)
        self.window_s = window_s
        self.spectral_window_s = spectral_window_s
        self.step_s = step_s
        self.correct_artifacts = correct_artifacts
        self.quality = quality
        self.baseline_rule = baseline_rule
        self.round_beats = round_beats
        self._names: list[str] = []
        self._rows: dict[str, int] = {}
        # Ring widths are powers of two, so a beat's slot k % width is k & (width - 1).
        self._cap = 1 << max(capacity - 1, 0).bit_length()
        self._cap_used = 0
        # Each device's 4 Hz grid: a ring of lattice samples, one spectral span at first.
        self._gcap = 1 << (grid_size(spectral_window_s or 30.0) - 1).bit_length()
        self._rows_alloc = 0
        self._alloc(0, 0)

    # -- state ---------------------------------------------------------------

    def _alloc(self, n_rows: int, n_keep: int) -> None:
        """(Re)allocate per-device arrays for ``n_rows`` devices, keeping the first ``n_keep``."""
        old = self.__dict__.copy()
        self._rows_alloc = n_rows

        def grow(name: str, dtype: type, fill: float | FloatArray, series: int = 0) -> None:
            shape = (series, n_rows) if series else (n_rows,)
            arr: NDArray[Any] = np.full(shape, fill, dtype=dtype)
            if n_keep:
                arr[..., :n_keep] = old[name][..., :n_keep]
            setattr(self, name, arr)

        for name in ("n_total", "n_decided", "m_next", "keep_k"):
            grow("_" + name, np.int64, -1 if name == "m_next" else 0)
        grow("_extra_before", np.bool_, False)
        grow("_pair_before", np.bool_, False)
        grow("_trail", np.float64, np.nan, 4)
        grow("_g_next", np.int64, -1)
        # Baseline state (`hrv._stress.BaselineState`); rows start at their first window.
        prior = np.array(to_sums(self.baseline_rule.prior, self.step_s))[:, None]
        grow("_anchor", np.int64, -1)
        grow("_held", np.float64, prior, 3)
        grow("_partial", np.float64, 0.0, 3)
        grow("_sums", np.float64, prior, 3)
        self._ring_alloc(n_rows, self._cap, n_keep, old)
        self._grid_alloc(n_rows, self._gcap, n_keep, old.get("_grid"))

    def _ring_alloc(self, n_rows: int, cap: int, n_keep: int, old: dict[str, Any]) -> None:
        """Ring buffers of ``cap`` beats per device; live beats of kept rows move over."""
        specs = (("_t", np.float64), ("_raw", np.int32), ("_rr", np.int32), ("_mrr", np.float64))
        fresh: dict[str, NDArray[Any]] = {
            name: np.zeros((n_rows, cap), dtype) for name, dtype in specs
        }
        fresh["_flags"] = np.zeros((n_rows, cap), np.uint8)
        old_cap = self._cap_used
        if n_keep and old_cap:
            total = self._n_total[:n_keep]
            rows = np.repeat(np.arange(n_keep), old_cap)
            k = np.repeat(total, old_cap) - old_cap + np.tile(np.arange(old_cap), n_keep)
            live = k >= 0
            for name, arr in fresh.items():
                src = old[name]
                arr[rows[live], k[live] % cap] = src[rows[live], k[live] % old_cap]
        for name, arr in fresh.items():
            setattr(self, name, arr)
        self._cap_used = cap

    def _grid_alloc(
        self, n_rows: int, cap: int, n_keep: int, old: NDArray[np.float32] | None
    ) -> None:
        """Grid rings of ``cap`` float32 samples for ``n_rows`` devices; kept rows' samples move."""
        grid = np.zeros((n_rows if self.spectral_window_s else 0, cap), np.float32)
        if old is not None and old.size and n_keep:
            g_next = self._g_next[:n_keep]
            rows = np.flatnonzero(g_next >= 0)
            old_cap = old.shape[1]
            g = g_next[rows, None] - old_cap + np.arange(old_cap)[None, :]
            grid[rows[:, None], g & (cap - 1)] = old[rows[:, None], g & (old_cap - 1)]
        self._grid = grid
        self._gcap = cap

    def register(self, devices: str | list[str]) -> IntArray:
        """Device numbers of ``devices`` (new devices get the next numbers)."""
        names = [devices] if isinstance(devices, str) else devices
        new = [name for name in dict.fromkeys(names) if name not in self._rows]
        if new:
            n_keep = len(self._names)
            for name in new:
                self._rows[name] = len(self._names)
                self._names.append(name)
            if len(self._names) > self._rows_alloc:
                # Rows grow geometrically: registering devices one by one stays linear.
                self._alloc(max(len(self._names), 2 * self._rows_alloc), n_keep)
        return np.array([self._rows[name] for name in names], np.int64)

    @property
    def devices(self) -> list[str]:
        """Device names by device number."""
        return list(self._names)

    def _row(self, device: str) -> int:
        try:
            return self._rows[device]
        except KeyError as exc:
            raise UnknownDeviceError(device) from exc

    def baseline(self, device: str) -> Baseline:
        """The device's current baseline (the prior for a device not yet seen)."""
        if device not in self._rows:
            return self.baseline_rule.prior
        weight, ln_sum, hr_sum = self._sums[:, self._rows[device]]
        return from_sums(float(weight), float(ln_sum), float(hr_sum), self.step_s)

    def baselines(self) -> dict[str, Baseline]:
        """Every known device's current baseline, for persisting."""
        return {name: self.baseline(name) for name in self._names}

    def set_baseline(self, device: str, baseline: Baseline) -> None:
        """Start ``device`` from a stored baseline (e.g. after a restart)."""
        r = int(self.register(device)[0])
        self._sums[:, r] = to_sums(baseline, self.step_s)
        self._restart_baselines(np.array([r], np.int64))

    def _restart_baselines(self, rows: IntArray) -> None:
        """Hold the rows' baseline sums as they are, from the window before their next one."""
        self._anchor[rows] = self._m_next[rows] - 1
        self._held[:, rows] = self._sums[:, rows]
        self._partial[:, rows] = 0.0

    @property
    def ring_beats(self) -> int:
        """Beats each device's ring buffer holds (grows when a window needs more)."""
        return self._cap_used

    def memory_bytes(self) -> int:
        """Bytes held by the per-device arrays (rings included; rows are allocated ahead)."""
        return sum(
            v.nbytes
            for k, v in self.__dict__.items()
            if k.startswith("_") and isinstance(v, np.ndarray)
        )

    # -- pushing ---------------------------------------------------------------

    def push(self, batch: BeatBatch) -> list[WindowMetrics]:
        """Beats of one device in; the windows they completed out, oldest first."""
        row = int(self.register(batch.device)[0])
        table = self.push_columns(
            np.full(len(batch), row, np.int64), batch.t_s, batch.rr_ms, batch.gap
        )
        return list(table.records(self._names))

    def push_columns(
        self,
        device_idx: IntArray,
        t_s: FloatArray,
        rr_ms: FloatArray,
        gap: BoolArray | None = None,
    ) -> WindowTable:
        """Beats of many devices (numbers from `register`, oldest first per device) in."""
        dev = np.ascontiguousarray(device_idx, np.int64)
        t = np.ascontiguousarray(t_s, np.float64)
        rr = np.ascontiguousarray(rr_ms, np.float64)
        flags = np.zeros(t.size, np.bool_) if gap is None else np.ascontiguousarray(gap, np.bool_)
        self._check_columns(dev, t, rr, flags)
        if dev.size and (np.diff(dev) < 0).any():
            order = np.argsort(dev, kind="stable")
            dev, t, rr, flags = dev[order], t[order], rr[order], flags[order]
        self._check_times(dev, t)
        counts = np.bincount(dev, minlength=len(self._names))
        first = np.zeros(counts.size, np.int64)
        np.cumsum(counts[:-1], out=first[1:])
        rank = np.arange(dev.size) - first[dev]
        tables = []
        for r in range(0, int(counts.max()) if dev.size else 0, self.round_beats):
            now = (rank >= r) & (rank < r + self.round_beats)
            self._append(dev[now], t[now], rr[now], flags[now])
            touched = np.flatnonzero(np.bincount(dev[now], minlength=len(self._names)))
            tables.append(self._advance(touched, final=False))
        return WindowTable.concat(tables) if tables else self._advance(np.zeros(0, np.int64), False)

    def flush(self, device: str) -> list[WindowMetrics]:
        """End ``device``'s recording: its last windows out; its baseline is kept."""
        return list(self.flush_many([device]).records(self._names))

    def flush_many(self, devices: Sequence[str]) -> WindowTable:
        """End the recordings of ``devices`` (distinct) in one vectorized pass: their last
        windows out, their baselines kept (a pass per device costs milliseconds; thousands
        at a stop add up)."""
        rows = np.array([self._row(device) for device in devices], np.int64)
        table = self._advance(rows, final=True)
        for r in rows.tolist():
            self._clear(r)
        return table

    def reset(self, device: str) -> None:
        """Drop ``device``'s beats without emitting windows (its baseline is kept)."""
        self._clear(self._row(device))

    def _clear(self, r: int) -> None:
        for name in ("_n_total", "_n_decided", "_keep_k"):
            getattr(self, name)[r] = 0
        self._m_next[r] = -1
        self._extra_before[r] = False
        self._pair_before[r] = False
        self._trail[:, r] = np.nan
        self._g_next[r] = -1

    def _check_columns(self, dev: IntArray, t: FloatArray, rr: FloatArray, gap: BoolArray) -> None:
        if not (dev.ndim == t.ndim == rr.ndim == gap.ndim == 1):
            raise InputError("t_s", "columns must be one-dimensional")
        if not (dev.size == t.size == rr.size == gap.size):
            raise InputError("t_s", "columns must have one length")
        if dev.size and (dev.min() < 0 or dev.max() >= len(self._names)):
            raise InputError("device_idx", "unknown device number; use register()")
        if not (np.isfinite(t).all() and np.isfinite(rr).all() and (rr > 0).all()):
            raise InputError("rr_ms", "beat times and RR must be finite, RR > 0 ms")

    def _check_times(self, dev: IntArray, t: FloatArray) -> None:
        """Beats sorted by device: times must rise within a device and past its last beat."""
        if dev.size == 0:
            return
        new_dev = np.ones(dev.size, np.bool_)
        new_dev[1:] = dev[1:] != dev[:-1]
        prev_t = np.empty(dev.size)
        prev_t[1:] = t[:-1]
        first = dev[new_dev]
        stored = self._n_total[first] > 0
        last_t = self._t[first, (self._n_total[first] - 1) % max(self._cap_used, 1)]
        prev_t[new_dev] = np.where(stored, last_t, -np.inf)
        if (t <= prev_t).any():
            raise InputError("t_s", "beat times of a device must rise strictly")

    def _append(self, dev: IntArray, t: FloatArray, rr: FloatArray, gap: BoolArray) -> None:
        """Put beats into the rings (growing them if a device would overrun its window)."""
        counts = np.bincount(dev, minlength=self._rows_alloc)
        keep_from = np.minimum(self._keep_k, np.maximum(self._n_decided - HISTORY, 0))
        need = int((self._n_total + counts - keep_from).max()) if dev.size else 0
        if need > self._cap_used:
            self._cap = 1 << (need - 1).bit_length()
            self._ring_alloc(self._rows_alloc, self._cap, len(self._names), self.__dict__.copy())
        first = np.zeros(counts.size, np.int64)
        np.cumsum(counts[:-1], out=first[1:])
        k = self._n_total[dev] + np.arange(dev.size) - first[dev]
        pos = k & (self._cap_used - 1)
        starting = self._m_next[dev] < 0
        if starting.any():
            rows, at = np.unique(dev[starting], return_index=True)
            self._m_next[rows] = np.ceil(t[starting][at] / self.step_s).astype(np.int64)
            self._restart_baselines(rows)
        self._t[dev, pos] = t
        raw = quantize_rr(rr)
        self._raw[dev, pos] = raw
        self._rr[dev, pos] = raw
        self._flags[dev, pos] = np.where(gap, _GAP, np.uint8(0))
        self._mrr[dev, pos] = 0.0
        self._n_total += counts

    def _decide(self, rows: IntArray, final: bool) -> None:
        """Run the artifact stage on the rows with a decidable beat (or, final, any beat left).

        Not final, a row is decided when that lets its next window out (the beat
        that will be its first undecided one lies after the window's end) or
        `BLOCK` beats wait: the same moment as deciding every beat at once, in
        fewer and larger passes (decisions do not depend on how beats are grouped).
        """
        total = self._n_total[rows]
        decided = self._n_decided[rows]
        ready = (decided < total) & (final | ((decided + LOOKAHEAD < total) & (total >= LOCAL)))
        if not final:
            open_t = self._t[rows, (total - LOOKAHEAD) & (self._cap_used - 1)]
            lets_out = self._m_next[rows] * self.step_s < open_t
            ready &= lets_out | (total - decided >= LOOKAHEAD + BLOCK)
        rows = rows[ready]
        if rows.size == 0:
            return
        if not self.correct_artifacts:
            self._n_decided[rows] = self._n_total[rows]
            return
        for c in range(0, rows.size, ROWS_PER_PASS):
            self._decide_rows(rows[c : c + ROWS_PER_PASS], final)

    def _decide_rows(self, rows: IntArray, final: bool) -> None:
        """Decide the decidable beats of ``rows`` (each has one) in one vectorized pass.

        The trailing threshold terms of a block are computed with its first beat
        and kept; rows that start no block here need only `RECENT` beats of history.
        """
        decided = self._n_decided[rows]
        n_ready = self._n_total[rows] - decided - (0 if final else LOOKAHEAD)
        trail = np.where(decided % BLOCK == 0, np.nan, self._trail[:, rows])
        new_block = ((-decided) % BLOCK < n_ready) | np.isnan(trail[0])
        start_k = np.maximum(decided - np.where(new_block, HISTORY, RECENT), 0)
        seg_of, k = ranges(start_k, self._n_total[rows])
        flat = rows[seg_of] * self._cap_used + (k & (self._cap_used - 1))
        lengths = self._n_total[rows] - start_k
        start = np.zeros(rows.size, np.int64)
        np.cumsum(lengths[:-1], out=start[1:])
        flags = self._flags.reshape(-1)[flat]
        seg = Segments(
            rr_ms=self._raw.reshape(-1)[flat] / float(UNITS_PER_MS),
            gap=(flags & _GAP) > 0,
            k=k,
            mrr_ms=self._mrr.reshape(-1)[flat],
            artifact=(flags & _ARTIFACT) > 0,
            suspect=(flags & _SUSPECT) > 0,
            start=start,
            stop=start + lengths,
            done=self._n_decided[rows] - start_k,
            final=np.full(rows.size, final),
            extra_before=self._extra_before[rows],
            pair_before=self._pair_before[rows],
            trail=trail,
        )
        out = decide(seg)
        at = flat[out.index]
        self._rr.reshape(-1)[at] = quantize_rr(out.rr_ms)
        self._flags.reshape(-1)[at] |= np.where(out.artifact, _ARTIFACT, np.uint8(0)) | np.where(
            out.suspect, _SUSPECT, np.uint8(0)
        )
        self._mrr.reshape(-1)[at] = out.mrr_ms
        self._n_decided[rows] += np.bincount(out.segment, minlength=rows.size)
        last = np.full(rows.size, -1, np.int64)
        last[out.segment] = np.arange(out.index.size)
        got = last >= 0
        self._extra_before[rows[got]] = out.extra[last[got]]
        self._pair_before[rows[got]] = out.pair[last[got]]
        self._trail[:, rows[got]] = out.trail[:, got]

    def _advance(self, rows: IntArray, final: bool) -> WindowTable:
        """Decide what can be decided on ``rows``, then compute their due windows."""
        self._decide(rows, final)
        rows = rows[(self._n_decided[rows] > 0) & (self._m_next[rows] >= 0)]
        decided = self._n_decided[rows]
        total = self._n_total[rows]
        # All beats decided: windows up to the last beat (as the batch face);
        # otherwise only windows ending before the first undecided beat.
        t_last = self._t[rows, (decided - 1) & (self._cap_used - 1)]
        m_all = np.floor(t_last / self.step_s).astype(np.int64)
        t_open = self._t[rows, decided & (self._cap_used - 1)]
        m_open = np.ceil(t_open / self.step_s).astype(np.int64) - 1
        m_open -= (m_open * self.step_s >= t_open).astype(np.int64)
        m_max = np.where(decided < total, m_open, m_all)
        due = m_max >= self._m_next[rows]
        rows, m_max = rows[due], m_max[due]
        if rows.size == 0:
            return _empty_table()
        per_pass = max(RING_BEATS_PER_PASS // self._cap_used, 1)
        return WindowTable.concat(
            [
                self._windows(rows[c : c + per_pass], m_max[c : c + per_pass])
                for c in range(0, rows.size, per_pass)
            ]
        )

    def _windows(self, rows: IntArray, m_max: IntArray) -> WindowTable:
        """The windows of ``rows`` from their next one to number ``m_max``, in one pass."""
        win_row, m = ranges(self._m_next[rows], m_max + 1)
        t_end = m.astype(np.float64) * self.step_s
        seg_of, k = ranges(self._keep_k[rows], self._n_decided[rows])
        flat = rows[seg_of] * self._cap_used + (k & (self._cap_used - 1))
        flags = self._flags.reshape(-1)[flat]
        beat_t = self._t.reshape(-1)[flat]
        n_seg = np.bincount(seg_of, minlength=rows.size)
        seg_start = np.zeros(rows.size, np.int64)
        np.cumsum(n_seg[:-1], out=seg_start[1:])
        q_start, q_stop = seg_start[win_row], (seg_start + n_seg)[win_row]
        lo = _count_le(beat_t, q_start, q_stop, t_end - self.window_s)
        hi = _count_le(beat_t, q_start, q_stop, t_end)
        span_s = self.spectral_window_s
        spectral_lo = lo if span_s is None else _count_le(beat_t, q_start, q_stop, t_end - span_s)
        beats = Beats(
            t_s=beat_t,
            rr_u=self._rr.reshape(-1)[flat].astype(np.int64),
            raw_u=self._raw.reshape(-1)[flat].astype(np.int64),
            gap=(flags & _GAP) > 0,
            artifact=(flags & _ARTIFACT) > 0,
        )
        windows = Windows(
            row=win_row, index=m, t_end_s=t_end, lo=lo, hi=hi, spectral_lo=spectral_lo
        )
        grid = None
        if span_s is not None:
            grid = self._fill_grid(rows, windows, beats, k, seg_start, seg_start + n_seg, span_s)
        table, after = compute_windows(
            beats,
            windows,
            grid,
            window_s=self.window_s,
            spectral_window_s=span_s or self.window_s,
            step_s=self.step_s,
            quality=self.quality,
            baseline=self.baseline_rule,
            state=BaselineState(
                anchor=self._anchor[rows],
                held=self._held.take(rows, axis=1),
                partial=self._partial.take(rows, axis=1),
                sums=self._sums.take(rows, axis=1),
            ),
        )
        self._anchor[rows] = after.anchor
        scatter(self._held, rows, after.held)
        scatter(self._partial, rows, after.partial)
        scatter(self._sums, rows, after.sums)
        self._m_next[rows] = m_max + 1
        last_lo = np.zeros(rows.size, np.int64)
        # Windows are in order: the last write per row wins. Keep the beats of both
        # spans and the grid's next samples' neighbours (8 beats before the last).
        last_lo[win_row] = np.maximum(np.minimum(np.minimum(lo, spectral_lo), hi - 8), q_start)
        self._keep_k[rows] = self._keep_k[rows] + (last_lo - seg_start)
        return _with_devices(table, rows[win_row])

    def _fill_grid(
        self,
        rows: IntArray,
        windows: Windows,
        beats: Beats,
        k: IntArray,
        seg_start: IntArray,
        seg_stop: IntArray,
        span_s: float,
    ) -> Grid:
        """Interpolate the rows' grid samples their due windows need and do not have yet.

        A row's samples run on from the last call's (from its first window's span
        at its first call) up to its last window's third-last beat; they depend on
        the beats around them only, so they equal the batch face's.
        """
        row = windows.row
        n = grid_size(span_s)
        first = seg_start - self._keep_k[rows]  # flat index of the device's first beat
        last_w = np.zeros(rows.size, np.int64)
        last_w[row] = np.arange(row.size)  # the last write per row wins
        first_w = np.zeros(rows.size, np.int64)
        first_w[row[::-1]] = np.arange(row.size)[::-1]
        g_from = np.floor(windows.t_end_s[first_w] * GRID_HZ).astype(np.int64) - n + 1
        # Samples before the device's first beat are its first RR, not kept.
        started = first == seg_start
        first_t = beats.t_s[np.minimum(seg_start, beats.t_s.size - 1)]
        held_until = np.where(started, np.ceil(first_t * GRID_HZ), 0).astype(np.int64)
        g_from = np.where(started, np.maximum(g_from, held_until), g_from)
        hi_last = windows.hi[last_w]
        enough = hi_last - first >= 5
        at = np.maximum(hi_last - 3, seg_start)
        g_need = np.where(enough, np.ceil(beats.t_s[at] * GRID_HZ).astype(np.int64), g_from)
        g_next = np.maximum(self._g_next[rows], g_from)
        g_stop = np.maximum(g_need, g_next)
        need = int((g_stop - g_from).max()) if rows.size else 0
        if need > self._gcap:
            self._grid_alloc(
                self._rows_alloc, 1 << (need - 1).bit_length(), len(self._names), self._grid
            )
        rr_ms = beats.rr_u / float(UNITS_PER_MS)
        # Slopes of the beats the new samples and the windows' ends read.
        left_next = _count_le(beats.t_s, seg_start, seg_stop, g_next / GRID_HZ) - 1
        hi_first = windows.hi[first_w]
        s_from = np.maximum(np.minimum(left_next, hi_first - 3), np.maximum(first, seg_start))
        _, at_beat = ranges(s_from, np.where(enough, hi_last - 2, s_from))
        slope = np.full(beats.t_s.size, np.nan)
        slope[at_beat] = beat_slopes(beats.t_s, rr_ms, at_beat, k[at_beat])
        g_row, g = ranges(g_next, np.where(enough, g_stop, g_next))
        # Each new sample lies between the beat before the row's next one and its last window's end.
        from_beat = np.maximum(left_next, seg_start)[g_row]
        left = _count_le(beats.t_s, from_beat, windows.hi[last_w][g_row], g / GRID_HZ) - 1
        values = grid_samples(beats.t_s, rr_ms, slope, g, left, first[g_row])
        self._grid[rows[g_row], g & (self._gcap - 1)] = values
        self._g_next[rows] = np.where(enough, g_stop, self._g_next[rows])
        return Grid(
            values=self._grid.reshape(-1),
            base=rows * self._gcap,
            cap=self._gcap,
            held_until=np.where(started, held_until, -(1 << 62)),
            slope=slope,
            first=first,
        )


def _empty_table() -> WindowTable:
    nan = np.zeros(0)
    return WindowTable(
        device_idx=np.zeros(0, np.int64),
        t_end_s=nan,
        n_beats=np.zeros(0, np.int64),
        mean_rr_ms=nan,
        hr_bpm=nan,
        rmssd_ms=nan,
        ln_rmssd=nan,
        sdnn_ms=nan,
        pnn50_pct=nan,
        sd1_ms=nan,
        sd2_ms=nan,
        stress_index=nan,
        stress=nan,
        artifact_pct=nan,
        quality=np.zeros(0, "<U13"),
        baseline_ln_rmssd=nan,
        baseline_hr_bpm=nan,
        ln_rmssd_z=nan,
        hr_z=nan,
        lf_ms2=nan,
        hf_ms2=nan,
        lf_hf=nan,
        lf_peak_hz=nan,
        total_power_ms2=nan,
        coherence=nan,
        rsa_bpm=nan,
        breathing_hz=nan,
    )


def _with_devices(table: WindowTable, device_idx: IntArray) -> WindowTable:
    return dataclasses.replace(table, device_idx=device_idx)
