"""``vagus scan``: list nearby devices advertising the Heart Rate service (0x180D)."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from ingest import BluetoothUnavailableError, FoundDevice, scan
from vagus.errors import UserError

NAME = "scan"
HELP = "List nearby heart-rate devices (name, address, signal strength)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--timeout S."""
    parser.add_argument(
        "--timeout",
        type=float,
        default=5.0,
        metavar="S",
        help="seconds to listen for advertisements (default 5)",
    )


def device_table(devices: Sequence[FoundDevice]) -> Table:
    """The devices as a table, strongest signal first."""
    table = Table("name", "address", "RSSI (dBm)", title="Heart-rate devices (0x180D)")
    for device in devices:
        table.add_row(device.name or "(no name)", device.address, str(device.rssi_dbm))
    return table


def run(args: argparse.Namespace) -> int:
    """Scan for ``--timeout`` seconds and print what advertised 0x180D."""
    if not args.timeout > 0:
        raise UserError(f"--timeout {args.timeout}: must be a positive number of seconds")
    try:
        devices = asyncio.run(scan(args.timeout))
    except BluetoothUnavailableError as exc:
        raise UserError(str(exc)) from exc
    console = Console()
    if not devices:
        console.print(f"No heart-rate device advertised within {args.timeout:g} s.")
        return 0
    console.print(device_table(devices))
    return 0
