"""``[sources.nats]``: partitions by range or by worker, checked once with the config."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from vagus.commands.config import example_text
from vagus.config import ConfigError, parse_config
from vagus.nats import parse_partitions, worker_partitions


def test_ranges_and_single_partitions() -> None:
    """``"0-3,8"`` is partitions 0 to 3 and 8, sorted, each once."""
    assert parse_partitions("0-3,8", 16) == (0, 1, 2, 3, 8)
    assert parse_partitions(" 8 , 2-3, 3", 16) == (2, 3, 8)
    assert parse_partitions("0-15", 16) == tuple(range(16))


@pytest.mark.parametrize("spec", ["", "3-1", "0-16", "a", "1-2-3", "-1"])
def test_bad_ranges(spec: str) -> None:
    """Empty, descending, out-of-range or malformed ranges are refused."""
    with pytest.raises(ValueError, match="must"):
        parse_partitions(spec, 16)


@pytest.mark.parametrize(("count", "workers"), [(16, 1), (16, 3), (16, 4), (16, 16), (7, 5)])
def test_workers_cover_every_partition_once(count: int, workers: int) -> None:
    """W workers own disjoint, contiguous blocks that together are every partition."""
    blocks = [worker_partitions(f"{i} of {workers}", count) for i in range(1, workers + 1)]
    assert sorted(p for block in blocks for p in block) == list(range(count))
    assert all(block == tuple(range(block[0], block[-1] + 1)) for block in blocks)
    assert max(map(len, blocks)) - min(map(len, blocks)) <= 1
    assert worker_partitions("2 of 4", 16) == (4, 5, 6, 7)


@pytest.mark.parametrize("spec", ["0 of 4", "5 of 4", "1 of 17", "2/4", "of 4"])
def test_bad_workers(spec: str) -> None:
    """``i of W`` needs 1 <= i <= W <= partition_count."""
    with pytest.raises(ValueError, match=r"must|needs"):
        worker_partitions(spec, 16)


def test_config_takes_the_section(tmp_path: Path) -> None:
    """A valid section gives the worker its partitions."""
    config = parse_config(
        {"state_dir": str(tmp_path), "sources": {"nats": {"worker": "2 of 4"}}}, environ={}
    )
    assert config.sources.nats is not None
    assert config.sources.nats.owned() == (4, 5, 6, 7)


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ({}, "sources.nats.partitions = None: give exactly one of partitions or worker"),
        ({"worker": "1 of 2", "partitions": "0-3"}, "give exactly one of partitions or worker"),
        ({"partitions": "0-16"}, "sources.nats.partitions = '0-16': each range must be"),
        ({"worker": "3 of 2"}, "sources.nats.worker = '3 of 2': needs 1 <= i <= W"),
        ({"worker": "1 of 1", "url": "http://x"}, "sources.nats.url = 'http://x': "),
        ({"worker": "1 of 1", "stream": "a.b"}, "sources.nats.stream = 'a.b'"),
    ],
)
def test_config_errors_name_the_key(tmp_path: Path, section: dict[str, str], expected: str) -> None:
    """Each problem is one line naming the key and the value."""
    with pytest.raises(ConfigError) as caught:
        parse_config({"state_dir": str(tmp_path), "sources": {"nats": section}}, environ={})
    assert any(expected in problem for problem in caught.value.problems), caught.value.problems


def test_password_needs_tls_and_is_never_shown(tmp_path: Path) -> None:
    """A password over plain nats:// is refused, and no error line shows the password."""
    section = {"worker": "1 of 1", "username": "w1", "password": "hunter2-secret"}
    with pytest.raises(ConfigError) as caught:
        parse_config({"state_dir": str(tmp_path), "sources": {"nats": section}}, environ={})
    assert "clear text" in str(caught.value)
    assert "hunter2" not in str(caught.value)
    tls = {**section, "url": "tls://nats.example:4222"}
    config = parse_config({"state_dir": str(tmp_path), "sources": {"nats": tls}}, environ={})
    assert config.sources.nats is not None
    assert "hunter2" not in repr(config)


def test_password_env_must_be_set(tmp_path: Path) -> None:
    """A named password variable that is not set is an error at start, naming the key."""
    section = {"worker": "1 of 1", "url": "tls://n:4222", "username": "w", "password_env": "NP"}
    with pytest.raises(ConfigError) as caught:
        parse_config({"state_dir": str(tmp_path), "sources": {"nats": section}}, environ={})
    assert "sources.nats.password_env = 'NP': variable is not set" in str(caught.value)
    config = parse_config(
        {"state_dir": str(tmp_path), "sources": {"nats": section}}, environ={"NP": "s3cret"}
    )
    assert config.sources.nats is not None
    assert config.sources.nats.resolve_password({"NP": "s3cret"}) is not None


def test_example_section_uncommented_is_valid(tmp_path: Path) -> None:
    """The commented [sources.nats] of `vagus config example`, uncommented, is accepted."""
    text = example_text()
    start = text.index("# [sources.nats]")
    lines = []
    for line in text[start:].splitlines():
        if not line.startswith("# ") or line.startswith("# ---"):
            break
        lines.append(line[2:])
    section = tomllib.loads("\n".join(lines))["sources"]["nats"]
    assert section["worker"] == "1 of 4"
    config = parse_config(
        {"state_dir": str(tmp_path), "sources": {"nats": {**section, "url": "tls://n:4222"}}},
        environ={"VAGUS_NATS_PASSWORD": "x"},
    )
    assert config.sources.nats is not None
    assert config.sources.nats.owned() == (0, 1, 2, 3)
