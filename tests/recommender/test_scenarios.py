"""The default rules on the simulator's labelled sessions through the real HRV engine.

Done-when of issue 6: one trigger per stress episode within 2 min of its
onset, and none during calm stretches.
"""

from __future__ import annotations

import numpy as np
import pytest

from hrv import WindowMetrics, sliding_windows
from recommender import Evaluator, Trigger, default_config
from simulators import Simulation, load_scenario, simulate

ONSET_TO_TRIGGER_MAX_S = 120.0


def session(
    name: str, device: str = "strap"
) -> tuple[Simulation, list[WindowMetrics], tuple[Trigger, ...]]:
    """Simulate scenario ``name``, window it with the engine, run the default rules."""
    sim = simulate(load_scenario(name))
    batch = sim.batch(device)
    windows = list(sliding_windows(batch.rr_ms, t_s=batch.t_s, gap=batch.gap).records(device))
    return sim, windows, Evaluator(default_config()).feed_many(windows).triggers


def check_one_per_episode(sim: Simulation, triggers: tuple[Trigger, ...]) -> list[float]:
    """Assert the done-when; return each episode's onset-to-trigger latency in seconds."""
    seg = sim.segments
    t_s = np.array([t.t_s for t in triggers])
    states = seg.state_at(t_s) if len(triggers) else np.array([], dtype=str)
    assert "calm" not in set(states.tolist()), f"triggers in calm stretches at {t_s}"
    latencies = []
    for i in np.flatnonzero(seg.state == "stress"):
        onset, end = seg.onset_s[i], seg.end_s[i]
        inside = t_s[(t_s >= onset) & (t_s < end)]
        assert inside.size == 1, f"episode {seg.label[i]!r} at {onset} s: triggers {inside}"
        latencies.append(float(inside[0] - onset))
    assert latencies, "the scenario has no stress episode"
    assert max(latencies) <= ONSET_TO_TRIGGER_MAX_S, f"onset-to-trigger latencies {latencies}"
    return latencies


@pytest.mark.parametrize("name", ["demo", "night", "two_hours", "workday"])
def test_default_rules_on_scenario(name: str) -> None:
    """Each stress episode fires once within 2 min of onset; no trigger in calm stretches."""
    sim, _, triggers = session(name)
    check_one_per_episode(sim, triggers)
