"""The RR model hits each segment's targets: mean HR, RMSSD, breathing peak; it is deterministic."""

from __future__ import annotations

import time

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy.signal import welch

from simulators import Simulation, load_scenario, simulate
from simulators.physiology import RR_MAX_MS, RR_MIN_MS, Physiology, Stretch, generate_beats

CALM = Physiology(hr_bpm=65, rmssd_ms=45, breathing_hz=0.25, mayer_ms=20, drift_ms=25)


def _steady(sim: Simulation, seg: int, ramp_s: float) -> NDArray[np.bool_]:
    """Clean beats of segment ``seg`` after its onset ramp (artifacts and neighbours left out)."""
    onset, end = sim.segments.onset_s[seg], sim.segments.end_s[seg]
    bad = sim.artifacts.mask(sim.t_s.size)
    bad = bad | np.roll(bad, 1) | np.roll(bad, -1)
    keep: NDArray[np.bool_] = (sim.t_s > onset + ramp_s) & (sim.t_s <= end) & ~bad
    return keep


def _rmssd(rr: np.ndarray, keep: np.ndarray) -> float:
    """RMSSD over successive pairs that are both kept."""
    pairs = keep[1:] & keep[:-1]
    return float(np.sqrt(np.mean(np.diff(rr)[pairs] ** 2)))


def _peak_hz(t_s: np.ndarray, rr_ms: np.ndarray, band: tuple[float, float]) -> float:
    """Frequency of the largest Welch peak of the 4 Hz-resampled RR series within ``band``."""
    grid = np.arange(t_s[0], t_s[-1], 0.25)
    series = np.interp(grid, t_s, rr_ms)
    freqs, power = welch(series - series.mean(), fs=4.0, nperseg=512, detrend="linear")
    inside = (freqs >= band[0]) & (freqs <= band[1])
    return float(freqs[inside][np.argmax(power[inside])])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_two_hour_segments_hit_their_targets(seed: int) -> None:
    """Every segment of two_hours has mean HR and RMSSD within 10 % of its targets (3 seeds)."""
    scenario = load_scenario("two_hours")
    sim = simulate(scenario, seed=seed)
    for i, seg in enumerate(scenario.segments):
        keep = _steady(sim, i, seg.ramp_s + 30.0)
        hr = 60000.0 / sim.rr_ms[keep].mean()
        rmssd = _rmssd(sim.rr_ms, keep)
        assert hr == pytest.approx(sim.segments.hr_bpm[i], rel=0.10), (i, seg.state)
        assert rmssd == pytest.approx(sim.segments.rmssd_ms[i], rel=0.10), (i, seg.state)


@pytest.mark.parametrize(
    ("state", "breathing_hz", "band"),
    [("calm", 0.25, (0.15, 0.4)), ("stress", 0.33, (0.15, 0.45)), ("breathing", 0.1, (0.04, 0.4))],
)
def test_spectral_peak_sits_at_the_breathing_rate(
    state: str, breathing_hz: float, band: tuple[float, float]
) -> None:
    """The RR spectrum of a 10-minute segment peaks within 0.02 Hz of the breathing rate."""
    from simulators.scenario import STATE_DEFAULTS, State

    phys = STATE_DEFAULTS[State(state)]
    assert phys.breathing_hz == breathing_hz
    t_s, rr_ms = generate_beats(
        [Stretch(onset_s=0, end_s=600, physiology=phys, ramp_s=0)], np.random.default_rng(5)
    )
    assert _peak_hz(t_s, rr_ms, band) == pytest.approx(breathing_hz, abs=0.02)


def test_stress_is_vagal_withdrawal() -> None:
    """In the demo, the stress episode has higher HR and lower RMSSD than baseline and breathing."""
    scenario = load_scenario("demo")
    sim = simulate(scenario)
    stats = []
    for i, seg in enumerate(scenario.segments):
        keep = _steady(sim, i, seg.ramp_s + 30.0)
        stats.append((60000.0 / sim.rr_ms[keep].mean(), _rmssd(sim.rr_ms, keep)))
    (hr_base, rm_base), (hr_stress, rm_stress), (_, rm_breath), _ = stats
    assert hr_stress > hr_base + 15
    assert rm_stress < rm_base / 2
    assert rm_breath > rm_base


def test_beat_times_and_intervals_agree_and_stay_bounded() -> None:
    """Beat times increase, each RR equals the time since the previous beat, RR is bounded."""
    sim = simulate(load_scenario("workday"), until_s=3600)
    assert np.all(np.diff(sim.t_s) > 0)
    np.testing.assert_allclose(np.diff(sim.t_s) * 1000.0, sim.rr_ms[1:], atol=1e-6)
    clean = ~sim.artifacts.mask(sim.t_s.size)
    assert sim.rr_ms[clean].min() >= RR_MIN_MS - 50
    assert sim.rr_ms[clean].max() <= RR_MAX_MS + 50


def test_same_seed_same_bytes_other_seed_differs() -> None:
    """Two runs with one seed give identical bytes; another seed gives other beats."""
    scenario = load_scenario("two_hours")
    a, b = simulate(scenario), simulate(scenario)
    assert a.t_s.tobytes() == b.t_s.tobytes()
    assert a.rr_ms.tobytes() == b.rr_ms.tobytes()
    assert a.artifacts.index.tobytes() == b.artifacts.index.tobytes()
    c = simulate(scenario, seed=scenario.seed + 1)
    assert c.rr_ms.size != a.rr_ms.size or not np.array_equal(c.rr_ms, a.rr_ms)


def test_two_hour_scenario_generates_well_under_a_second() -> None:
    """The 2-hour scenario with 3 stress episodes and 0.5 % artifacts takes < 0.5 s (best of 3)."""
    scenario = load_scenario("two_hours")
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        simulate(scenario)
        best = min(best, time.perf_counter() - start)
    assert best < 0.5


def test_hrv_engine_sees_every_stress_episode() -> None:
    """hrv.sliding_windows on two_hours: stress > 50 in each stress episode, < 30 when calm."""
    from hrv import sliding_windows

    sim = simulate(load_scenario("two_hours"))
    batch = sim.batch("d")
    windows = sliding_windows(batch.rr_ms, t_s=batch.t_s, gap=batch.gap)
    for i, state in enumerate(sim.segments.state):
        inside = (windows.t_end_s > sim.segments.onset_s[i] + 90) & (
            windows.t_end_s <= sim.segments.end_s[i]
        )
        stress = float(np.nanmean(windows.stress[inside]))
        assert stress > 50 if state == "stress" else stress < 30, (i, state, stress)
