"""Fixtures of the standing fault suite: a private, persistent Mosquitto per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import Mosquitto, require_binary


def persistent_mosquitto(workdir: Path) -> Mosquitto:
    """A Mosquitto of its own in ``workdir`` that writes its state to disk after every change,
    so retained messages, persistent sessions and their queued QoS 1 messages survive a
    SIGKILL and a restart on the same port."""
    return Mosquitto(
        workdir,
        require_binary("mosquitto"),
        options=(
            "persistence true",  # overrides the "persistence false" before it
            f"persistence_location {workdir}/",
            "autosave_on_changes true",
            "autosave_interval 1",  # with autosave_on_changes: save after every change
            "max_queued_messages 10000",
        ),
    )


@pytest.fixture
def private_mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """A started `persistent_mosquitto` for one test, which may kill and restart it."""
    workdir = tmp_path / "mosquitto"
    workdir.mkdir()
    server = persistent_mosquitto(workdir)
    server.start()
    try:
        yield server
    finally:
        server.stop()
