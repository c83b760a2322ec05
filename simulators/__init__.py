"""Simulators: physiological RR model, scenarios, artifacts, virtual wearables, fleets."""

from simulators.artifacts import ArtifactKind, ArtifactLabels
from simulators.errors import ScenarioError, SimulatorError
from simulators.physiology import Physiology, Stretch, generate_beats
from simulators.scenario import Scenario, State, load_scenario, scenario_names
from simulators.simulation import SegmentLabels, Simulation, simulate
from simulators.strap_source import VirtualStrap
from simulators.wearable import WearableTrace, wearable_trace

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
    "VirtualStrap",
    "WearableTrace",
    "generate_beats",
    "load_scenario",
    "scenario_names",
    "simulate",
    "wearable_trace",
]
