"""Beats and hypothesis strategies for the pipeline tests: clean timelines and hostile traffic.

A test draws a list of `Op`s (what a sender does next: a valid batch, a
re-sent one, an overlap, shuffled beats, bad RR, bad times, a clock jump,
beats from the future, a burst, garbage, nothing) and `Traffic.play`
turns them into `BeatBatch`es, keeping per-device cursors into clean
timelines. Valid devices only ever receive consecutive slices of their
timeline (``Op.kind == "good"``), so their windows must equal a clean run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from hypothesis import strategies as st

from hrv import BeatBatch
from simulators import load_scenario, simulate
from simulators.scenario import parse_scenario
from vagus.pipeline import MAX_FUTURE_S, MAX_JUMP_S

T0_S = 1.7e9
"""Where the timelines start (an epoch time, as a strap's beats would have)."""

NOW_S = T0_S + 100_000.0
"""The wall clock the property test feeds with (beats are at most a few hours after T0_S)."""

LONG_STRESS_TOML = """
name = "long_stress"
description = "Calm, a 10-minute stress episode, calm: one trigger, then stress persists"
seed = 3

[artifacts]
rate = 0.0

[[segments]]
state = "calm"
label = "baseline"
duration_min = 4

[[segments]]
state = "stress"
label = "long episode"
duration_min = 10
ramp_s = 45
hr_bpm = 92
rmssd_ms = 14

[[segments]]
state = "calm"
label = "after"
duration_min = 2
"""


def demo_beats(device: str, *, seed: int | None = None, start_t_s: float = T0_S) -> BeatBatch:
    """The shipped 13-minute demo scenario (a 3-minute stress episode, one trigger)."""
    return simulate(load_scenario("demo"), seed=seed).batch(device, start_t_s=start_t_s)


def long_stress_beats(device: str) -> BeatBatch:
    """16 minutes with a 10-minute stress episode: stress still high long after the trigger."""
    scenario = parse_scenario(LONG_STRESS_TOML, file="long_stress.toml")
    return simulate(scenario).batch(device, start_t_s=T0_S)


def take(beats: BeatBatch, start: int, stop: int) -> BeatBatch:
    """Beats ``start:stop`` of ``beats`` as their own batch."""
    part = slice(start, stop)
    return BeatBatch(
        device=beats.device, t_s=beats.t_s[part], rr_ms=beats.rr_ms[part], gap=beats.gap[part]
    )


def chunks(beats: BeatBatch, sizes: list[int]) -> list[BeatBatch]:
    """``beats`` cut into consecutive batches of ``sizes`` (repeated until the end)."""
    out, i, k = [], 0, 0
    while i < len(beats):
        j = i + sizes[k % len(sizes)]
        out.append(take(beats, i, j))
        i, k = j, k + 1
    return out


def steady_beats(device: str, n: int, *, offset_s: float) -> BeatBatch:
    """``n`` clean beats around 75 bpm (a base timeline the hostile ops distort)."""
    k = np.arange(n)
    rr = 800.0 + 40.0 * np.sin(k / 4.0) + 7.0 * np.cos(k * 1.7)
    return BeatBatch(device=device, t_s=T0_S + offset_s + np.cumsum(rr) / 1000.0, rr_ms=rr)


# -- hostile traffic -------------------------------------------------------------------------

KINDS = (
    "good",  # the next slice of a valid device's timeline
    "valid",  # the next slice of a hostile device's own timeline
    "resend",  # a batch that device sent before, again (QoS 1 redelivery)
    "overlap",  # the next slice, starting a few beats back
    "shuffle",  # the next slice in a scrambled order
    "bad_rr",  # the next slice with one RR NaN, infinite, None, 0, negative or huge
    "bad_t",  # the next slice with one time NaN or infinite
    "jump",  # the device's clock jumps forwards or backwards, then the next slice
    "future",  # beats far ahead of ``now``
    "dense",  # a burst of beats 1 ms apart
    "garbage",  # arbitrary floats for times and RR
    "empty",  # a batch without beats
)

BAD_RR = (math.nan, math.inf, -math.inf, None, 0.0, -800.0, 150.0, 3500.0, 1e300)
"""RR values the guard must drop (None becomes NaN in a float array)."""

any_float = st.floats(allow_nan=True, allow_infinity=True)


@dataclass(frozen=True, slots=True)
class Op:
    """One thing a sender does; ``who`` picks the device, the other fields shape the batch."""

    kind: str
    who: int
    n: int
    back: int = 0
    pick: int = 0
    jump_s: float = 0.0
    garbage: tuple[tuple[float, float], ...] = ()


@st.composite
def ops(draw: st.DrawFn, *, n_good: int, n_hostile: int) -> Op:
    """One `Op`: a ``good`` one picks one of ``n_good`` devices, the others a hostile one."""
    kind = draw(st.sampled_from(KINDS))
    who = draw(st.integers(0, (n_good if kind == "good" else n_hostile) - 1))
    n = draw(st.integers(0 if kind in ("good", "empty") else 1, 60))
    back = draw(st.integers(1, 20))
    pick = draw(st.integers(0, 1000))
    jump_s = draw(st.floats(1.0, 20_000.0)) * draw(st.sampled_from([1.0, -1.0]))
    garbage: tuple[tuple[float, float], ...] = ()
    if kind == "garbage":
        garbage = tuple(draw(st.lists(st.tuples(any_float, any_float), max_size=30)))
    return Op(kind=kind, who=who, n=n, back=back, pick=pick, jump_s=jump_s, garbage=garbage)


def op_lists(*, n_good: int, n_hostile: int, max_size: int = 60) -> st.SearchStrategy[list[Op]]:
    """Interleavings of ops over ``n_good`` valid and ``n_hostile`` hostile devices."""
    return st.lists(ops(n_good=n_good, n_hostile=n_hostile), max_size=max_size)


@dataclass
class _Sender:
    beats: BeatBatch
    cursor: int = 0
    shift_s: float = 0.0
    sent: list[BeatBatch] = field(default_factory=list)

    def next(self, n: int, *, back: int = 0) -> tuple[np.ndarray, np.ndarray]:
        a = max(self.cursor - back, 0)
        b = min(self.cursor + n, len(self.beats))
        self.cursor = max(self.cursor, b)
        return self.beats.t_s[a:b] + self.shift_s, self.beats.rr_ms[a:b].copy()


@dataclass
class Traffic:
    """Turns `Op`s into batches: valid devices get their timeline in order, nothing else."""

    good: list[BeatBatch]
    hostile: list[BeatBatch]
    _good: list[_Sender] = field(init=False)
    _hostile: list[_Sender] = field(init=False)

    def __post_init__(self) -> None:
        self._good = [_Sender(b) for b in self.good]
        self._hostile = [_Sender(b) for b in self.hostile]

    def play(self, ops: list[Op]) -> list[BeatBatch]:
        """The batches ``ops`` send, then the rest of every valid device's timeline."""
        out = [self._batch(op) for op in ops]
        for sender in self._good:
            if sender.cursor < len(sender.beats):
                out.append(take(sender.beats, sender.cursor, len(sender.beats)))
                sender.cursor = len(sender.beats)
        return out

    def _batch(self, op: Op) -> BeatBatch:
        if op.kind == "good":
            sender = self._good[op.who]
            start = sender.cursor
            sender.cursor = min(start + op.n, len(sender.beats))
            return take(sender.beats, start, sender.cursor)
        sender = self._hostile[op.who]
        device = sender.beats.device
        t, rr = self._hostile_beats(sender, op)
        batch = BeatBatch(device=device, t_s=t, rr_ms=rr)
        sender.sent.append(batch)
        return batch

    @staticmethod
    def _hostile_beats(sender: _Sender, op: Op) -> tuple[np.ndarray, np.ndarray]:
        kind = op.kind
        if kind == "resend" and sender.sent:
            old = sender.sent[op.pick % len(sender.sent)]
            return old.t_s, old.rr_ms
        if kind == "overlap":
            return sender.next(op.n, back=op.back)
        if kind == "jump":
            sender.shift_s += math.copysign(MAX_JUMP_S, op.jump_s) + op.jump_s
            return sender.next(op.n)
        if kind == "future":
            t = NOW_S + MAX_FUTURE_S + 1.0 + 0.8 * np.arange(op.n)
            return t, np.full(op.n, 800.0)
        if kind == "dense":
            t0 = sender.beats.t_s[min(sender.cursor, len(sender.beats) - 1)] + sender.shift_s
            return t0 + 0.001 * np.arange(1, op.n + 1), np.full(op.n, 800.0)
        if kind == "garbage":
            pairs = np.array(op.garbage, np.float64).reshape(-1, 2)
            return pairs[:, 0], pairs[:, 1]
        if kind == "empty":
            return np.zeros(0), np.zeros(0)
        t, rr = sender.next(op.n)
        if kind == "shuffle" and t.size:
            order = np.random.default_rng(op.pick).permutation(t.size)
            return t[order], rr[order]
        if kind == "bad_rr" and t.size:
            rr = rr.astype(object)
            rr[op.pick % t.size] = BAD_RR[op.pick % len(BAD_RR)]
            return t, np.array(rr, np.float64)
        if kind == "bad_t" and t.size:
            t = t.copy()
            t[op.pick % t.size] = (math.nan, math.inf, -math.inf)[op.pick % 3]
        return t, rr
