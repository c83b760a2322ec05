"""Session-wide fixtures: the real servers of `tests.servers`, started once, stopped at the end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from tests.servers import InfluxDB1, Mosquitto, Server, SystemBus, VictoriaMetrics, require_binary

DATA_DIR = Path(__file__).parent / "data"
S = TypeVar("S", bound=Server)


def _serve(server: S) -> Iterator[S]:
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    """Mosquitto: anonymous on ``.port``, TLS + password on ``.tls_port`` (CA in ``.ca_file``)."""
    server = Mosquitto(tmp_path_factory.mktemp("mosquitto"), require_binary("mosquitto"))
    yield from _serve(server)


@pytest.fixture(scope="session")
def victoria_metrics(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VictoriaMetrics]:
    """VictoriaMetrics, the InfluxDB v2 write-API server of the tests."""
    server = VictoriaMetrics(
        tmp_path_factory.mktemp("victoria"), require_binary("victoria-metrics")
    )
    yield from _serve(server)


@pytest.fixture(scope="session")
def influxdb1(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfluxDB1]:
    """InfluxDB 1.x with an empty database ``vagus``, for InfluxQL."""
    server = InfluxDB1(tmp_path_factory.mktemp("influxdb1"), require_binary("influxd"))
    yield from _serve(server)


@pytest.fixture(scope="session")
def system_bus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SystemBus]:
    """A private D-Bus system bus; point ``DBUS_SYSTEM_BUS_ADDRESS`` at ``.address``."""
    server = SystemBus(tmp_path_factory.mktemp("dbus"), require_binary("dbus-daemon"))
    yield from _serve(server)


@pytest.fixture
def data_dir() -> Path:
    """Folder of the real recordings copied into the project (see tests/data/README.md)."""
    return DATA_DIR
