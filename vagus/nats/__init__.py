"""NATS JetStream scale-out: the ``[sources.nats]`` settings and per-partition checkpoints.

The intake itself is a daemon source (`vagus.daemon.receive_nats_beats`).
"""

from vagus.nats.checkpoint import CheckpointError, Restored, key_of, merge, split
from vagus.nats.settings import NatsSecretError, NatsSettings, parse_partitions, worker_partitions

__all__ = [
    "CheckpointError",
    "NatsSecretError",
    "NatsSettings",
    "Restored",
    "key_of",
    "merge",
    "parse_partitions",
    "split",
    "worker_partitions",
]
