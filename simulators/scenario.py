"""Scenarios: a timeline of labelled segments plus seed and device defaults, read from TOML.

A scenario file is validated once, when loaded; every error names the file,
the segment (counted from 0) and the field.
"""

from __future__ import annotations

import enum
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Self

import pydantic
from pydantic import BaseModel, ConfigDict, Field, model_validator

from simulators.artifacts import ArtifactKind
from simulators.breathing import Adherence, Resonance
from simulators.errors import ScenarioError
from simulators.physiology import Physiology


class State(enum.StrEnum):
    """What the person (or the strap) is doing during a segment."""

    CALM = "calm"
    STRESS = "stress"
    EXERCISE = "exercise"
    BREATHING = "breathing"
    CONTACT_LOST = "contact_lost"
    DISCONNECT = "disconnect"


STRAP_STATES = frozenset({State.CONTACT_LOST, State.DISCONNECT})
"""States about the strap, not the body: physiology carries on from the segment before."""

STATE_DEFAULTS: Mapping[State, Physiology] = {
    # Resting adult: HR ~65 bpm, RMSSD ~40-45 ms (Nunan et al. 2010, Pacing Clin
    # Electrophysiol 33:1407, normal short-term values), breathing ~15/min.
    State.CALM: Physiology(hr_bpm=65, rmssd_ms=45, breathing_hz=0.25, mayer_ms=20, drift_ms=25),
    # Mental stress as vagal withdrawal: HR up, RMSSD down, faster breathing
    # (Castaldo et al. 2015, Biomed Signal Process Control 18:370, review).
    State.STRESS: Physiology(hr_bpm=88, rmssd_ms=16, breathing_hz=0.33, mayer_ms=12, drift_ms=15),
    State.EXERCISE: Physiology(hr_bpm=130, rmssd_ms=6, breathing_hz=0.45, mayer_ms=4, drift_ms=10),
    # Slow paced breathing at 6/min raises RSA (Lehrer & Gevirtz 2014, Front Psychol 5:756).
    State.BREATHING: Physiology(hr_bpm=64, rmssd_ms=70, breathing_hz=0.1, mayer_ms=20, drift_ms=20),
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Segment(_Model):
    """One stretch of the timeline; physiology fields override the state's defaults."""

    state: State
    duration_s: float | None = Field(default=None, gt=0)
    duration_min: float | None = Field(default=None, gt=0)
    label: str = ""
    ramp_s: float = Field(default=30.0, ge=0)
    hr_bpm: float | None = Field(default=None, ge=35, le=190)
    rmssd_ms: float | None = Field(default=None, gt=0, le=250)
    breathing_hz: float | None = Field(default=None, ge=0.05, le=0.7)
    mayer_ms: float | None = Field(default=None, ge=0, le=100)
    drift_ms: float | None = Field(default=None, ge=0, le=150)
    pacer_bpm: float | None = Field(default=None, ge=3, le=12)
    adherence: Adherence = Adherence.FOLLOWS

    @model_validator(mode="after")
    def _one_duration(self) -> Self:
        if (self.duration_s is None) == (self.duration_min is None):
            raise ValueError("give exactly one of duration_s or duration_min")
        return self

    @model_validator(mode="after")
    def _breathing_below_beat_nyquist(self) -> Self:
        if self.state in STRAP_STATES:
            return self
        phys = self.physiology(STATE_DEFAULTS[State.CALM])
        if phys.breathing_hz >= phys.hr_bpm / 120.0:
            raise ValueError(
                f"breathing_hz {phys.breathing_hz:g} must stay below half the beat rate "
                f"({phys.hr_bpm / 120.0:.2f} Hz at {phys.hr_bpm:g} bpm) to show in RR"
            )
        return self

    @property
    def length_s(self) -> float:
        """Duration in seconds."""
        return self.duration_s if self.duration_s is not None else 60.0 * (self.duration_min or 0)

    def physiology(self, before: Physiology) -> Physiology:
        """Targets: the state's defaults (or ``before`` for strap states) with overrides."""
        base = before if self.state in STRAP_STATES else STATE_DEFAULTS[self.state]
        return Physiology(
            hr_bpm=self.hr_bpm if self.hr_bpm is not None else base.hr_bpm,
            rmssd_ms=self.rmssd_ms if self.rmssd_ms is not None else base.rmssd_ms,
            breathing_hz=self.breathing_hz if self.breathing_hz is not None else base.breathing_hz,
            mayer_ms=self.mayer_ms if self.mayer_ms is not None else base.mayer_ms,
            drift_ms=self.drift_ms if self.drift_ms is not None else base.drift_ms,
        )


class DeviceDefaults(_Model):
    """How the virtual strap behaves on the air."""

    name: str = Field(default="sim-strap", min_length=1, pattern=r"^[A-Za-z0-9_.:-]+$")
    contact_supported: bool = True
    hr_uint16: bool = False
    energy_every: int = Field(default=10, ge=0)
    battery_start_pct: int = Field(default=100, ge=1, le=100)
    battery_drain_pct_per_h: float = Field(default=1.0, ge=0, le=100)


class ArtifactSpec(_Model):
    """Share of corrupted intervals and the relative weight of each kind."""

    rate: float = Field(default=0.0, ge=0, le=0.2)
    ectopic: float = Field(default=0.4, ge=0)
    missed: float = Field(default=0.2, ge=0)
    extra: float = Field(default=0.2, ge=0)
    noise: float = Field(default=0.2, ge=0)

    def weights(self) -> dict[ArtifactKind, float]:
        """Relative weight per kind."""
        return {
            ArtifactKind.ECTOPIC: self.ectopic,
            ArtifactKind.MISSED: self.missed,
            ArtifactKind.EXTRA: self.extra,
            ArtifactKind.NOISE: self.noise,
        }


class ResonanceSpec(_Model):
    """The person's baroreflex resonance (`simulators.breathing`): with it, breathing in every
    segment goes through the resonance model, paced where a segment sets ``pacer_bpm``."""

    rate_bpm: float = Field(ge=2, le=12)
    damping: float = Field(gt=0, lt=1)
    gain_ms: float = Field(ge=0, le=300)
    direct_ms: float = Field(default=10.0, ge=0, le=150)
    spontaneous_bpm: float = Field(default=15.0, ge=3, le=40)

    def model(self) -> Resonance:
        """As a `simulators.breathing.Resonance`."""
        return Resonance(
            rate_bpm=self.rate_bpm,
            damping=self.damping,
            gain_ms=self.gain_ms,
            direct_ms=self.direct_ms,
        )


class Scenario(_Model):
    """A validated scenario: timeline, seed, playback speed, device and artifact defaults."""

    name: str = Field(min_length=1)
    description: str = ""
    seed: int = Field(ge=0)
    speed: float = Field(default=1.0, gt=0, le=1000)
    device: DeviceDefaults = DeviceDefaults()
    artifacts: ArtifactSpec = ArtifactSpec()
    resonance: ResonanceSpec | None = None
    segments: tuple[Segment, ...] = Field(min_length=1)

    @property
    def duration_s(self) -> float:
        """Total length of the timeline in seconds."""
        return float(sum(s.length_s for s in self.segments))


def scenario_names() -> list[str]:
    """Names of the scenarios shipped in ``simulators/scenarios/``."""
    folder = resources.files("simulators") / "scenarios"
    return sorted(
        p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")
    )


def parse_scenario(text: str, *, file: str) -> Scenario:
    """Validate TOML ``text``; ``file`` names it in errors."""
    try:
        raw: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(file=file, reason=f"not valid TOML: {exc}") from exc
    try:
        return Scenario.model_validate(raw)
    except pydantic.ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(part) for part in err["loc"]]
        segment = (
            int(loc[1]) if len(loc) >= 2 and loc[0] == "segments" and loc[1].isdigit() else None
        )
        field = ".".join(loc[2:] if segment is not None else loc)
        raise ScenarioError(file=file, segment=segment, field=field, reason=err["msg"]) from exc


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A shipped scenario by name (``"demo"``), or a TOML file by path."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ScenarioError(file=str(path), reason=f"cannot read: {exc.strerror}") from exc
        return parse_scenario(text, file=str(path))
    names = scenario_names()
    if str(name_or_path) not in names:
        raise ScenarioError(
            file=str(name_or_path),
            reason=f"no such scenario; shipped ones: {', '.join(names)}",
        )
    shipped = resources.files("simulators") / "scenarios" / f"{name_or_path}.toml"
    return parse_scenario(shipped.read_text(encoding="utf-8"), file=f"{name_or_path}.toml")
