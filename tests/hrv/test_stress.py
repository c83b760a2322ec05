"""The stress score and personal baselines on simulated sessions with labelled episodes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hrv
from hrv._stress import BaselineState, BaselineTrack, track_baselines
from simulators import load_scenario, simulate


@pytest.fixture(scope="module")
def demo() -> tuple[hrv.WindowTable, np.ndarray, float]:
    """The demo scenario (calm 4 min, stress 5 min, breathing, calm) in 60 s windows."""
    sim = simulate(load_scenario("demo"))
    beats = sim.batch("demo")
    table = hrv.sliding_windows(beats.rr_ms, t_s=beats.t_s, gap=beats.gap)
    state = sim.segments.state_at(table.t_end_s)
    onset = float(sim.segments.onset_s[sim.segments.state == "stress"][0])
    return table, state, onset


def test_calm_stays_low(demo: tuple[hrv.WindowTable, np.ndarray, float]) -> None:
    """Every valid window of the calm baseline scores below 40."""
    table, state, onset = demo
    calm = (state == "calm") & (table.quality == "ok") & (table.t_end_s < onset)
    assert calm.sum() > 20
    assert np.all(table.stress[calm] < 40)


def test_stress_episode_rises_above_70_within_90_s(
    demo: tuple[hrv.WindowTable, np.ndarray, float],
) -> None:
    """Vagal withdrawal (HR +27, RMSSD 45 -> 14 ms) crosses 70 within 90 s and stays there."""
    table, state, onset = demo
    first_high = table.t_end_s[(table.stress >= 70) & (table.t_end_s >= onset)][0]
    assert first_high - onset <= 90
    held = (state == "stress") & (table.t_end_s >= onset + 90)
    assert np.all(table.stress[held] >= 70)


def test_score_falls_back_after_the_episode(
    demo: tuple[hrv.WindowTable, np.ndarray, float],
) -> None:
    """Two minutes into recovery (paced breathing) the score is back below 40."""
    table, state, onset = demo
    after = (state != "stress") & (table.t_end_s > onset + 300 + 120)
    assert after.sum() > 10
    assert np.all(table.stress[after] < 40)


def test_new_user_starts_from_the_population_prior() -> None:
    """Before any valid window the baseline is the prior; it then moves toward the person."""
    rng = np.random.default_rng(1)
    rr = 1000.0 + rng.normal(0, 25, 1200)  # HR 60, RMSSD about 35 ms
    table = hrv.sliding_windows(rr)
    prior = hrv.BaselineRule().prior
    assert table.baseline_hr_bpm[0] == prior.hr_bpm
    assert table.baseline_ln_rmssd[0] == prior.ln_rmssd
    assert abs(table.baseline_hr_bpm[-1] - 60) < abs(prior.hr_bpm - 60) / 2
    assert table.baselines[0].weight_s > prior.weight_s


def test_baseline_carries_over_between_recordings() -> None:
    """Passing the baseline from one half of a recording to the next keeps it on course.

    Only the second half's first minute (partial windows, not valid) differs.
    """
    rng = np.random.default_rng(2)
    rr = np.full(2000, 800.0) + rng.normal(0, 30, 2000)
    t = np.cumsum(rr) / 1000
    whole = hrv.sliding_windows(rr, t_s=t)
    cut = int(np.searchsorted(t, 600.0, side="right"))
    head = hrv.sliding_windows(rr[:cut], t_s=t[:cut])
    tail = hrv.sliding_windows(rr[cut:], t_s=t[cut:], baseline=head.baselines[0])
    late = whole.t_end_s > 700
    late_tail = tail.t_end_s > 700
    np.testing.assert_allclose(
        tail.baseline_hr_bpm[late_tail], whole.baseline_hr_bpm[late], rtol=0.01
    )
    assert tail.baselines[0].weight_s == pytest.approx(whole.baselines[0].weight_s, rel=0.05)


def test_invalid_windows_have_no_score() -> None:
    """Windows whose quality is not ok get NaN stress and z-scores."""
    table = hrv.sliding_windows(np.full(100, 1000.0) + np.tile([0.0, 40.0], 50))
    bad = table.quality != "ok"
    assert bad.any()
    assert np.isnan(table.stress[bad]).all()
    assert np.isnan(table.hr_z[bad]).all()


def _recursion(x: np.ndarray, y0: np.ndarray, decay: float) -> np.ndarray:
    """y[k] = x[k] + decay * y[k-1], one window at a time (the definition)."""
    y = np.empty_like(x)
    prev = y0
    for k in range(x.shape[0]):
        prev = x[k] + decay * prev
        y[k] = prev
    return y


def _windows(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    valid = rng.random(n) < 0.8
    return valid, rng.normal(3.6, 0.4, n), rng.normal(65.0, 8.0, n)


def _track(
    index: np.ndarray, parts: tuple[np.ndarray, ...], state: BaselineState, decay: float
) -> BaselineTrack:
    valid, ln, hr = parts
    return track_baselines(
        row=np.zeros(index.size, np.int64),
        index=index,
        valid=valid,
        ln_rmssd=ln,
        hr_bpm=hr,
        state=state,
        decay=decay,
    )


@pytest.mark.parametrize("step_s", [1.0, 5.0, 300.0, 3600.0 * 60, 3600.0 * 300])
def test_blocked_closed_form_follows_the_recursion(step_s: float) -> None:
    """Baselines before each window equal the window-by-window recursion to rounding,
    for steps whose blocks hold 256 down to 1 window (d^-B stays below 2^512).

    Every fifth window is invalid: longer invalid runs would, at steps of 300 half-lives,
    age the weight below the smallest double (with any implementation).
    """
    decay = hrv.BaselineRule().decay(step_s)
    n = 3000
    _, ln, hr = _windows(n, 5)
    valid = np.arange(n) % 5 != 0
    prior = np.array([[120.0], [420.0], [8400.0]])
    index = np.arange(n, dtype=np.int64) + 1_000_037
    track = _track(index, (valid, ln, hr), BaselineState.starting(prior, index[:1]), decay)
    x = np.stack([valid * 1.0, np.where(valid, ln, 0.0), np.where(valid, hr, 0.0)], axis=1)
    y = _recursion(x, prior[:, 0], decay)
    before = np.vstack([prior.T, y[:-1]])
    np.testing.assert_allclose(track.ln_rmssd, before[:, 1] / before[:, 0], rtol=1e-12)
    np.testing.assert_allclose(track.hr_bpm, before[:, 2] / before[:, 0], rtol=1e-12)
    np.testing.assert_allclose(track.after.sums[:, 0], y[-1], rtol=1e-12)


@settings(max_examples=50, deadline=None)
@given(
    first=st.integers(-600, 600),
    step_s=st.sampled_from([5.0, 3600.0 * 100]),
    cuts=st.lists(st.integers(1, 700), min_size=1, max_size=12),
)
def test_baseline_state_resumes_bit_for_bit(first: int, step_s: float, cuts: list[int]) -> None:
    """Running the windows in chunks, each from the state the last one left, gives the same
    bits as one run, for blocks of 256 and of 5 windows and any start within a block."""
    decay = hrv.BaselineRule().decay(step_s)
    n = 1500
    parts = _windows(n, first + 1000)
    index = np.arange(n, dtype=np.int64) + first
    prior = np.array([[120.0], [420.0], [8400.0]])
    whole = _track(index, parts, BaselineState.starting(prior, index[:1]), decay)
    state = BaselineState.starting(prior, index[:1])
    ln_parts, i = [], 0
    for cut in cuts * n:
        if i >= n:
            break
        piece = slice(i, i + cut)
        track = _track(index[piece], tuple(p[piece] for p in parts), state, decay)
        ln_parts.append(track.ln_rmssd)
        state, i = track.after, i + cut
    assert np.concatenate(ln_parts).tobytes() == whole.ln_rmssd.tobytes()
    assert state.sums.tobytes() == whole.after.sums.tobytes()


@pytest.mark.parametrize("first", [0, 1, 255, 256 * 3 + 7])
def test_baseline_state_resumes_at_block_edges(first: int) -> None:
    """Chunks that end exactly on a block's last window (and one that ends just before the
    first block's end) resume to the same bits as one run."""
    decay = hrv.BaselineRule().decay(5.0)
    n = 1200
    parts = _windows(n, first)
    index = np.arange(n, dtype=np.int64) + first
    prior = np.array([[120.0], [420.0], [8400.0]])
    whole = _track(index, parts, BaselineState.starting(prior, index[:1]), decay)
    edges = np.flatnonzero(index % 256 == 255) + 1
    cuts = np.unique(np.concatenate([[max(int(edges[0]) - 1, 1)], edges]))
    state = BaselineState.starting(prior, index[:1])
    hr_parts = []
    for piece in np.split(np.arange(n), cuts):
        track = _track(index[piece], tuple(p[piece] for p in parts), state, decay)
        hr_parts.append(track.hr_bpm)
        state = track.after
    assert len(hr_parts) >= 5
    assert np.concatenate(hr_parts).tobytes() == whole.hr_bpm.tobytes()
    assert state.sums.tobytes() == whole.after.sums.tobytes()
