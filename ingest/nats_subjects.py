"""Beats on NATS: the subjects ``<prefix>/<device>/beats`` becomes, partitioned, and back.

nats-server's MQTT listener turns a topic into a subject level by level:
``/`` becomes ``.``, and a ``.`` inside a level becomes ``//`` (nats-server
2.10 and later; 2.9 refuses such a topic and closes the publisher's
connection). A subject mapping of the server then adds the device's
partition, a hash of the device level into one of ``P`` partitions::

    vagus.*.beats  ->  vagus.beats.{{partition(P,1)}}.{{wildcard(1)}}

so ``vagus/strap-7/beats`` is stored under ``vagus.beats.<p>.strap-7`` and
a worker consumes partition ``p`` alone through the filter
``vagus.beats.<p>.*``. `beats_topic_of_subject` turns such a subject back
into the MQTT topic, which `ingest.beats_message.device_of_topic` then
checks, so the device's identity is parsed in one place for both brokers.

Pure: strings in, strings out.
"""

from __future__ import annotations

from ingest.device_topics import TopicError, check_prefix

__all__ = [
    "beats_topic_of_subject",
    "partition_mapping",
    "partition_subject",
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


def beats_topic_of_subject(prefix: str, subject: str) -> tuple[int, str]:
    """The partition and the MQTT topic of a partitioned beats subject.

    Raises `TopicError` ``bad_topic`` unless ``subject`` is
    ``<prefix>.beats.<partition>.<one level>``; the device level itself is
    left to `ingest.beats_message.device_of_topic`.
    """
    head = f"{subject_prefix(prefix)}.beats."
    if not subject.startswith(head):
        raise TopicError("bad_topic")
    partition, _, level = subject[len(head) :].partition(".")
    if not partition.isdigit() or not partition.isascii() or not level or "." in level:
        raise TopicError("bad_topic")
    return int(partition), f"{prefix}/{level.replace('//', '.')}/beats"
