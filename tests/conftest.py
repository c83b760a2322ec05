"""Session-wide fixtures: the real servers of `tests.servers`, started once, stopped at the end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from bleak.backends.bluezdbus import manager as bluez_manager

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


@pytest.fixture
async def bleak_bus(system_bus: SystemBus, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    """bleak's BlueZ backend pointed at the private bus for this test's loop; returns its address.

    bleak keeps one BlueZ manager (and its bus connection) per event loop,
    made on first use and reading ``DBUS_SYSTEM_BUS_ADDRESS`` then: the
    variable is set before the test body, and the manager's connection is
    closed after it (bleak would only release it when a later loop asks, so
    the last test's socket would leak into interpreter exit).
    """
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", system_bus.address)
    loop = asyncio.get_running_loop()
    assert loop not in bluez_manager._global_instances
    yield system_bus.address
    manager = bluez_manager._global_instances.pop(loop, None)
    bus = None if manager is None else manager._bus
    if bus is not None:
        bus.disconnect()
        await bus.wait_for_disconnect()  # type: ignore[no-untyped-call]
