"""``vagus run``: the daemon, with the sources and outputs of the config file."""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path

from vagus.config import default_config_path, load_config, with_web_listen
from vagus.console import make_console
from vagus.errors import UserError
from vagus.logs import setup_logging

NAME = "run"
HELP = "run the daemon (straps, simulated devices or MQTT beats -> HRV -> suggestions)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help=f"config file (default: {default_config_path()}; see `vagus config example`)",
    )
    parser.add_argument(
        "--web",
        metavar="HOST:PORT",
        default=None,
        help="serve the live page there (e.g. 127.0.0.1:8765; overrides [web] listen)",
    )


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if args.web is not None:
        config = with_web_listen(config, args.web)
    setup_logging(config.log.level)
    sources = config.sources
    if not (sources.ble or sources.simulated or sources.mqtt_beats.enabled or sources.nats):
        raise UserError(
            "no sources configured: add [[sources.ble]], [sources.simulated], "
            "[sources.mqtt_beats] or [sources.nats] to the config (see `vagus config example`)"
        )
    if sources.mqtt_beats.enabled and config.mqtt is None:
        raise UserError("sources.mqtt_beats needs an [mqtt] section (the broker to listen on)")
    from vagus.app import build_daemon  # heavy: imported when the command runs
    from vagus.runner import print_summary, run_until_signalled

    console = make_console()
    daemon = build_daemon(config, console=console, title="vagus", environ=os.environ)
    summary = asyncio.run(run_until_signalled(daemon))
    print_summary(console, summary)
    return 0
