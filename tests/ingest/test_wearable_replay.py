"""The adapter fed by the simulators' virtual strap: disconnects, lost contact, energy fields."""

from __future__ import annotations

import numpy as np

from ingest.ble_state import LinkEvent
from ingest.hrm import RR_UNIT_MS
from simulators.scenario import parse_scenario
from simulators.simulation import simulate
from simulators.wearable import wearable_trace
from tests.ingest.fake_ble import Harness, Session, beats_of
from tests.ingest.replay import START_S

SCENARIO = """
name = "ingest-ten-minutes"
seed = 11
[[segments]]
state = "calm"
duration_min = 3
[[segments]]
state = "disconnect"
duration_s = 20
[[segments]]
state = "stress"
duration_min = 3
[[segments]]
state = "contact_lost"
duration_s = 30
[[segments]]
state = "stress"
duration_min = 1
[[segments]]
state = "disconnect"
duration_s = 45
[[segments]]
state = "calm"
duration_s = 85
"""


async def test_virtual_strap_with_disconnects_and_lost_contact() -> None:
    """Ten simulated minutes: beats within 50 ms of the simulated truth, every hole flagged."""
    scenario = parse_scenario(SCENARIO, file="test")
    sim = simulate(scenario)
    trace = wearable_trace(sim, scenario.device, np.random.default_rng(2))
    downs = trace.link_t_s[~trace.link_up]
    ups = trace.link_t_s[trace.link_up][1:]
    notes = [(START_S + t, p) for t, p in trace]
    sessions = []
    for start, end in zip(
        np.concatenate(([0.0], ups)), np.concatenate((downs, [np.inf])), strict=True
    ):
        sessions.append(Session([n for n in notes if START_S + start <= n[0] < START_S + end]))
    sessions[-1].link_loss = False
    h = Harness(sessions)
    beats = beats_of(await h.run())

    truth_t_s = START_S + sim.t_s[trace.beat_index]
    truth_rr = sim.rr_ms[trace.beat_index]
    assert len(beats) == truth_t_s.size
    np.testing.assert_allclose(beats.rr_ms, truth_rr, atol=RR_UNIT_MS)  # beat clock quantised
    assert np.abs(beats.t_s - truth_t_s).max() < 0.05
    flagged_s = beats.t_s[beats.gap] - START_S
    assert flagged_s.size == 3
    hole_ends_s = np.array([200.0, 410.0, 515.0])  # disconnect, contact lost, disconnect
    assert np.all(np.abs(flagged_s - hole_ends_s) < 2.0)
    assert h.events().count(LinkEvent.LINK_LOST) == 2
