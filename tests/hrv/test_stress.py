"""The stress score and personal baselines on simulated sessions with labelled episodes."""

from __future__ import annotations

import numpy as np
import pytest

import hrv
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
