"""Per-partition checkpoints: a pipeline's state split by partition and merged back."""

from __future__ import annotations

import json

from hrv import StreamEngine
from recommender import default_config
from simulators import load_scenario
from simulators.fleet import build_fleet
from vagus.nats import key_of, merge, split
from vagus.pipeline import Pipeline

T0_S = 1_700_000_000.0


def fed_pipeline(devices: int = 4) -> Pipeline:
    """A pipeline that took 6 minutes of the demo scenario's beats for ``devices`` people."""
    pipeline = Pipeline(engine=StreamEngine(), rules=default_config())
    for batch in build_fleet(load_scenario("demo"), devices, until_s=360.0):
        shifted = type(batch)(
            device=batch.device, t_s=batch.t_s + T0_S, rr_ms=batch.rr_ms, gap=batch.gap
        )
        pipeline.feed(shifted, now=T0_S + 400.0)
    return pipeline


def test_split_then_merge_restores_every_device() -> None:
    """Two partitions' checkpoints, merged into a fresh pipeline, give back the same state."""
    source = fed_pipeline()
    devices = sorted(source.devices)
    partition_of = {d: i % 2 for i, d in enumerate(devices)}
    docs = split(source.engine.baselines(), source.snapshot(), partition_of, {0: 11, 1: 12})
    assert set(docs) == {0, 1}
    assert set(json.loads(docs[0])["pipeline"]["last_beat_s"]) == set(devices[0::2])

    fresh = Pipeline(engine=StreamEngine(), rules=default_config())
    restored, errors = merge(fresh.snapshot(), docs.items())
    assert errors == []
    assert restored.stream_seq == {0: 11, 1: 12}
    assert restored.partition_of == partition_of
    fresh.restore(restored.pipeline, restored.baselines)
    assert fresh.snapshot() == source.snapshot()
    assert fresh.engine.baselines() == source.engine.baselines()


def test_merge_keeps_the_devices_already_there() -> None:
    """Restoring one partition leaves the state of other devices of the pipeline alone."""
    source = fed_pipeline()
    devices = sorted(source.devices)
    docs = split(source.engine.baselines(), source.snapshot(), {devices[0]: 3}, {3: 5})
    current = fed_pipeline().snapshot()  # the pipeline holds the other three devices
    current["last_beat_s"] = {d: t for d, t in current["last_beat_s"].items() if d != devices[0]}
    assert len(current["last_beat_s"]) == 3
    restored, _ = merge(current, [(3, docs[3])])
    assert set(restored.pipeline["last_beat_s"]) == set(devices)


def test_a_bad_checkpoint_is_reported_and_left_out() -> None:
    """Unreadable or foreign checkpoints are errors naming their key; good ones still restore."""
    source = fed_pipeline(devices=2)
    device = sorted(source.devices)[0]
    good = split(source.engine.baselines(), source.snapshot(), {device: 1}, {1: 9})[1]
    fresh = Pipeline(engine=StreamEngine(), rules=default_config()).snapshot()
    restored, errors = merge(
        fresh, [(0, b"{not json"), (1, good), (2, good), (4, b'{"schema": 99}')]
    )
    assert [(e.key, e.reason) for e in errors] == [
        ("p0", "not JSON"),
        ("p2", "holds another partition"),
        ("p4", "expected schema 1"),
    ]
    assert restored.stream_seq == {1: 9}
    assert restored.partition_of == {device: 1}


def test_keys_are_per_consumer_and_partition() -> None:
    """Two applications reading one stream (own durable consumers) keep separate state."""
    assert key_of("vagus", 3) == "vagus.p3"
    assert key_of("shadow", 3) != key_of("vagus", 3)
