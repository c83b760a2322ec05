"""The application config: one TOML file, validated once at start.

Every problem is reported as one line naming the key, the value and what
is allowed (`ConfigError`), so the CLI can print them and exit 2. Secrets
never come from the TOML file itself when an environment variable or a
file is given for them (see the output sections).

The config accepts exactly what the daemon can start with: the engine's
windows are checked by `hrv`'s own settings check, a simulated scenario is
loaded, BLE labels must be device ids, and the directories the daemon
writes (``state_dir``, ``files.dir``, ``influx.spool_dir``) must be
directories this user can write, or creatable (checked without creating
anything; ``parse_config(check_dirs=False)`` skips this for commands that
only take ``[engine]`` and the rules).
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import platformdirs
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from hrv import (
    BaselineRule,
    InputError,
    check_settings,
)
from ingest.device_ids import device_id_problem
from recommender import RecommenderConfig, RuleConfigError
from recommender import parse_config as parse_rules
from simulators.errors import ScenarioError
from simulators.scenario import load_scenario
from vagus.errors import CONFIG_KEY_PROBLEM, UserError, config_key_problem
from vagus.influx import InfluxSettings
from vagus.mqtt import MqttSettings, SecretUnavailableError
from vagus.nats import NatsSecretError, NatsSettings
from vagus.privacy import SaltFileError, read_key

APP_NAME = "vagus"


def default_config_path() -> Path:
    """Where `vagus run` looks without ``--config`` (platform convention, e.g. ~/.config/vagus)."""
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def default_state_dir() -> Path:
    """Where baselines, spools and queues persist (e.g. ~/.local/state/vagus)."""
    return Path(platformdirs.user_state_dir(APP_NAME))


MAX_WINDOW_S = 300.0
"""Longest engine window the HRV engine accepts (`hrv` checks 0 < window_s <= 300 s)."""

MIN_STEP_S = 1.0
"""Shortest engine step: below it a short recording explodes into tens of thousands of windows."""

MIN_WEB_TOKEN_CHARS = 16
"""Shortest access token of the web page (``[web] token_file``)."""

_VALUE_PROBLEM = "config_value"
_KEY_PROBLEM = CONFIG_KEY_PROBLEM
_CHECK_DIRS = "check_dirs"


def _value_problem(allowed: str) -> PydanticCustomError:
    """A field's problem, reported by `_describe` against the field's own key and value."""
    return PydanticCustomError(_VALUE_PROBLEM, "{allowed}", {"allowed": allowed})


_key_problem = config_key_problem
"""A section-level check's problem, reported against ``key`` (relative to the section)."""


def directory_problem(path: Path) -> str | None:
    """Why the daemon could not write into directory ``path``, or None when it can.

    ``path`` must be a directory this user can write to, or not exist yet
    with its nearest existing parent a directory this user can write to (the
    daemon creates it). Nothing is created here.
    """
    if os.path.lexists(path):
        if not path.is_dir():
            return "exists and is not a directory"
        if not os.access(path, os.W_OK | os.X_OK):
            return "is a directory this user cannot write to"
        return None
    absolute = Path(os.path.abspath(path))
    parent = next(p for p in absolute.parents if os.path.lexists(p))  # "/" always exists
    if not parent.is_dir():
        return f"cannot be created: {parent} is not a directory"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"cannot be created: this user cannot write to {parent}"
    return None


def _dir_allowed(problem: str) -> str:
    return f"{problem} (must be a directory this user can write to, or creatable in one)"


def _writable_dir(path: Path, info: ValidationInfo) -> Path:
    """``~`` expanded; with the ``check_dirs`` context, a `directory_problem` is an error."""
    path = path.expanduser()
    if (info.context or {}).get(_CHECK_DIRS) and (problem := directory_problem(path)):
        raise _value_problem(_dir_allowed(problem))
    return path


WritableDir = Annotated[Path, AfterValidator(_writable_dir)]
"""A directory the daemon writes into (see `directory_problem`)."""


class Section(BaseModel):
    """Base of every config section: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class BleDevice(Section):
    """One strap to connect to: by address, by name, or the first heart-rate strap seen."""

    address: str | None = None
    name: str | None = None
    any: bool = False
    label: str | None = Field(None, description="device name used in topics and storage")

    @field_validator("label")
    @classmethod
    def _label_is_device_id(cls, label: str | None) -> str | None:
        """A label becomes an MQTT topic level, a tag and a file name: it must be a device id."""
        if label is not None and (problem := device_id_problem(label)) is not None:
            raise _value_problem(f"not a device id: {problem}")
        return label

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

    @field_validator("scenario")
    @classmethod
    def _scenario_loads(cls, scenario: str) -> str:
        """The scenario is loaded (and validated) now, not when the daemon starts its straps."""
        try:
            load_scenario(scenario)
        except ScenarioError as exc:
            where = [exc.file] if exc.file != scenario else []
            if exc.segment is not None:
                where.append(f"segment {exc.segment}")
            if exc.field:
                where.append(f"field {exc.field!r}")
            prefix = f"{', '.join(where)}: " if where else ""
            raise _value_problem(f"{prefix}{exc.reason}") from None
        return scenario


class MqttBeatsSource(Section):
    """Raw beats published by another host to ``<prefix>/<device>/beats``."""

    enabled: bool = False


class Sources(Section):
    """Where beats come from; several kinds may run at once."""

    ble: list[BleDevice] = []
    simulated: SimulatedSource | None = None
    mqtt_beats: MqttBeatsSource = MqttBeatsSource()
    nats: NatsSettings | None = Field(
        None, description="this worker's partitions of a NATS JetStream beats stream"
    )


class EngineSettings(Section):
    """Sliding windows of the HRV engine: 0 < window_s <= 300 s, 1 s <= step_s <= window_s."""

    window_s: Annotated[float, Field(gt=0, le=MAX_WINDOW_S)] = 60.0
    step_s: Annotated[float, Field(ge=MIN_STEP_S, le=MAX_WINDOW_S)] = 5.0

    @model_validator(mode="after")
    def _engine_accepts(self) -> EngineSettings:
        """Step within the window, then the engine's own check, so the two cannot drift apart."""
        if self.step_s > self.window_s:
            raise _key_problem(
                "step_s", self.step_s, f"must not exceed window_s ({self.window_s:g})"
            )
        try:
            check_settings(self.window_s, self.step_s, BaselineRule())
        except InputError as exc:
            value = getattr(self, exc.name, None)
            raise _key_problem(
                exc.name, value, f"the HRV engine refuses it: {exc.reason}"
            ) from None
        return self


class FilesOutput(Section):
    """Optional CSV session files (beats, metrics, triggers, outcomes)."""

    dir: WritableDir | None = None


class ConsoleOutput(Section):
    """The live terminal view (plain lines when not on a terminal)."""

    enabled: bool = True


class LogSettings(Section):
    """Structured logs: JSON when stderr is not a terminal."""

    level: Literal["debug", "info", "warning", "error"] = "info"


DEFAULT_WEB_LISTEN = "127.0.0.1:8765"


def listen_address(listen: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6) as host and port; ValueError says what is wrong."""
    host, sep, port = listen.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("must be HOST:PORT with a port from 1 to 65535")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IP literals (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: not known to be loopback
        return False


class WebSettings(Section):
    """The live page (`vagus.web`): loopback by default; any other address needs a token."""

    listen: str = DEFAULT_WEB_LISTEN
    token_file: Path | None = Field(
        None, description="file holding the access token (required off loopback)"
    )

    @field_validator("listen")
    @classmethod
    def _host_port(cls, listen: str) -> str:
        try:
            listen_address(listen)
        except ValueError as exc:
            raise _value_problem(str(exc)) from None
        return listen

    @field_validator("token_file")
    @classmethod
    def _token_readable(cls, path: Path | None) -> Path | None:
        """The token is read when the page starts; an unreadable or empty file is an error now."""
        if path is None:
            return None
        path = path.expanduser()
        try:
            token = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise _value_problem(f"cannot read the token: {exc}") from None
        if len(token) < MIN_WEB_TOKEN_CHARS:
            raise _value_problem(f"the token must be at least {MIN_WEB_TOKEN_CHARS} characters")
        return path

    @model_validator(mode="after")
    def _token_off_loopback(self) -> WebSettings:
        """Health data leaves this machine only to a client that knows the token."""
        host, _ = listen_address(self.listen)
        if self.token_file is None and not is_loopback(host):
            raise _key_problem(
                "listen",
                self.listen,
                "is not a loopback address: set web.token_file (a file holding an access token)",
            )
        return self

    def read_token(self) -> str | None:
        """The access token (stripped), or None without ``token_file``."""
        if self.token_file is None:
            return None
        return self.token_file.read_text(encoding="utf-8").strip()


class PrivacySettings(Section):
    """``pseudonymise``: every device id becomes a keyed hash of it (see `vagus.privacy`)."""

    pseudonymise: bool = False
    salt_file: Path | None = Field(
        None, description="the secret key (at least 16 bytes, not readable by others)"
    )

    @field_validator("salt_file")
    @classmethod
    def _expand(cls, path: Path | None) -> Path | None:
        return None if path is None else path.expanduser()

    @model_validator(mode="after")
    def _key_given(self) -> PrivacySettings:
        if self.pseudonymise and self.salt_file is None:
            raise _key_problem(
                "pseudonymise",
                True,
                "needs salt_file, a file of secret random bytes (see `vagus config example`)",
            )
        return self


class Config(Section):
    """The whole config file; ``rules`` and ``recommender`` are validated by `recommender`."""

    state_dir: WritableDir = Field(default_factory=default_state_dir, validate_default=True)
    sources: Sources = Sources()
    engine: EngineSettings = EngineSettings()
    mqtt: MqttSettings | None = None
    influx: InfluxSettings | None = None
    files: FilesOutput = FilesOutput()
    console: ConsoleOutput = ConsoleOutput()
    log: LogSettings = LogSettings()
    privacy: PrivacySettings = PrivacySettings()
    web: WebSettings | None = None
    recommender: RecommenderConfig = Field(default_factory=lambda: parse_rules({}))

    @model_validator(mode="before")
    @classmethod
    def _defaults_from_state_dir(cls, data: Any) -> Any:
        """The InfluxDB spool lives in the state dir unless the config says otherwise (``~``
        expanded, as in ``state_dir``)."""
        if isinstance(data, dict) and isinstance(data.get("influx"), dict):
            state_dir = Path(str(data.get("state_dir") or default_state_dir())).expanduser()
            influx = {"spool_dir": state_dir / "influx-spool", **data["influx"]}
            if isinstance(influx["spool_dir"], str | Path):
                influx["spool_dir"] = Path(influx["spool_dir"]).expanduser()
            return {**data, "influx": influx}
        return data

    @model_validator(mode="after")
    def _mqtt_beats_need_a_broker(self) -> Config:
        """Beats over MQTT are received from the broker of the ``[mqtt]`` section."""
        if self.sources.mqtt_beats.enabled and self.mqtt is None:
            raise _key_problem(
                "sources.mqtt_beats.enabled",
                True,
                "needs an [mqtt] section (the broker to listen on)",
            )
        return self

    @model_validator(mode="after")
    def _spool_dir_writable(self, info: ValidationInfo) -> Config:
        """The InfluxDB spool directory is checked like ``state_dir`` (see `directory_problem`)."""
        if self.influx is None or not (info.context or {}).get(_CHECK_DIRS):
            return self
        spool_dir = self.influx.spool_dir
        if (problem := directory_problem(spool_dir)) is not None:
            raise _key_problem("influx.spool_dir", str(spool_dir), _dir_allowed(problem))
        return self


class ConfigError(UserError):
    """The config cannot be used; ``problems`` holds one line per problem."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__("\n".join(f"{source}: {p}" for p in problems))


def _secret_fields(*models: type[BaseModel]) -> frozenset[str]:
    """Names of the fields typed `SecretStr` (alone or in a union) in ``models``."""
    return frozenset(
        name
        for model in models
        for name, field in model.model_fields.items()
        if field.annotation is SecretStr or SecretStr in get_args(field.annotation)
    )


_SECRET_KEYS = _secret_fields(MqttSettings, InfluxSettings, NatsSettings) | {
    "password",
    "token",
    "secret",
}
"""Keys whose values are never printed: the settings' `SecretStr` fields (``mqtt.password``,
``influx.token``), plus the usual names of secrets in case a section grows one."""

SECRET_SHOWN = "<secret>"
"""What an error line shows in place of a secret value."""


def _is_secret_key(key: object) -> bool:
    name = str(key).lower()
    return name in _SECRET_KEYS or name.endswith(("_secret", "_password", "_token"))


def _redacted(value: object) -> object:
    """``value`` with the value of every secret key, at any depth, replaced by `SECRET_SHOWN`."""
    if isinstance(value, SecretStr):
        return SECRET_SHOWN
    if isinstance(value, Mapping):
        return {k: SECRET_SHOWN if _is_secret_key(k) else _redacted(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(item) for item in value]
    return value


def _describe(error: Mapping[str, Any]) -> str:
    """One pydantic error as ``key = value: what is allowed``; secrets are shown by key only.

    The value of a secret key is `SECRET_SHOWN`; a section-level error quotes its section
    with the value of each secret key (at any depth) replaced the same way.
    """
    loc = [str(part) for part in error["loc"]]
    kind = error["type"]
    value = error["input"]
    if kind == _KEY_PROBLEM:  # a section-level check that names one of the section's keys
        loc.append(error["ctx"]["key"])
        value = error["ctx"]["value"]
    key = ".".join(loc) or "(top level)"
    if kind == "extra_forbidden":
        return f"{key}: unknown key"
    if kind == "missing":
        return f"{key}: missing"
    secret = any(_is_secret_key(part) for part in key.split("."))
    shown = SECRET_SHOWN if secret else repr(_redacted(value))
    return f"{key} = {shown}: {error['msg']}"


def parse_config(
    data: Mapping[str, Any],
    *,
    source: str = "config",
    environ: Mapping[str, str] | None = None,
    check_dirs: bool = True,
) -> Config:
    """Validate a parsed TOML document; raise `ConfigError` with one line per problem.

    ``environ`` (default: the process environment) supplies secrets such as
    ``VAGUS_INFLUX_TOKEN``; a secret that is named but cannot be had is an error
    here, at start, rather than at the first write. ``check_dirs`` checks that
    this user can write (or create) the directories the daemon writes; turn it
    off for commands that take only ``[engine]`` and the rules from the config.
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
            {**data, "recommender": recommender},
            context={"environ": environ, _CHECK_DIRS: check_dirs},
        )
    except ValidationError as exc:
        problems += [_describe(e) for e in exc.errors(include_url=False)]
        raise ConfigError(source, problems) from None  # the chain would quote secrets
    if config.mqtt is not None:
        try:
            config.mqtt.resolve_password(environ)
        except SecretUnavailableError as exc:
            problems.append(str(exc))
    if config.sources.nats is not None:
        try:
            config.sources.nats.resolve_password(environ)
        except NatsSecretError as exc:
            problems.append(str(exc))
    if config.privacy.pseudonymise and config.privacy.salt_file is not None:
        try:
            read_key(config.privacy.salt_file)
        except SaltFileError as exc:
            problems.append(str(exc))
    if problems:
        raise ConfigError(source, problems)
    return config


def load_config(path: Path | None, *, check_dirs: bool = True) -> Config:
    """Read and validate ``path`` (or the default location, where a missing file means defaults).

    ``check_dirs``: see `parse_config`.
    """
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
    except UnicodeDecodeError as exc:
        problem = f"not a TOML text file: byte {exc.start} is not UTF-8"
        raise ConfigError(str(path), [problem]) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), [f"not valid TOML: {exc}"]) from exc
    return parse_config(data, source=str(path), check_dirs=check_dirs)


def with_web_listen(config: Config, listen: str) -> Config:
    """``config`` serving the page on ``listen`` (``--web HOST:PORT``), checked like the file's
    ``[web]`` section (its ``token_file`` is kept); problems are a `ConfigError` from ``--web``."""
    current = {} if config.web is None else config.web.model_dump(exclude_defaults=True)
    try:
        web = WebSettings.model_validate({**current, "listen": listen})
    except ValidationError as exc:
        errors = [{**e, "loc": ("web", *e["loc"])} for e in exc.errors(include_url=False)]
        raise ConfigError("--web", [_describe(e) for e in errors]) from None
    return config.model_copy(update={"web": web})
