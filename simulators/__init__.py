"""Simulators: physiological RR model, scenarios, artifacts, virtual wearables, fleets."""

from simulators.artifacts import ArtifactKind, ArtifactLabels
from simulators.errors import ScenarioError, SimulatorError
from simulators.physiology import Physiology, Stretch, generate_beats
from simulators.scenario import Scenario, State, load_scenario, scenario_names
from simulators.simulation import SegmentLabels, Simulation, simulate

__all__ = [
    "ArtifactKind",
    "ArtifactLabels",
    "Physiology",
    "Scenario",
    "ScenarioError",
    "SegmentLabels",
    "Simulation",
    "SimulatorError",
    "State",
    "Stretch",
    "generate_beats",
    "load_scenario",
    "scenario_names",
    "simulate",
]
