"""A nats-server for the NATS tests: JetStream, MQTT listener, the partition mapping of each
test's topic prefix."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ingest.nats_subjects import partition_mapping
from tests.nats.support import PARTITIONS
from tests.servers import NatsServer, require_binary

PREFIXES = ("eq", "kill", "unit")
"""Topic prefixes the tests publish under (one stream each: streams may not overlap)."""


@pytest.fixture(scope="module")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    """nats-server 2.9 partitioning ``<prefix>/<device>/beats`` of every test prefix."""
    server = NatsServer(
        tmp_path_factory.mktemp("nats"),
        require_binary("nats-server"),
        mappings=dict(partition_mapping(prefix, PARTITIONS) for prefix in PREFIXES),
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()
