"""The ``vagus`` command line: parses arguments and dispatches to `vagus.commands`."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence
from types import ModuleType

from vagus import __version__, commands
from vagus.errors import UserError


def _command_modules() -> list[ModuleType]:
    names = sorted(
        m.name for m in pkgutil.iter_modules(commands.__path__) if not m.name.startswith("_")
    )
    return [importlib.import_module(f"{commands.__name__}.{name}") for name in names]


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, one sub-parser per command module."""
    parser = argparse.ArgumentParser(
        prog="vagus",
        description="Heart-rate variability biofeedback: straps -> HRV -> breathing suggestions.",
    )
    parser.add_argument("--version", action="version", version=f"vagus {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _command_modules():
        cmd = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(cmd)
        cmd.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 0
    try:
        return int(args.run(args))
    except UserError as exc:
        for line in str(exc).splitlines():
            print(f"vagus {args.command}: {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
