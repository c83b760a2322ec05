"""Beats subjects on NATS: nats-server's MQTT conversion, the partition mapping, and back."""

from __future__ import annotations

import pytest

from ingest.device_topics import TopicError
from ingest.nats_subjects import (
    device_of_subject,
    partition_mapping,
    partition_subject,
    partitions_head,
    stream_subject,
    subject_prefix,
)


def test_subject_prefix_follows_the_mqtt_listener() -> None:
    """'/' becomes '.', a '.' inside a level '//' (nats-server's MQTT topic conversion)."""
    assert subject_prefix("vagus") == "vagus"
    assert subject_prefix("site-1/vagus") == "site-1.vagus"
    assert subject_prefix("a.b/c") == "a//b.c"


def test_partition_mapping_is_the_server_config_line() -> None:
    """The mapping hashes the device level (wildcard 1) into P partitions."""
    assert partition_mapping("vagus", 16) == (
        "vagus.*.beats",
        "vagus.beats.{{partition(16,1)}}.{{wildcard(1)}}",
    )
    assert partition_mapping("site/v", 4)[1] == "site.v.beats.{{partition(4,1)}}.{{wildcard(1)}}"
    with pytest.raises(ValueError, match="at least 1"):
        partition_mapping("vagus", 0)


def test_stream_and_partition_subjects() -> None:
    """The stream keeps every partition; a consumer filters one."""
    assert stream_subject("vagus") == "vagus.beats.*.*"
    assert partition_subject("vagus", 7) == "vagus.beats.7.*"


@pytest.mark.parametrize(
    ("subject", "partition", "device"),
    [
        ("vagus.beats.0.strap-1", 0, "strap-1"),
        ("vagus.beats.15.C0:FF:EE:00:11:22", 15, "C0:FF:EE:00:11:22"),
        ("vagus.beats.3.phone//1", 3, "phone.1"),  # nats-server 2.10's '.' in a topic level
    ],
)
def test_subject_back_to_the_device(subject: str, partition: int, device: str) -> None:
    """The partition and the device, checked as an MQTT topic's device is."""
    assert partitions_head("vagus") == "vagus.beats."
    assert device_of_subject(partitions_head("vagus"), subject) == (partition, device)


@pytest.mark.parametrize(
    "subject",
    [
        "vagus.strap-1.beats",  # not partitioned (no mapping on the server)
        "other.beats.1.strap-1",
        "vagus.beats.x.strap-1",
        "vagus.beats.1",
        "vagus.beats.1.a.b",
        "vagus.beats.١.strap-1",  # a non-ASCII digit
    ],
)
def test_other_subjects_are_bad_topics(subject: str) -> None:
    """Anything but ``<prefix>.beats.<n>.<one level>`` is refused as ``bad_topic``."""
    with pytest.raises(TopicError) as caught:
        device_of_subject(partitions_head("vagus"), subject)
    assert caught.value.reason == "bad_topic"


@pytest.mark.parametrize("level", ["-dash-first", "é", "x" * 65, "_under"])
def test_bad_device_levels(level: str) -> None:
    """A level that is no device id is ``bad_device``, as on an MQTT topic."""
    with pytest.raises(TopicError) as caught:
        device_of_subject(partitions_head("vagus"), f"vagus.beats.2.{level}")
    assert caught.value.reason == "bad_device"
