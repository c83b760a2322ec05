"""InfluxSender's HTTP edge against real servers: stored, refused, unreachable, silent."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import InfluxDB1, VictoriaMetrics, free_port
from vagus.influx import InfluxSender, InfluxSettings, WriteError

pytestmark = pytest.mark.integration


def sender(url: str, tmp_path: Path, timeout_s: float = 5.0) -> InfluxSender:
    """A sender for ``url``, bucket ``vagus``."""
    return InfluxSender(
        InfluxSettings(url=url, bucket="vagus", spool_dir=tmp_path, timeout_s=timeout_s)
    )


def test_stored_point_is_acknowledged(victoria_metrics: VictoriaMetrics, tmp_path: Path) -> None:
    """A write the server accepts returns, and the point is there."""
    t_ns = int(time.time() - 60) * 10**9
    sender(victoria_metrics.url, tmp_path).send([f"probe,device=sender-ok v=1.5 {t_ns}"])
    (row,) = victoria_metrics.export('{__name__="probe_v",device="sender-ok"}')
    assert row["values"] == [1.5]


def test_wrong_endpoint_carries_the_status(influxdb1: InfluxDB1, tmp_path: Path) -> None:
    """InfluxDB 1.6 has no /api/v2/write: its 404 is a WriteError with that status, retryable
    (a configuration mistake: the points wait in the spool until it is fixed)."""
    with pytest.raises(WriteError) as info:
        sender(influxdb1.url, tmp_path).send(["probe v=1 1"])
    assert info.value.status == 404
    assert info.value.retryable


def test_unreachable_server_is_retryable(tmp_path: Path) -> None:
    """Nothing listening: WriteError without a status, retryable."""
    with pytest.raises(WriteError) as info:
        sender(f"http://127.0.0.1:{free_port()}", tmp_path).send(["probe v=1 1"])
    assert info.value.status is None
    assert info.value.retryable


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield int(server.getsockname()[1])


def test_silent_server_times_out_as_retryable(silent_port: int, tmp_path: Path) -> None:
    """A server that never answers fails the write after timeout_s, retryably."""
    started = time.monotonic()
    with pytest.raises(WriteError) as info:
        sender(f"http://127.0.0.1:{silent_port}", tmp_path, timeout_s=0.5).send(["probe v=1 1"])
    assert info.value.status is None
    assert info.value.retryable
    assert 0.4 < time.monotonic() - started < 3.0
