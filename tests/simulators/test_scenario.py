"""Scenario files: shipped ones load, bad ones fail naming file, segment and field."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulators import ScenarioError, load_scenario, scenario_names, simulate

MINIMAL = """
name = "t"
seed = 1
[[segments]]
state = "calm"
duration_min = 2
"""


def test_shipped_scenarios_load_and_cover_the_required_ones() -> None:
    """demo, workday, night and two_hours are shipped and validate."""
    assert {"demo", "workday", "night", "two_hours"} <= set(scenario_names())
    for name in scenario_names():
        assert load_scenario(name).duration_s > 0


def test_demo_plays_in_about_a_minute_with_a_clear_stress_episode() -> None:
    """The demo lasts 10-15 simulated minutes, plays in 40-80 s, stress lasts >= 3 min.

    Three minutes leave the default rules (about 90 s from onset to trigger)
    room to fire inside the episode, and the paced breathing after it then
    falls in the trigger's 5-minute outcome window.
    """
    demo = load_scenario("demo")
    assert 600 <= demo.duration_s <= 900
    assert 40 <= demo.duration_s / demo.speed <= 80
    stress = [s for s in demo.segments if s.state == "stress"]
    assert len(stress) == 1
    assert stress[0].length_s >= 180


def test_two_hours_has_three_stress_episodes_and_half_a_percent_artifacts() -> None:
    """two_hours: 120 min, 3 stress segments of >= 4 min, artifact rate 0.005."""
    s = load_scenario("two_hours")
    assert s.duration_s == 7200
    stress = [seg for seg in s.segments if seg.state == "stress"]
    assert len(stress) == 3
    assert all(seg.length_s >= 240 for seg in stress)
    assert s.artifacts.rate == 0.005


def test_segment_labels_tile_the_timeline() -> None:
    """Segment labels are contiguous from 0 to the scenario's end, states as in the file."""
    s = load_scenario("workday")
    labels = simulate(s, until_s=s.duration_s).segments
    assert labels.onset_s[0] == 0
    assert labels.end_s[-1] == pytest.approx(s.duration_s)
    np.testing.assert_array_equal(labels.onset_s[1:], labels.end_s[:-1])
    assert list(labels.state) == [seg.state.value for seg in s.segments]


def test_contact_lost_and_disconnect_beats_are_unobserved_and_gapped() -> None:
    """Beats inside strap-state segments are not observed; the next observed beat is a gap."""
    s = load_scenario("workday")
    sim = simulate(s)
    hidden = np.isin(sim.segments.state_at(sim.t_s), ["contact_lost", "disconnect"])
    np.testing.assert_array_equal(sim.observed, ~hidden)
    batch = sim.batch("w", start_t_s=1000.0)
    assert int(batch.gap.sum()) == 2
    assert batch.t_s[0] == pytest.approx(sim.t_s[0] + 1000.0)


def test_file_path_loads(tmp_path: Path) -> None:
    """A scenario given by path loads with its defaults."""
    path = tmp_path / "mine.toml"
    path.write_text(MINIMAL)
    s = load_scenario(path)
    assert (s.name, s.device.name, s.duration_s) == ("t", "sim-strap", 120)


@pytest.mark.parametrize(
    ("extra", "segment", "field"),
    [
        ('[[segments]]\nstate = "panic"\nduration_s = 5\n', 1, "state"),
        ('[[segments]]\nstate = "calm"\nduration_s = 5\nhr_bpm = 400\n', 1, "hr_bpm"),
        ('[[segments]]\nstate = "calm"\n', 1, ""),
        ('[[segments]]\nstate = "calm"\nduration_s = 5\nheart = 3\n', 1, "heart"),
        ("[artifacts]\nrate = 0.9\n", None, "artifacts.rate"),
        ('[[segments]]\nstate = "calm"\nduration_s = 9\nhr_bpm = 40\nbreathing_hz = 0.4\n', 1, ""),
    ],
)
def test_bad_scenarios_name_file_segment_and_field(
    tmp_path: Path, extra: str, segment: int | None, field: str
) -> None:
    """Validation errors carry the file, the segment index and the field."""
    path = tmp_path / "bad.toml"
    path.write_text(MINIMAL + extra)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.file == str(path)
    assert info.value.segment == segment
    assert info.value.field == field
    assert str(path) in str(info.value)


def test_unknown_name_and_bad_toml_are_scenario_errors(tmp_path: Path) -> None:
    """An unknown name lists the shipped ones; broken TOML names the file."""
    with pytest.raises(ScenarioError, match="demo"):
        load_scenario("no-such-scenario")
    path = tmp_path / "broken.toml"
    path.write_text("name = \n")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_scenario(path)
