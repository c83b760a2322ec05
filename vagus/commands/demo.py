"""``vagus demo``: a simulated session through the real engine and rules, in about a minute."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
from typing import Any

from vagus.config import (
    Config,
    default_config_path,
    load_config,
    parse_config,
    with_web_listen,
)
from vagus.console import make_console
from vagus.logs import setup_logging

NAME = "demo"
HELP = "play a simulated session (calm, stress, breathing) through the engine and rules"

DEFAULT_BROKER = ("localhost", 1883)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", default="demo", help="scenario name or TOML file")
    parser.add_argument("--devices", type=int, default=1, help="virtual straps (default 1)")
    parser.add_argument(
        "--speed", type=float, default=None, help="times real time (default: the scenario's)"
    )
    parser.add_argument(
        "--offline", action="store_true", help="use no MQTT broker or InfluxDB even if present"
    )
    parser.add_argument(
        "--web",
        metavar="HOST:PORT",
        default=None,
        help="serve the live page there (e.g. 127.0.0.1:8765)",
    )


def _reachable(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.3):
        return True
    return False


def demo_config(args: argparse.Namespace, user: Config) -> tuple[Config, list[str]]:
    """The demo's config and what it says about the servers it uses.

    Servers come from the user's config file when it has them; otherwise an
    MQTT broker answering on localhost:1883 is used. The demo keeps its
    state (baselines, queues) apart from the daemon's, under ``demo/``.
    """
    data: dict[str, Any] = {
        "state_dir": str(user.state_dir / "demo"),
        "sources": {
            "simulated": {"scenario": args.scenario, "devices": args.devices, "speed": args.speed}
        },
    }
    notes: list[str] = []
    mqtt = None if args.offline else user.mqtt
    if mqtt is not None:
        notes.append(f"publishing to the configured MQTT broker {mqtt.host}:{mqtt.port}")
    elif not args.offline and _reachable(*DEFAULT_BROKER):
        data["mqtt"] = {
            "host": DEFAULT_BROKER[0],
            "port": DEFAULT_BROKER[1],
            "client_id": "vagus-demo",
        }
        notes.append("publishing to the MQTT broker found on localhost:1883 (topics vagus/#)")
    influx = None if args.offline else user.influx
    if influx is not None:
        notes.append(f"writing to the configured InfluxDB {influx.url}")
    if not notes:
        notes.append("no MQTT broker or InfluxDB in use: console only")
    config = parse_config(data, source="demo")
    updates = {k: v for k, v in (("mqtt", mqtt), ("influx", influx)) if v is not None}
    config = config.model_copy(update=updates)
    if args.web is not None:  # the user's [web] token_file applies to the demo's page too
        config = with_web_listen(config.model_copy(update={"web": user.web}), args.web)
        notes.append(f"live page on http://{args.web}/")
    return config, notes


def run(args: argparse.Namespace) -> int:
    user = load_config(None) if default_config_path().exists() else Config()
    config, notes = demo_config(args, user)
    setup_logging("warning")
    from vagus.app import build_daemon  # heavy: imported when the command runs
    from vagus.runner import print_summary, run_until_signalled

    console = make_console()
    for note in notes:
        console.print(f"[dim]{note}[/]")
    daemon = build_daemon(config, console=console, title="vagus demo", environ=os.environ)
    summary = asyncio.run(run_until_signalled(daemon))
    print_summary(console, summary)
    return 0
