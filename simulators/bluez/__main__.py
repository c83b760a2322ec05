"""``python -m simulators.bluez --bus ADDRESS [--straps N] [--scenario NAME] [--speed X] [--hold]``.

Hosts N virtual straps playing a scenario on a fake BlueZ at the given
D-Bus address, prints one ``ADDRESS NAME`` line per strap once ``org.bluez``
is served, and exits when the scenario has played (with ``--hold``, only on
SIGINT/SIGTERM).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from simulators.bluez._runner import run_straps, scenario_straps
from simulators.bluez._service import FakeBluez
from simulators.errors import ScenarioError
from simulators.scenario import load_scenario


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m simulators.bluez", description=__doc__)
    parser.add_argument("--bus", required=True, help="D-Bus address, e.g. unix:path=/tmp/bus")
    parser.add_argument("--straps", type=int, default=1, help="number of straps (default 1)")
    parser.add_argument("--scenario", default="demo", help="scenario name or TOML path")
    parser.add_argument("--speed", type=float, default=None, help="x real time (default: scenario)")
    parser.add_argument(
        "--hold", action="store_true", help="keep serving after the scenario until SIGINT/SIGTERM"
    )
    return parser


def _print_straps(bluez: FakeBluez) -> None:
    for peripheral in bluez.peripherals:
        print(peripheral.address, peripheral.name, flush=True)


async def _main(args: argparse.Namespace) -> None:
    scenario = load_scenario(args.scenario)
    straps = scenario_straps(scenario, count=args.straps, speed=args.speed)
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, task.cancel)
    await run_straps(args.bus, straps, on_ready=_print_straps, hold=args.hold)


def main(argv: list[str] | None = None) -> int:
    """Run the strap host; 2 on a bad argument or scenario, 0 when played or stopped."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.straps < 1 or (args.speed is not None and not args.speed > 0):
        parser.error("--straps must be >= 1 and --speed > 0")
    try:
        asyncio.run(_main(args))
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except asyncio.CancelledError:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
