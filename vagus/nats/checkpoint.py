"""A worker's per-device state, one checkpoint per partition (key-value ``<consumer>.p<N>``).

A checkpoint is one JSON object (``schema`` 1)::

    {"schema": 1, "partition": 3, "stream_seq": 81234,
     "baselines": {"<device>": {"ln_rmssd": F, "hr_bpm": F, "weight_s": F}},
     "pipeline": {"last_beat_s": {"<device>": F},
                  "rules": {"version": N, "devices": {"<device>": {...}}}}}

``baselines`` is the format of `vagus.baseline_store`, ``pipeline`` that of
`vagus.pipeline.Pipeline.snapshot`, cut down to the partition's devices;
``stream_seq`` is the last stream message of the partition whose beats the
state includes (a redelivery at or below it is a duplicate). Keyed by
partition rather than by worker, so a replacement, or a deployment with
another number of workers, restores exactly the partitions it takes over;
prefixed by the consumer name, as the consumer position it goes with.

Pure: data in, data out; the intake (`vagus.daemon._nats_intake`) does the IO.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hrv import Baseline
from vagus.baseline_store import dump_baselines, load_baselines

SCHEMA = 1


class CheckpointError(ValueError):
    """A stored checkpoint that cannot be restored; ``reason`` says why (never its content)."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"checkpoint {key}: {reason}")
        self.key = key
        self.reason = reason


def key_of(consumer: str, partition: int) -> str:
    """The key-value key of ``partition``'s checkpoint for durable consumers ``consumer``."""
    return f"{consumer}.p{partition}"


def split(
    baselines: Mapping[str, Baseline],
    pipeline: Mapping[str, Any],
    partition_of: Mapping[str, int],
    stream_seq: Mapping[int, int],
) -> dict[int, bytes]:
    """One checkpoint per partition of ``stream_seq``, holding its devices of ``partition_of``.

    ``baselines`` and ``pipeline`` are one consistent `Pipeline` state (taken between two
    steps); devices it has but ``partition_of`` does not name are left out.
    """
    rules = pipeline.get("rules", {})
    last_beat_s = pipeline.get("last_beat_s", {})
    rule_devices = rules.get("devices", {})
    docs: dict[int, bytes] = {}
    for partition, seq in stream_seq.items():
        devices = sorted(d for d, p in partition_of.items() if p == partition)
        doc = {
            "schema": SCHEMA,
            "partition": partition,
            "stream_seq": seq,
            "baselines": dump_baselines({d: baselines[d] for d in devices if d in baselines}),
            "pipeline": {
                "last_beat_s": {d: last_beat_s[d] for d in devices if d in last_beat_s},
                "rules": {
                    **rules,
                    "devices": {d: rule_devices[d] for d in devices if d in rule_devices},
                },
            },
        }
        docs[partition] = json.dumps(doc, allow_nan=False, separators=(",", ":")).encode()
    return docs


@dataclass(slots=True)
class Restored:
    """Checkpoints merged into one state for `Pipeline.restore`."""

    baselines: dict[str, Baseline] = field(default_factory=dict)
    pipeline: dict[str, Any] = field(default_factory=dict)
    stream_seq: dict[int, int] = field(default_factory=dict)
    partition_of: dict[str, int] = field(default_factory=dict)


def merge(
    current: Mapping[str, Any], checkpoints: Iterable[tuple[int, bytes]]
) -> tuple[Restored, list[CheckpointError]]:
    """``current`` (a `Pipeline.snapshot`) with the devices of each partition's checkpoint.

    A checkpoint that cannot be read is left out and returned as a `CheckpointError`
    (its partition starts afresh); one written by a rules format other than ``current``'s
    keeps its baselines and beat times, and its rule state starts afresh.
    """
    rules = dict(current.get("rules", {}))
    version = rules.get("version")
    rule_devices = dict(rules.get("devices", {}))
    last_beat_s = dict(current.get("last_beat_s", {}))
    out = Restored()
    errors: list[CheckpointError] = []
    for partition, data in checkpoints:
        key = f"p{partition}"
        try:
            doc = _read(key, data, partition)
            baselines = load_baselines(doc["baselines"])
        except CheckpointError as exc:
            errors.append(exc)
            continue
        except ValueError as exc:
            errors.append(CheckpointError(key, str(exc)))
            continue
        state = doc["pipeline"]
        out.stream_seq[partition] = doc["stream_seq"]
        out.baselines.update(baselines)
        last_beat_s.update(state["last_beat_s"])
        if state["rules"].get("version") == version:
            rule_devices.update(state["rules"]["devices"])
        devices = set(baselines) | set(state["last_beat_s"]) | set(state["rules"]["devices"])
        out.partition_of.update(dict.fromkeys(devices, partition))
    out.pipeline = {"last_beat_s": last_beat_s, "rules": {**rules, "devices": rule_devices}}
    return out, errors


def _read(key: str, data: bytes, partition: int) -> dict[str, Any]:
    """The checkpoint's object, its shape checked (rule state is checked by the evaluator)."""
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise CheckpointError(key, "not JSON") from None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise CheckpointError(key, f"expected schema {SCHEMA}")
    if doc.get("partition") != partition:
        raise CheckpointError(key, "holds another partition")
    seq = doc.get("stream_seq")
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
        raise CheckpointError(key, "stream_seq is not a sequence number")
    state = doc.get("pipeline")
    if (
        not isinstance(doc.get("baselines"), dict)
        or not isinstance(state, dict)
        or not isinstance(state.get("last_beat_s"), dict)
        or not isinstance(state.get("rules"), dict)
        or not isinstance(state["rules"].get("devices"), dict)
    ):
        raise CheckpointError(key, "missing baselines or pipeline state")
    times = state["last_beat_s"].values()
    if not all(isinstance(t, int | float) and math.isfinite(t) for t in times):
        raise CheckpointError(key, "a last beat time is not a number")
    return doc
