"""``vagus nats-mapping``: the nats-server ``mappings`` block that partitions the beats topics.

Paste it into the server's config (``deploy/nats/nats-server.conf`` holds the one for
prefix ``vagus`` and 16 partitions); the workers' ``[sources.nats]`` must then say the
same ``prefix`` and ``partition_count``.
"""

from __future__ import annotations

import argparse

from ingest.nats_subjects import partition_mapping
from vagus.errors import UserError

NAME = "nats-mapping"
HELP = "print the nats-server subject mapping that spreads <prefix>/<device>/beats over partitions"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--prefix", default="vagus", help="MQTT topic prefix (default: vagus)")
    parser.add_argument(
        "--partitions", type=int, default=16, help="number of partitions (default: 16)"
    )


def run(args: argparse.Namespace) -> int:
    try:
        source, destination = partition_mapping(args.prefix, args.partitions)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    print(f'mappings = {{\n  "{source}": "{destination}"\n}}')
    return 0
