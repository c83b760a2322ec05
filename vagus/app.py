"""Builds the daemon from a validated `Config`: sources, engine, rules and outputs."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
import random
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from rich.console import Console

from hrv import StreamEngine
from ingest.ble_backend import BleakBackend, Target
from ingest.ble_link import LinkChange, StrapLink
from recommender import RuleStateError
from simulators import VirtualStrap, load_scenario
from vagus.baseline_store import BaselineFileError, BaselineStore
from vagus.biofeedback_store import pace_resonance
from vagus.config import BleDevice, Config
from vagus.console import ConsoleOutput
from vagus.daemon import (
    Daemon,
    FilesOutput,
    Inbox,
    InfluxOutput,
    MqttOutput,
    Output,
    SourceFactory,
    link_status,
    play_virtual_strap,
    receive_mqtt_beats,
    run_strap_link,
)
from vagus.errors import UserError
from vagus.influx import InfluxWriter
from vagus.mqtt import MqttPublisher, TriggerJournal
from vagus.nats import NatsSettings
from vagus.pipeline import Pipeline
from vagus.privacy import MAPPING_FILE, Pseudonyms, read_key
from vagus.private_files import private_dir
from vagus.session import SessionWriter
from vagus.web import WebOutput

log = logging.getLogger(__name__)


DeviceAlias = Callable[[str], str]
"""What a device id becomes where it enters the daemon: itself, or its pseudonym."""


def _same(device: str) -> str:
    return device


def simulated_sources(
    config: Config, *, start_t_s: float, alias: DeviceAlias = _same
) -> dict[str, SourceFactory]:
    """One virtual strap per simulated device, named ``<scenario device>-<n>`` (or its
    ``alias``)."""
    sim = config.sources.simulated
    if sim is None:
        return {}
    scenario = load_scenario(sim.scenario)
    seed = scenario.seed if sim.seed is None else sim.seed
    sources: dict[str, SourceFactory] = {}
    for i in range(sim.devices):
        name = scenario.device.name if sim.devices == 1 else f"{scenario.device.name}-{i + 1}"
        device = alias(name)
        strap = VirtualStrap.from_scenario(
            scenario, start_t_s=start_t_s, speed=sim.speed, seed=seed + i, device=device
        )
        sources[device] = functools.partial(play_virtual_strap, strap)
    return sources


INTAKE_STOP_TIMEOUT_S = 1.0
"""How long the MQTT intake waits at shutdown for its last messages' acks (within the
supervisor's `SOURCE_STOP_TIMEOUT_S`); unacked messages stay with the broker."""

ANY_STRAP_RESCAN_S = 5.0
"""Pause between scans while waiting for "any heart-rate strap" to show up."""


async def nearest_strap(
    backend: BleakBackend, stopping: asyncio.Event, *, alias: DeviceAlias = _same
) -> Target | None:
    """The strongest heart-rate strap in range (scanning until one appears), or None if stopped.

    Its address is logged as ``alias`` gives it (a pseudonym when pseudonymising)."""
    while not stopping.is_set():
        found = await backend.discover(ANY_STRAP_RESCAN_S)
        if found:
            shown = alias(found[0].address.upper())
            log.info("connecting to the nearest heart-rate strap %s", shown)
            return Target(address=found[0].address.upper())
    return None


def _ble_source(
    spec: BleDevice, backend: BleakBackend, alias: DeviceAlias = _same
) -> tuple[str, SourceFactory]:
    fixed = (
        Target(address=spec.address.upper())
        if spec.address
        else Target(name=spec.name)
        if spec.name
        else None
    )
    device = alias(spec.label or (fixed.label if fixed else "strap"))

    async def run(inbox: Inbox, stopping: asyncio.Event) -> None:
        target = fixed or await nearest_strap(backend, stopping, alias=alias)
        if target is None:
            return
        to_status = link_status(device)

        def on_change(change: LinkChange) -> None:
            with contextlib.suppress(asyncio.QueueFull):  # status is advisory; beats wait instead
                inbox.put_nowait(to_status(change))

        link = StrapLink(target, backend, on_change=on_change)
        await run_strap_link(link, device, inbox, stopping)

    return device, run


def build_daemon(
    config: Config,
    *,
    console: Console | None,
    title: str,
    environ: Mapping[str, str],
    start_t_s: float | None = None,
) -> Daemon:
    """The daemon the config describes (nothing runs until `Daemon.run`)."""
    start_t_s = time.time() if start_t_s is None else start_t_s
    alias = device_alias(config)
    clock = _clock(config, start_t_s)
    sources = simulated_sources(config, start_t_s=start_t_s, alias=alias)
    if config.sources.ble:
        backend = BleakBackend()
        sources.update(_ble_source(spec, backend, alias) for spec in config.sources.ble)
    outputs: list[Output] = []
    if console is not None and config.console.enabled:
        outputs.append(ConsoleOutput(console, title=title))
    state_dir = config.state_dir
    if config.mqtt is not None:
        mqtt = config.mqtt
        password = mqtt.resolve_password(environ)
        if mqtt.insecure_login:
            log.warning(
                "mqtt: the password for %s:%d is sent in clear text (no TLS; "
                "allow_insecure_login = true)",
                mqtt.host,
                mqtt.port,
            )
        journal = TriggerJournal(
            _ensure(state_dir) / "mqtt-journal.jsonl", max_pending=mqtt.max_pending
        )
        publisher = MqttPublisher(mqtt, journal, environ=environ, rng=random.Random())
        outputs.append(MqttOutput(publisher))
        if config.sources.mqtt_beats.enabled:
            secret = None if password is None else password.get_secret_value()
            sources["mqtt-beats"] = functools.partial(
                receive_mqtt_beats,
                mqtt,
                secret,
                stop_timeout_s=INTAKE_STOP_TIMEOUT_S,
                alias=None if alias is _same else alias,
                now=clock,
            )
    if config.influx is not None:
        outputs.append(InfluxOutput(InfluxWriter(config.influx), clock=clock))
    if config.files.dir is not None:
        outputs.append(FilesOutput(SessionWriter(config.files.dir), clock=clock))
    engine = StreamEngine(window_s=config.engine.window_s, step_s=config.engine.step_s)
    pipeline = Pipeline(engine=engine, rules=config.recommender, local_time=local_time_of)
    state = BaselineStore(state_dir / "baselines.json")
    try:
        pipeline.restore(state.load_pipeline(), state.load())
    except RuleStateError as exc:
        raise BaselineFileError(state.path, f"rule state at {exc.where}: {exc.reason}") from exc
    pace_resonance(pipeline.evaluator, state_dir)
    if config.sources.nats is not None:
        sources["nats"] = _nats_source(config.sources.nats, environ, alias, pipeline)
    web = None
    if config.web is not None:  # last: it binds its port, and nothing after it can fail
        web = WebOutput(
            config.web, step_s=config.engine.step_s, clock=clock, report_dir=config.files.dir
        )
        outputs.append(web)
    daemon = Daemon(
        sources=sources,
        pipeline=pipeline,
        outputs=outputs,
        state=state,
        clock=clock,
    )
    if web is not None:
        web.attach(daemon.inbox)  # feedback from the page takes the sources' way in
    return daemon


def _nats_source(
    settings: NatsSettings, environ: Mapping[str, str], alias: DeviceAlias, pipeline: Pipeline
) -> SourceFactory:
    """The NATS JetStream intake of ``[sources.nats]``, checkpointing ``pipeline``'s state."""
    try:  # nats-py is the optional extra vagus[nats]: a home Pi does not need it
        from vagus.daemon._nats_intake import receive_nats_beats
    except ImportError as exc:
        raise UserError("[sources.nats] needs nats-py: pip install 'vagus[nats]'") from exc
    password = settings.resolve_password(environ)
    if password is not None and not settings.uses_tls:
        log.warning(
            "nats: the password for %s is sent in clear text (no TLS; allow_insecure_login = true)",
            settings.url,
        )
    return functools.partial(
        receive_nats_beats,
        settings,
        None if password is None else password.get_secret_value(),
        snapshot=lambda: (pipeline.engine.baselines(), pipeline.snapshot()),
        restore=pipeline.restore,
        stop_timeout_s=INTAKE_STOP_TIMEOUT_S,
        alias=None if alias is _same else alias,
    )


def device_alias(config: Config) -> DeviceAlias:
    """Device ids as they enter: pseudonyms with ``[privacy] pseudonymise``, else themselves."""
    privacy = config.privacy
    if not privacy.pseudonymise or privacy.salt_file is None:
        return _same
    log.info("device ids are pseudonymised (mapping in %s)", config.state_dir / MAPPING_FILE)
    return Pseudonyms(read_key(privacy.salt_file), config.state_dir)


def local_time_of(t_s: float) -> dt.time:
    """The local wall-clock time of an epoch timestamp (for quiet hours)."""
    return dt.datetime.fromtimestamp(t_s).time()


def _clock(config: Config, start_t_s: float) -> Callable[[], float]:
    """The daemon's ``now``: wall time, or the simulated time of sped-up virtual straps
    (their beats are stamped ``start_t_s`` + scenario time, ahead of the wall clock)."""
    sim = config.sources.simulated
    speed = None if sim is None else sim.speed or load_scenario(sim.scenario).speed
    if speed is None or speed == 1.0:
        return time.time
    origin = time.monotonic()
    return lambda: start_t_s + (time.monotonic() - origin) * speed


def _ensure(directory: Path) -> Path:
    return private_dir(directory)
