"""``vagus breathe``: a paced breathing session with live heart-rate feedback.

A pacer in the terminal (inhale / exhale bar, time left) with the heart's
answer every `UPDATE_S` seconds (`vagus.biofeedback.live_figures`: heart
rate, RSA, coherence), for ``--minutes``; then a summary compared with the
person's last sessions, and a re-assessment suggestion when their sessions
show coherence peaking away from their assessed rate. With ``[mqtt]`` in
the config every update and the summary go to ``<prefix>/<device>/session``
(`vagus.mqtt.session`); the beats, windows and updates are saved as a
session directory that ``vagus report`` shows.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
from pathlib import Path

import aiomqtt

from recommender import EXERCISE_IDS, Phase, catalog
from vagus.app import device_alias
from vagus.biofeedback import (
    LiveFigures,
    Pacer,
    SessionRecord,
    compare,
    even_phases,
    live_figures,
    reassessment_advice,
    summarize,
)
from vagus.biofeedback_store import BiofeedbackStore, check_person
from vagus.commands._live_strap import (
    Beats,
    PacerScreen,
    figure,
    open_strap,
    pacer_line,
    run_paced,
    run_session,
)
from vagus.config import Config, default_config_path, directory_problem, load_config
from vagus.console import make_console
from vagus.errors import UserError
from vagus.logs import setup_logging
from vagus.mqtt import MqttSettings
from vagus.mqtt.client import mqtt_client
from vagus.mqtt.session import session_summary, session_update
from vagus.mqtt.topics import Topics
from vagus.session import BreathingWriter, replay_beats, write_session

NAME = "breathe"
HELP = "A paced breathing session with live heart rate, RSA and coherence, then a summary."

log = logging.getLogger(__name__)

UPDATE_S = 5.0
"""Session seconds between updates of the figures (HeartMath updates every 5 s)."""
DEFAULT_RATE_BPM = 60.0 / 11.0
"""Without an assessed rate: 5.5 s in, 5.5 s out (the recommender's default resonance pace)."""
OUTBOX_SIZE = 64
"""Session messages waiting for the broker; when full, updates are dropped (and counted)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--device, --rate | --pattern, --minutes, --person, --speed, --out, --config."""
    parser.add_argument(
        "--device",
        default="sim:resonance_session",
        metavar="D",
        help="a strap's address or name, or sim[:SCENARIO] for a virtual strap "
        "(default sim:resonance_session)",
    )
    pace = parser.add_mutually_exclusive_group()
    pace.add_argument("--rate", type=float, help="breaths/min, equal inhale and exhale")
    pace.add_argument("--pattern", choices=EXERCISE_IDS, help="an exercise's breathing pattern")
    parser.add_argument("--minutes", type=float, default=5.0, help="length (default 5)")
    parser.add_argument("--person", help="whose session it is (default: the device)")
    parser.add_argument("--speed", type=float, default=None, help="virtual strap: x real time")
    parser.add_argument("--out", type=Path, metavar="DIR", help="session directory")
    parser.add_argument("--config", type=Path, metavar="FILE", help="config file")


def _config(path: Path | None) -> Config:
    if path is not None:
        return load_config(path)
    return load_config(None) if default_config_path().exists() else Config()


def _phases(args: argparse.Namespace, assessed: float | None) -> tuple[str, tuple[Phase, ...]]:
    """The pattern's name and the pacer's cycle: --rate, --pattern, the assessed rate, default."""
    if args.rate is not None:
        if not 3.0 <= args.rate <= 12.0:
            raise UserError(f"--rate {args.rate}: must be within 3-12 breaths/min")
        return "resonance", even_phases(args.rate)
    personal = assessed or DEFAULT_RATE_BPM
    if args.pattern is not None:
        return args.pattern, catalog(personal)[args.pattern].phases
    return "resonance", even_phases(personal)


def _out_dir(args: argparse.Namespace, config: Config, device: str) -> Path:
    if args.out is not None:
        out: Path = args.out
    else:
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        name = f"breathe-{device.replace(':', '')}-{stamp}"
        out = (config.files.dir / name) if config.files.dir is not None else Path(f"vagus-{name}")
    if (problem := directory_problem(out)) is not None:
        raise UserError(f"--out {out}: {problem}")
    return out


async def _publish(settings: MqttSettings, topic: str, outbox: asyncio.Queue[bytes | None]) -> None:
    """Send the session's messages until the end marker; a broker problem is logged once."""
    try:
        async with mqtt_client(settings, role="breathe") as client:
            while (payload := await outbox.get()) is not None:
                await client.publish(topic, payload, qos=1)
    except aiomqtt.MqttError as exc:
        log.warning("MQTT %s:%d: session not published (%s)", settings.host, settings.port, exc)
        while await outbox.get() is not None:  # keep taking, so the session never waits
            pass


def run(args: argparse.Namespace) -> int:
    """Run the session, save it, print and publish the summary."""
    if not 0.5 <= args.minutes <= 120:
        raise UserError(f"--minutes {args.minutes}: must be within 0.5-120")
    setup_logging("warning")
    config = _config(args.config)
    strap = open_strap(
        args.device,
        speed=args.speed,
        default_scenario="resonance_session",
        alias=device_alias(config),
    )
    person = check_person(args.person or strap.device)
    store = BiofeedbackStore(config.state_dir)
    assessed = store.resonance_bpm(person)
    history = store.sessions(person)
    pattern, phases = _phases(args, assessed)
    out = _out_dir(args, config, strap.device)
    pacer = Pacer(phases=phases, start_s=strap.start_t_s)
    end_s = strap.start_t_s + args.minutes * 60.0
    topic = None if config.mqtt is None else Topics(prefix=config.mqtt.prefix).session(strap.device)
    console = make_console()
    console.print(
        f"{strap.device}: {pattern} at {pacer.rate_bpm:.1f} breaths/min for "
        f"{args.minutes:g} min" + ("" if assessed is None else f" (assessed {assessed:.1f}/min)"),
        markup=False,
    )
    updates: list[LiveFigures] = []
    dropped = 0
    outbox: asyncio.Queue[bytes | None] = asyncio.Queue(OUTBOX_SIZE)
    writer = BreathingWriter(out)

    def line(now: float) -> str:
        return pacer_line(f"{pacer.rate_bpm:.1f}/min", pacer.state(now), end_s - now)

    def on_update(now: float, beats: Beats, screen: PacerScreen) -> None:
        nonlocal dropped
        batch = beats.batch()
        got = live_figures(strap.device, batch.t_s, batch.rr_ms, pacer=pacer, now_s=now)
        updates.append(got)
        writer.write([got])
        screen.update(
            line(now),
            f"HR {figure(got.hr_bpm, '.0f')} bpm  RSA {figure(got.rsa_bpm, '.1f')} bpm  "
            f"coherence {figure(got.coherence, '.2f')}",
        )
        if topic is not None:
            try:
                outbox.put_nowait(session_update(got, pacer, pattern=pattern, end_s=end_s))
            except asyncio.QueueFull:
                dropped += 1

    async def session() -> tuple[Beats, SessionRecord | None]:
        async with asyncio.TaskGroup() as group:
            if config.mqtt is not None and topic is not None:
                group.create_task(_publish(config.mqtt, topic, outbox), name="session-mqtt")
            try:
                with PacerScreen(console) as screen:
                    beats = await run_paced(
                        strap,
                        end_s=end_s,
                        update_s=UPDATE_S,
                        on_update=lambda now, b: on_update(now, b, screen),
                        on_tick=lambda now, _: screen.tick(line(now)),
                    )
                record = summarize(updates, interval_s=UPDATE_S) if updates else None
                if record is not None and topic is not None:
                    await outbox.put(
                        session_summary(
                            strap.device,
                            record,
                            pattern=pattern,
                            comparison=compare(record, history),
                            reassess=reassessment_advice(assessed, [*history, record]),
                        )
                    )
            finally:
                await outbox.put(None)
        return beats, record

    try:
        beats, record = run_session(session())
    finally:
        writer.close()
    if dropped:
        log.warning("%d session updates not published (broker too slow)", dropped)
    engine = config.engine
    batch = beats.batch()
    if len(batch):
        saved = replay_beats(
            batch, window_s=engine.window_s, step_s=engine.step_s, rules=config.recommender
        )
        write_session(out, [saved])
    if record is None:
        raise UserError(f"{strap.device}: no beats arrived; nothing to summarise")
    store.add_session(person, record)
    print(
        f"summary: {record.minutes:.1f} min at {record.rate_bpm:.1f}/min, "
        f"mean coherence {figure(record.mean_coherence, '.2f')}, "
        f"RSA {figure(record.rsa_bpm, '.1f')} bpm, "
        f"high coherence {record.high_coherence_s:.0f} s",
        flush=True,
    )
    print(compare(record, history), flush=True)
    advice = reassessment_advice(assessed, [*history, record])
    if advice is not None:
        print(f"suggestion: {advice}", flush=True)
    print(f"saved: {out} (vagus report {out})", flush=True)
    return 0
