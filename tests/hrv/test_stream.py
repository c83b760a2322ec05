"""The stream engine against the batch face: same windows, bit for bit, however beats arrive."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hrv
from hrv._artifacts import LOCAL, LOOKAHEAD
from simulators import load_scenario, simulate


def _session(seed: int, seconds: float = 420.0) -> hrv.BeatBatch:
    """Seven minutes with 3 % artifacts and 12 beats lost (flagged) after beat 240."""
    scenario = load_scenario("workday")
    spec = scenario.artifacts.model_copy(update={"rate": 0.03})
    sim = simulate(scenario.model_copy(update={"artifacts": spec}), seed=seed, until_s=seconds)
    beats = sim.batch(f"strap-{seed}", start_t_s=1.7e9 + seed)
    keep = np.ones(len(beats), np.bool_)
    keep[240:252] = False
    gap = beats.gap.copy()
    gap[252] = True
    return hrv.BeatBatch(
        device=beats.device, t_s=beats.t_s[keep], rr_ms=beats.rr_ms[keep], gap=gap[keep]
    )


def _assert_same(
    got: list[hrv.WindowMetrics], want: hrv.WindowTable, device: str, spectral: bool = True
) -> None:
    expected = list(want.records(device))
    # The spectral columns are compared too, and (unless told otherwise) some windows have them.
    assert np.isfinite(want.coherence).any() or not spectral
    assert len(got) == len(expected)
    for a, b in zip(got, expected, strict=True):
        assert repr(a) == repr(b)  # repr of floats round-trips: equal bits, NaN included


def _batch_of(beats: hrv.BeatBatch, **kwargs: object) -> hrv.WindowTable:
    return hrv.sliding_windows(beats.rr_ms, t_s=beats.t_s, gap=beats.gap, **kwargs)  # type: ignore[arg-type]


SESSIONS = [_session(seed) for seed in (1, 2, 3)]


def _push_in_chunks(
    engine: hrv.StreamEngine, beats: hrv.BeatBatch, cuts: list[int]
) -> list[hrv.WindowMetrics]:
    """Push ``beats`` in chunks of the sizes ``cuts`` (repeated), then flush: every window."""
    got: list[hrv.WindowMetrics] = []
    i = 0
    sizes = iter(cuts * (len(beats) // len(cuts) + 1))
    while i < len(beats):
        j = i + next(sizes)
        got += engine.push(
            hrv.BeatBatch(
                device=beats.device, t_s=beats.t_s[i:j], rr_ms=beats.rr_ms[i:j], gap=beats.gap[i:j]
            )
        )
        i = j
    return got + engine.flush(beats.device)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    which=st.integers(0, len(SESSIONS) - 1),
    cuts=st.lists(st.integers(1, 120), min_size=1, max_size=40),
)
def test_any_chunking_gives_the_batch_result(which: int, cuts: list[int]) -> None:
    """Pushing a recording in arbitrary chunks, then flushing, equals `sliding_windows`."""
    beats = SESSIONS[which]
    engine = hrv.StreamEngine()
    got = _push_in_chunks(engine, beats, cuts)
    _assert_same(got, _batch_of(beats), beats.device)


#: 25 minutes in windows every second: about six baseline blocks of 256 windows.
LONG = _session(4, seconds=1500.0)


def _shifted(beats: hrv.BeatBatch, shift_s: float) -> hrv.BeatBatch:
    return hrv.BeatBatch(
        device=beats.device, t_s=beats.t_s + shift_s, rr_ms=beats.rr_ms, gap=beats.gap
    )


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    shift=st.integers(0, 255),
    cuts=st.lists(st.integers(1, 400), min_size=1, max_size=20),
)
def test_chunks_across_baseline_blocks_give_the_batch_result(shift: int, cuts: list[int]) -> None:
    """A session over several 256-window baseline blocks, started anywhere in a block and
    pushed in chunks that cross block edges, equals `sliding_windows` bit for bit."""
    beats = _shifted(LONG, float(shift))
    engine = hrv.StreamEngine(step_s=1.0)
    got = _push_in_chunks(engine, beats, cuts)
    assert len(got) > 5 * 256
    _assert_same(got, _batch_of(beats, step_s=1.0), beats.device)


def test_beat_by_beat_across_baseline_blocks() -> None:
    """One beat per push over six blocks equals batch; some push ends exactly on a block's
    last window, so the next one starts a fresh block from the stored sums."""
    engine = hrv.StreamEngine(step_s=1.0)
    got: list[hrv.WindowMetrics] = []
    last_of_push = []
    for i in range(len(LONG)):
        beat = slice(i, i + 1)
        out = engine.push(
            hrv.BeatBatch(
                device="x", t_s=LONG.t_s[beat], rr_ms=LONG.rr_ms[beat], gap=LONG.gap[beat]
            )
        )
        last_of_push += [out[-1].t_end_s] if out else []
        got += out
    got += engine.flush("x")
    assert any(t % 256 == 255 for t in last_of_push)  # window number = t_end at 1 s steps
    _assert_same(got, _batch_of(LONG, step_s=1.0), "x")


def test_beat_by_beat_with_five_minute_windows() -> None:
    """One beat per push with 5-minute windows still equals the batch face."""
    beats = SESSIONS[0]
    engine = hrv.StreamEngine(window_s=300.0, step_s=10.0)
    got: list[hrv.WindowMetrics] = []
    for i in range(len(beats)):
        got += engine.push(
            hrv.BeatBatch(device="x", t_s=beats.t_s[i : i + 1], rr_ms=beats.rr_ms[i : i + 1])
        )
    got += engine.flush("x")
    table = hrv.sliding_windows(beats.rr_ms, t_s=beats.t_s, window_s=300.0, step_s=10.0)
    _assert_same(got, table, "x")


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    spectral_s=st.sampled_from([30.0, 64.0, 180.0, 300.0]),
    window_s=st.sampled_from([30.0, 60.0, 300.0]),
    cuts=st.lists(st.integers(1, 90), min_size=1, max_size=20),
)
def test_spectral_spans_longer_or_shorter_than_the_window_equal_batch(
    spectral_s: float, window_s: float, cuts: list[int]
) -> None:
    """Any spectral_window_s against any window_s (the ring keeps the longer span, the grid
    ring grows for large pushes): chunked pushes equal `sliding_windows` bit for bit,
    spectral columns included."""
    beats = SESSIONS[1]
    engine = hrv.StreamEngine(window_s=window_s, spectral_window_s=spectral_s)
    got = _push_in_chunks(engine, beats, cuts)
    want = _batch_of(beats, window_s=window_s, spectral_window_s=spectral_s)
    if spectral_s <= 180.0:  # 300-s spans all hold the session's gap
        assert np.isfinite(want.lf_ms2).sum() >= 3
    _assert_same(got, want, beats.device, spectral=spectral_s <= 180.0)


@pytest.mark.parametrize("correct", [True, False])
@pytest.mark.parametrize("per_pass", [1, 2, 2048])
def test_interleaved_fleet_equals_batch_per_device(
    correct: bool, per_pass: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three devices pushed together in columnar rounds each equal their own batch result.

    Also when the engine works on them in passes of one or two devices.
    """
    monkeypatch.setattr("hrv._stream.ROWS_PER_PASS", per_pass)
    monkeypatch.setattr("hrv._stream.RING_BEATS_PER_PASS", per_pass * 128)
    engine = hrv.StreamEngine(correct_artifacts=correct)
    rows = engine.register([b.device for b in SESSIONS])
    parts: list[hrv.WindowTable] = []
    # Round by round: every device sends its beats of the next 3 seconds.
    t0 = min(float(b.t_s[0]) - int(b.device[-1]) for b in SESSIONS)
    for start in np.arange(0.0, 500.0, 3.0):
        dev, t, rr, gap = [], [], [], []
        for row, b in zip(rows, SESSIONS, strict=True):
            rel = b.t_s - int(b.device[-1]) - t0
            now = (rel >= start) & (rel < start + 3.0)
            dev.append(np.full(int(now.sum()), row))
            t.append(b.t_s[now])
            rr.append(b.rr_ms[now])
            gap.append(b.gap[now])
        parts.append(
            engine.push_columns(
                np.concatenate(dev), np.concatenate(t), np.concatenate(rr), np.concatenate(gap)
            )
        )
    table = hrv.WindowTable.concat(parts)
    for row, b in zip(rows, SESSIONS, strict=True):
        mine = table.take(np.flatnonzero(table.device_idx == row))
        got = list(mine.records(b.device)) + engine.flush(b.device)
        _assert_same(got, _batch_of(b, correct_artifacts=correct), b.device)


def test_flushing_many_devices_at_once_equals_flushing_each() -> None:
    """`flush_many` ends several recordings mid-stream in one pass with the windows `flush`
    gives each (so each still equals its batch result); the devices are then empty."""
    engine = hrv.StreamEngine()
    got: dict[str, list[hrv.WindowMetrics]] = {b.device: [] for b in SESSIONS}
    for b in SESSIONS:
        got[b.device] += engine.push(b)
    table = engine.flush_many([b.device for b in SESSIONS])
    names = engine.devices
    for window in table.records(names):
        got[window.device].append(window)
    for b in SESSIONS:
        _assert_same(got[b.device], _batch_of(b), b.device)
        assert engine.flush(b.device) == []


def test_devices_met_one_by_one_equal_batch() -> None:
    """Devices that appear one at a time in round-robin pushes each equal their batch result."""
    engine = hrv.StreamEngine()
    got: dict[str, list[hrv.WindowMetrics]] = {b.device: [] for b in SESSIONS}
    for start in range(0, max(len(b) for b in SESSIONS), 37):
        for b in SESSIONS:
            part = slice(start, start + 37)
            if b.t_s[part].size:
                got[b.device] += engine.push(
                    hrv.BeatBatch(
                        device=b.device, t_s=b.t_s[part], rr_ms=b.rr_ms[part], gap=b.gap[part]
                    )
                )
    for b in SESSIONS:
        _assert_same(got[b.device] + engine.flush(b.device), _batch_of(b), b.device)


def test_windows_come_out_five_beats_after_their_last_beat() -> None:
    """A window is emitted with the 5th beat after its last one (the artifact stage's
    lookahead), or with the 24th beat of a device's recording for its first windows."""
    beats = SESSIONS[1]
    engine = hrv.StreamEngine()
    due, emitted = [], []
    for i in range(len(beats)):
        for w in engine.push(
            hrv.BeatBatch(device="d", t_s=beats.t_s[i : i + 1], rr_ms=beats.rr_ms[i : i + 1])
        ):
            last_in = int(np.searchsorted(beats.t_s, w.t_end_s, side="right")) - 1
            due.append(max(last_in + LOOKAHEAD, LOCAL - 1))
            emitted.append(i)
    assert len(emitted) > 70
    assert emitted == due
    assert LOOKAHEAD == 5


def test_baselines_export_and_import() -> None:
    """A baseline set on a fresh engine is what it reports and what scores start from."""
    engine = hrv.StreamEngine()
    stored = hrv.Baseline(ln_rmssd=3.9, hr_bpm=58.0, weight_s=7200.0)
    engine.set_baseline("p", stored)
    now = engine.baseline("p")
    assert (now.ln_rmssd, now.hr_bpm, now.weight_s) == pytest.approx((3.9, 58.0, 7200.0))
    beats = SESSIONS[2]
    got = engine.push(hrv.BeatBatch(device="p", t_s=beats.t_s, rr_ms=beats.rr_ms))
    got += engine.flush("p")
    batch = hrv.sliding_windows(beats.rr_ms, t_s=beats.t_s, baseline=stored)
    _assert_same(got, batch, "p")
    assert engine.baselines()["p"] == batch.baselines[0]


def test_out_of_order_beats_are_refused() -> None:
    """Beat times that do not rise past the device's last beat raise `InputError`."""
    engine = hrv.StreamEngine()
    engine.push(hrv.BeatBatch(device="d", t_s=np.array([1.0, 2.0]), rr_ms=np.array([1e3, 1e3])))
    with pytest.raises(hrv.InputError):
        engine.push(hrv.BeatBatch(device="d", t_s=np.array([2.0]), rr_ms=np.array([1e3])))


def test_flush_of_unknown_device_names_it() -> None:
    """Flushing a device never seen raises `UnknownDeviceError` carrying the name."""
    with pytest.raises(hrv.UnknownDeviceError) as info:
        hrv.StreamEngine().flush("nobody")
    assert info.value.device == "nobody"


def test_five_minute_windows_fit_in_16_kib_per_device() -> None:
    """A fleet at one beat per second with 5-minute windows holds at most 16 KiB per device."""
    n_dev, seconds = 50, 420
    rng = np.random.default_rng(3)
    rr = 1000.0 + rng.normal(0, 30, (n_dev, seconds))
    t = 1.7e9 + np.cumsum(rr, axis=1) / 1000
    engine = hrv.StreamEngine(window_s=300.0)
    rows = engine.register([f"s{i}" for i in range(n_dev)])
    emitted = 0
    for s in range(seconds):
        emitted += len(engine.push_columns(rows, t[:, s], rr[:, s]))
    assert emitted > n_dev * 60
    assert engine.memory_bytes() / n_dev <= 16 * 1024
