"""The virtual strap: its bytes decode back to the simulated beats, at about 1 Hz, like a strap."""

from __future__ import annotations

import numpy as np
import pytest

from ingest.hrm import RR_UNIT_MS, decode
from ingest.timing import BeatClock, time_notifications
from simulators import Simulation, load_scenario, simulate
from simulators.scenario import DeviceDefaults, parse_scenario
from simulators.wearable import WearableTrace, wearable_trace


def _workday_trace(until_s: float = 12000.0, **device: object) -> tuple[Simulation, WearableTrace]:
    """The workday scenario up to ``until_s`` and its trace, device fields overridden."""
    scenario = load_scenario("workday")
    sim = simulate(scenario, until_s=until_s)
    config = scenario.device.model_copy(update=device)
    return sim, wearable_trace(sim, config, np.random.default_rng(3))


def test_decoded_rr_are_the_simulated_beats_within_one_unit() -> None:
    """Every RR decoded from the payloads is its simulated beat's RR within 1/1024 s."""
    sim, trace = _workday_trace()
    rr = np.concatenate([decode(p).rr_ms for _, p in trace])
    assert rr.size == trace.beat_index.size == int(trace.rr_count.sum())
    assert np.all(np.diff(trace.beat_index) > 0)
    assert np.abs(rr - sim.rr_ms[trace.beat_index]).max() <= RR_UNIT_MS


def test_notifications_come_about_once_a_second_with_zero_to_three_rr_at_rest() -> None:
    """Median spacing 1 s ± 50 ms; at rest each payload carries 0-3 RR, mostly 1 or 2."""
    _, trace = _workday_trace(until_s=3000.0)
    assert np.median(np.diff(trace.t_s)) == pytest.approx(1.0, abs=0.05)
    assert trace.rr_count.max() <= 3
    assert np.mean((trace.rr_count == 1) | (trace.rr_count == 2)) > 0.95


def test_high_heart_rate_packs_more_rr() -> None:
    """During exercise at ~130 bpm and above, some notifications carry 3 RR."""
    text = (
        'name = "x"\nseed = 1\n[[segments]]\nstate = "exercise"\nduration_min = 5\nhr_bpm = 170\n'
    )
    scenario = parse_scenario(text, file="x.toml")
    trace = wearable_trace(simulate(scenario), scenario.device, np.random.default_rng(1))
    assert trace.rr_count.max() >= 3


def test_contact_lost_says_no_contact_and_carries_no_rr() -> None:
    """Inside contact_lost, payloads decode with contact False and no RR; elsewhere True."""
    sim, trace = _workday_trace()
    state = sim.segments.state_at(trace.t_s)
    decoded = [decode(p) for _, p in trace]
    lost = state == "contact_lost"
    assert lost.sum() >= 35
    pairs = list(zip(decoded, lost.tolist(), strict=True))
    assert all(m.sensor_contact is False and not m.rr_ms for m, x in pairs if x)
    assert all(m.sensor_contact is True for m, x in pairs if not x)


def test_disconnect_sends_nothing_and_emits_link_events() -> None:
    """No notification falls inside the disconnect segment; link goes down and up at its ends."""
    sim, trace = _workday_trace(until_s=25000.0)
    seg = int(np.flatnonzero(sim.segments.state == "disconnect")[0])
    onset, end = sim.segments.onset_s[seg], sim.segments.end_s[seg]
    inside = (trace.t_s > onset + 0.1) & (trace.t_s < end - 0.1)
    assert not inside.any()
    np.testing.assert_array_equal(trace.link_t_s, [0.0, onset, end])
    np.testing.assert_array_equal(trace.link_up, [True, False, True])


def test_options_uint16_hr_no_contact_support_and_energy_every_tenth() -> None:
    """uint16 HR sets flag bit 0; no contact support clears bits 1-2; energy on every 10th."""
    _, trace = _workday_trace(until_s=600.0, hr_uint16=True, contact_supported=False)
    flags = np.array([p[0] for _, p in trace])
    assert np.all(flags & 0x01)
    assert not np.any(flags & 0x06)
    energy = [decode(p).energy_kj for _, p in trace]
    with_energy = [i for i, e in enumerate(energy) if e is not None]
    assert np.all(np.diff(with_energy) == 10)
    values = [e for e in energy if e is not None]
    assert values == sorted(values)
    assert values[-1] > 0


def test_battery_falls_one_percent_at_a_time_at_the_drain_rate() -> None:
    """Battery events start at the configured level and drop 1 % per 1/drain hours."""
    _, trace = _workday_trace(until_s=12000.0, battery_start_pct=80, battery_drain_pct_per_h=2.0)
    assert trace.battery_pct[0] == 80
    np.testing.assert_array_equal(np.diff(trace.battery_pct), -1)
    np.testing.assert_allclose(np.diff(trace.battery_t_s), 1800.0)
    assert trace.battery_t_s[-1] <= 12000.0


def test_bytes_through_ingest_timing_give_back_the_beats() -> None:
    """Payloads decoded and timed by ingest.timing.BeatClock give the simulated beats and gaps."""
    text = """name = "gaps"
seed = 4
[[segments]]
state = "calm"
duration_min = 3
[[segments]]
state = "contact_lost"
duration_s = 20
[[segments]]
state = "calm"
duration_min = 2
[[segments]]
state = "disconnect"
duration_s = 30
[[segments]]
state = "calm"
duration_min = 2
"""
    scenario = parse_scenario(text, file="gaps.toml")
    sim = simulate(scenario)
    trace = wearable_trace(sim, scenario.device, np.random.default_rng(3))
    beats, _ = time_notifications(
        BeatClock("sim"), trace.t_s.tolist(), [decode(p) for _, p in trace]
    )
    expected = sim.t_s[trace.beat_index]
    assert abs(beats.t_s.size - expected.size) <= 5
    right = np.searchsorted(expected, beats.t_s).clip(1, expected.size - 1)
    nearest = np.minimum(
        np.abs(expected[right] - beats.t_s), np.abs(expected[right - 1] - beats.t_s)
    )
    assert np.median(nearest) < 0.05
    assert np.mean(nearest < 0.1) > 0.99
    gap_times = beats.t_s[beats.gap]
    assert len(gap_times) == 2
    assert gap_times[0] == pytest.approx(sim.segments.end_s[1], abs=2.0)
    assert gap_times[1] == pytest.approx(sim.segments.end_s[3], abs=2.0)


def test_same_seed_same_bytes() -> None:
    """The trace is a pure function of the simulation, the device and the seed."""
    scenario = load_scenario("demo")
    sim = simulate(scenario)
    a = wearable_trace(sim, scenario.device, np.random.default_rng(9))
    b = wearable_trace(
        sim, DeviceDefaults(**scenario.device.model_dump()), np.random.default_rng(9)
    )
    assert a.payload == b.payload
    assert a.t_s.tobytes() == b.t_s.tobytes()
