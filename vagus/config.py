"""The application config: one TOML file, validated once at start.

Every problem is reported as one line naming the key, the value and what
is allowed (`ConfigError`), so the CLI can print them and exit 2. Secrets
never come from the TOML file itself when an environment variable or a
file is given for them (see the output sections).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from recommender import RecommenderConfig, RuleConfigError
from recommender import parse_config as parse_rules
from vagus.errors import UserError
from vagus.influx import InfluxSettings
from vagus.mqtt import MqttSettings, SecretUnavailableError

APP_NAME = "vagus"


def default_config_path() -> Path:
    """Where `vagus run` looks without ``--config`` (platform convention, e.g. ~/.config/vagus)."""
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def default_state_dir() -> Path:
    """Where baselines, spools and queues persist (e.g. ~/.local/state/vagus)."""
    return Path(platformdirs.user_state_dir(APP_NAME))


class Section(BaseModel):
    """Base of every config section: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class BleDevice(Section):
    """One strap to connect to: by address, by name, or the first heart-rate strap seen."""

    address: str | None = None
    name: str | None = None
    any: bool = False
    label: str | None = Field(None, description="device name used in topics and storage")

    @model_validator(mode="after")
    def _one_selector(self) -> BleDevice:
        chosen = [k for k in ("address", "name") if getattr(self, k)] + (
            ["any"] if self.any else []
        )
        if len(chosen) != 1:
            raise ValueError("give exactly one of address, name or any = true")
        return self


class SimulatedSource(Section):
    """Virtual straps playing a scenario (see ``simulators/scenarios``)."""

    devices: Annotated[int, Field(ge=1, le=10_000)] = 1
    scenario: str = "demo"
    speed: Annotated[float, Field(gt=0, le=1000)] | None = Field(
        None, description="times real time; default: the scenario's own speed"
    )
    seed: int | None = Field(None, description="device n plays seed + n; default: the scenario's")


class MqttBeatsSource(Section):
    """Raw beats published by another host to ``<prefix>/<device>/beats``."""

    enabled: bool = False


class Sources(Section):
    """Where beats come from; several kinds may run at once."""

    ble: list[BleDevice] = []
    simulated: SimulatedSource | None = None
    mqtt_beats: MqttBeatsSource = MqttBeatsSource()


class EngineSettings(Section):
    """Sliding windows of the HRV engine."""

    window_s: Annotated[float, Field(gt=0, le=3600)] = 60.0
    step_s: Annotated[float, Field(gt=0, le=600)] = 5.0

    @model_validator(mode="after")
    def _step_within_window(self) -> EngineSettings:
        if self.step_s > self.window_s:
            raise ValueError(f"step_s ({self.step_s}) must not exceed window_s ({self.window_s})")
        return self


class FilesOutput(Section):
    """Optional CSV session files (beats, metrics, triggers, outcomes)."""

    dir: Path | None = None


class ConsoleOutput(Section):
    """The live terminal view (plain lines when not on a terminal)."""

    enabled: bool = True


class LogSettings(Section):
    """Structured logs: JSON when stderr is not a terminal."""

    level: Literal["debug", "info", "warning", "error"] = "info"


class Config(Section):
    """The whole config file; ``rules`` and ``recommender`` are validated by `recommender`."""

    state_dir: Path = Field(default_factory=default_state_dir)
    sources: Sources = Sources()
    engine: EngineSettings = EngineSettings()
    mqtt: MqttSettings | None = None
    influx: InfluxSettings | None = None
    files: FilesOutput = FilesOutput()
    console: ConsoleOutput = ConsoleOutput()
    log: LogSettings = LogSettings()
    recommender: RecommenderConfig = Field(default_factory=lambda: parse_rules({}))

    @model_validator(mode="before")
    @classmethod
    def _defaults_from_state_dir(cls, data: Any) -> Any:
        """The InfluxDB spool lives in the state dir unless the config says otherwise."""
        if isinstance(data, dict) and isinstance(data.get("influx"), dict):
            state_dir = Path(str(data.get("state_dir") or default_state_dir()))
            influx = {"spool_dir": state_dir / "influx-spool", **data["influx"]}
            return {**data, "influx": influx}
        return data


class ConfigError(UserError):
    """The config cannot be used; ``problems`` holds one line per problem."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__("\n".join(f"{source}: {p}" for p in problems))


_SECRET_KEYS = ("password", "token")


def _describe(error: Mapping[str, Any]) -> str:
    key = ".".join(str(part) for part in error["loc"]) or "(top level)"
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"{key}: unknown key"
    if kind == "missing":
        return f"{key}: missing"
    value = "<secret>" if any(k in key for k in _SECRET_KEYS) else repr(error["input"])
    return f"{key} = {value}: {error['msg']}"


def parse_config(
    data: Mapping[str, Any], *, source: str = "config", environ: Mapping[str, str] | None = None
) -> Config:
    """Validate a parsed TOML document; raise `ConfigError` with one line per problem.

    ``environ`` (default: the process environment) supplies secrets such as
    ``VAGUS_INFLUX_TOKEN``; a secret that is named but cannot be had is an error
    here, at start, rather than at the first write.
    """
    environ = os.environ if environ is None else environ
    data = dict(data)
    problems: list[str] = []
    try:
        recommender = parse_rules({k: data.pop(k) for k in ("rules", "recommender") if k in data})
    except RuleConfigError as exc:
        problems.append(str(exc))
        recommender = parse_rules({})
    try:
        config = Config.model_validate(
            {**data, "recommender": recommender}, context={"environ": environ}
        )
    except ValidationError as exc:
        problems += [_describe(e) for e in exc.errors(include_url=False)]
        raise ConfigError(source, problems) from None  # the chain would quote secrets
    if config.mqtt is not None:
        try:
            config.mqtt.resolve_password(environ)
        except SecretUnavailableError as exc:
            problems.append(str(exc))
    if problems:
        raise ConfigError(source, problems)
    return config


def load_config(path: Path | None) -> Config:
    """Read and validate ``path`` (or the default location, where a missing file means defaults)."""
    explicit = path is not None
    path = path or default_config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if explicit:
            raise ConfigError(str(path), ["no such file"]) from None
        return Config()
    except OSError as exc:
        raise ConfigError(str(path), [f"cannot read: {exc.strerror}"]) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), [f"not valid TOML: {exc}"]) from exc
    return parse_config(data, source=str(path))
