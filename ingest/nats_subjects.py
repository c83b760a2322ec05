"""Beats on NATS: the subjects ``<prefix>/<device>/beats`` becomes, partitioned, and back.

nats-server's MQTT listener turns a topic into a subject level by level:
``/`` becomes ``.``, and a ``.`` inside a level becomes ``//`` (nats-server
2.10 and later; 2.9 refuses such a topic and closes the publisher's
connection). A subject mapping of the server then adds the device's
partition, a hash of the device level into one of ``P`` partitions::

    vagus.*.beats  ->  vagus.beats.{{partition(P,1)}}.{{wildcard(1)}}

so ``vagus/strap-7/beats`` is stored under ``vagus.beats.<p>.strap-7`` and
a worker consumes partition ``p`` alone through the filter
``vagus.beats.<p>.*``. `device_of_subject` takes the device back out of such
a subject and checks it with `ingest.device_topics.check_device`, the one
check of a device id for both brokers.

Pure: strings in, strings out.
"""

from __future__ import annotations

from ingest.device_topics import TopicError, check_device, check_prefix

__all__ = [
    "device_of_subject",
    "partition_mapping",
    "partition_subject",
    "partitions_head",
    "stream_subject",
    "subject_prefix",
]


def subject_prefix(prefix: str) -> str:
    """The NATS subject of MQTT topic prefix ``prefix`` (``a/b.c`` -> ``a.b//c``)."""
    check_prefix(prefix)
    return ".".join(level.replace(".", "//") for level in prefix.split("/"))


def partition_mapping(prefix: str, partitions: int) -> tuple[str, str]:
    """The server's subject mapping (source, destination) that partitions the beats topics."""
    if partitions < 1:
        raise ValueError(f"partitions must be at least 1, not {partitions}")
    head = subject_prefix(prefix)
    return f"{head}.*.beats", f"{head}.beats.{{{{partition({partitions},1)}}}}.{{{{wildcard(1)}}}}"


def stream_subject(prefix: str) -> str:
    """The subjects of every partition (what the stream keeps)."""
    return f"{subject_prefix(prefix)}.beats.*.*"


def partition_subject(prefix: str, partition: int) -> str:
    """The subjects of one partition (a consumer's filter)."""
    return f"{subject_prefix(prefix)}.beats.{partition}.*"


def partitions_head(prefix: str) -> str:
    """What every partitioned beats subject of ``prefix`` starts with (for `device_of_subject`)."""
    return f"{subject_prefix(prefix)}.beats."


def device_of_subject(head: str, subject: str) -> tuple[int, str]:
    """The partition and the device of a partitioned beats subject.

    ``head`` is `partitions_head` of the prefix (worked out once, not per
    message). Raises `TopicError` ``bad_topic`` unless ``subject`` is
    ``<head><partition>.<one level>``, ``bad_device`` unless that level (with
    nats-server's ``//`` turned back into ``.``) is a valid device id, checked
    by the same `ingest.device_topics.check_device` as an MQTT topic's.
    """
    if not subject.startswith(head):
        raise TopicError("bad_topic")
    partition, _, level = subject[len(head) :].partition(".")
    if not partition.isdigit() or not partition.isascii() or not level or "." in level:
        raise TopicError("bad_topic")
    device = level.replace("//", ".")
    check_device(device)
    return int(partition), device
