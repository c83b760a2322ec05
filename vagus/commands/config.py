"""``vagus config check FILE`` and ``vagus config example``."""

from __future__ import annotations

import argparse
from importlib import resources
from pathlib import Path

from vagus.config import load_config

NAME = "config"
HELP = "check a config file, or print a commented example"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = sub.add_parser("check", help="validate FILE: one line per problem, exit 2")
    check.add_argument("file", type=Path)
    sub.add_parser("example", help="print a commented example config")


def example_text() -> str:
    """The commented example config shipped with the package."""
    return (resources.files("vagus") / "config_example.toml").read_text(encoding="utf-8")


def run(args: argparse.Namespace) -> int:
    if args.action == "example":
        print(example_text(), end="")
        return 0
    config = load_config(args.file)
    pseudonyms = "on" if config.privacy.pseudonymise else "off"
    print(
        f"{args.file}: ok ({len(config.recommender.rules)} rules, state in {config.state_dir}, "
        f"pseudonymised device ids: {pseudonyms})"
    )
    return 0
