"""``vagus resonance``: find a person's resonance breathing rate, live or from a recording.

Live, a pacer in the terminal walks the schedule (each step: ``--settle``
seconds of settling, then the step's seconds) while a strap records; from a
recording, the beats are taken to start with the first step and the first
``--settle`` seconds of each step are left out (``--start`` says when the
first rate began, if not with the first beat's interval: the pacer's phase
matters to the synchrony figure). Either way every rate is
scored (`vagus.biofeedback.assess`), a table is printed and the last line
is ``resonance: X.X breaths/min`` (or ``resonance: none (...)``, exit 1,
when most rates were not followed). Live results, and recorded ones given
``--person``, are stored for that person in the state dir.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ingest import RecordingError, read_recording
from vagus.app import device_alias
from vagus.biofeedback import Assessment, assess, parse_schedule, schedule_pacers
from vagus.biofeedback_store import BiofeedbackStore, check_person
from vagus.commands._live_strap import (
    Beats,
    PacerScreen,
    open_strap,
    pacer_line,
    run_paced,
    run_session,
)
from vagus.config import Config, default_config_path, load_config
from vagus.console import make_console
from vagus.errors import UserError
from vagus.logs import setup_logging

NAME = "resonance"
HELP = "Find a person's resonance breathing rate: paced rates scored, one chosen and stored."

DEFAULT_SCHEDULE = "6.5:120,6.0:120,5.5:120,5.0:120,4.5:120"
LIVE_SETTLE_S = 30.0
RECORDING_SETTLE_S = 15.0
UPDATE_S = 5.0
MAX_SETTLE_S = 600.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--recording FILE | --device D, --schedule, --settle, --person, --speed, --config."""
    parser.add_argument("--recording", type=Path, metavar="FILE", help="a recorded protocol")
    parser.add_argument(
        "--device",
        default="sim:resonance_assessment",
        metavar="D",
        help="live: a strap's address or name, or sim[:SCENARIO] for a virtual strap "
        "(default sim:resonance_assessment)",
    )
    parser.add_argument(
        "--schedule",
        default=DEFAULT_SCHEDULE,
        metavar="RATE:SECONDS,...",
        help=f"breaths/min and seconds per step (default {DEFAULT_SCHEDULE})",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=None,
        metavar="S",
        help=f"seconds of settling per step, not scored (default {LIVE_SETTLE_S:g} live, "
        f"before each step; {RECORDING_SETTLE_S:g} with --recording, within each step)",
    )
    parser.add_argument(
        "--start",
        type=float,
        default=None,
        metavar="S",
        help="with --recording: when the first rate began, in the recording's seconds "
        "(default: the start of the first beat's interval)",
    )
    parser.add_argument("--person", help="whose rate it is (default: the device)")
    parser.add_argument("--speed", type=float, default=None, help="virtual strap: x real time")
    parser.add_argument("--config", type=Path, metavar="FILE", help="config file (state_dir)")


def table(assessment: Assessment) -> list[str]:
    """The per-rate table and the choice, as printed lines (the last is ``resonance: ...``)."""
    lines = [
        f"{'rate':>5} {'HR':>5} {'LF peak':>9} {'at':>5} {'RSA':>5} {'sync':>5} "
        f"{'phase':>6} {'peaks':>5} {'score':>5}  followed",
        f"{'/min':>5} {'bpm':>5} {'ms²':>9} {'/min':>5} {'bpm':>5} {'r':>5} {'°':>6} "
        f"{'':>5} {'':>5}",
    ]
    for r in assessment.rates:
        followed = "yes" if r.followed else f"NOT FOLLOWED: {r.note}"
        lines.append(
            f"{r.rate_bpm:>5.1f} {r.hr_bpm:>5.1f} {r.lf_peak_ms2:>9.0f} "
            f"{r.lf_peak_hz * 60:>5.1f} {r.rsa_bpm:>5.1f} {r.synchrony:>5.2f} "
            f"{r.phase_deg:>6.0f} {r.lf_peaks:>5d} {r.score:>5.2f}  {followed}"
        )
    if assessment.resonance_bpm is None:
        lines.append("resonance: none (most rates were not followed; breathe with the pacer)")
    else:
        agree = ", ".join(assessment.agreeing)
        lines.append(f"confidence: {assessment.confidence:.2f} ({agree} agree)")
        lines.append(f"resonance: {assessment.resonance_bpm:.1f} breaths/min")
    return lines


def _config(path: Path | None) -> Config:
    if path is not None:
        return load_config(path)
    return load_config(None) if default_config_path().exists() else Config()


def _live(
    args: argparse.Namespace, schedule: tuple[tuple[float, float], ...], config: Config
) -> tuple[Assessment, str]:
    """Run the protocol with a pacer on screen; the assessment of what the strap recorded."""
    settle = LIVE_SETTLE_S if args.settle is None else args.settle
    steps = tuple((rate, settle + seconds) for rate, seconds in schedule)
    strap = open_strap(
        args.device,
        speed=args.speed,
        default_scenario="resonance_assessment",
        alias=device_alias(config),
    )
    pacers = schedule_pacers(steps, start_s=strap.start_t_s)
    end_s = pacers[-1][1]
    console = make_console()
    console.print(
        f"{strap.device}: resonance protocol, {len(steps)} rates, "
        f"{(end_s - strap.start_t_s) / 60:.1f} min; breathe with the bar",
        markup=False,
    )

    def line(now: float) -> str:
        index = next((i for i, (_, end) in enumerate(pacers) if now < end), len(pacers) - 1)
        pacer, step_end = pacers[index]
        settling = now < pacer.start_s + settle
        label = f"{pacer.rate_bpm:.1f}/min{' settle' if settling else '':<7}"
        return pacer_line(label, pacer.state(now), step_end - now)

    async def session() -> Beats:
        with PacerScreen(console) as screen:
            return await run_paced(
                strap,
                end_s=end_s,
                update_s=UPDATE_S,
                on_update=lambda now, beats: screen.update(
                    line(now), f"{len(beats.batch())} beats"
                ),
                on_tick=lambda now, _: screen.tick(line(now)),
            )

    beats = run_session(session())
    return assess(beats.batch(), steps, start_s=strap.start_t_s, settle_s=settle), strap.device


def run(args: argparse.Namespace) -> int:
    """Assess, print the table, store the rate; exit 1 when no rate could be chosen."""
    try:
        schedule = parse_schedule(args.schedule)
    except ValueError as exc:
        raise UserError(f"--schedule: {exc}") from exc
    if args.settle is not None:
        limit = min(s for _, s in schedule) if args.recording is not None else MAX_SETTLE_S
        if not 0 <= args.settle < limit:
            raise UserError(
                f"--settle {args.settle}: must be >= 0 and below {limit:g} s "
                f"({'shorter than every recorded step' if args.recording else 'live'})"
            )
    person = None if args.person is None else check_person(args.person)
    config: Config | None = None
    if args.recording is not None:
        try:
            beats = read_recording(args.recording)
        except RecordingError as exc:
            raise UserError(str(exc)) from exc
        first = float(beats.t_s[0] - beats.rr_ms[0] / 1000.0)
        start_s = first if args.start is None else args.start
        settle = RECORDING_SETTLE_S if args.settle is None else args.settle
        assessment = assess(beats, schedule, start_s=start_s, settle_s=settle)
        device = beats.device
    else:
        setup_logging("warning")
        config = _config(args.config)
        assessment, device = _live(args, schedule, config)
        person = person or check_person(device)
    if assessment.resonance_bpm is not None and person is not None:
        path = BiofeedbackStore((config or _config(args.config)).state_dir).save_resonance(
            person,
            rate_bpm=assessment.resonance_bpm,
            confidence=assessment.confidence,
            t_s=time.time(),
        )
        print(f"stored for {person} in {path}", flush=True)
    for text in table(assessment):
        print(text, flush=True)
    return 0 if assessment.resonance_bpm is not None else 1
