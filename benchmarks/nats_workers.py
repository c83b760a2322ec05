"""Benchmark: how fast W `vagus run` workers drain a backlog of beats from NATS JetStream.

A private nats-server (as the tests start it: JetStream, MQTT listener, the
partition mapping of prefix ``vagus`` into 16 partitions) gets a backlog of
``--devices`` devices x ``--seconds`` one-second beats messages (the demo
scenario's fleet, the one beats codec), published on ``vagus.<device>.beats``
(the subject nats-server's MQTT listener gives ``vagus/<device>/beats``) and
kept in the stream. Then ``--workers`` worker processes (``[sources.nats]
worker = "i of W"``, no outputs but the pipeline) start, and the time from
the last worker consuming until every consumer has nothing pending or
unacked is the drain time. Printed: messages and beats per second over all
workers, each worker's CPU (% of one core over the drain) and peak RSS, and
nats-server's CPU.

With ``--mqtt-ingest N`` it measures instead the server's side of MQTT:
N QoS 1 publishes of ``vagus/<device>/beats`` over 4 MQTT connections into
the stream, and nats-server's CPU per publish (the Python publisher is
usually the slower side).

    .venv/bin/python -m benchmarks.nats_workers [--devices 1000] [--seconds 60] [--workers 1]
    .venv/bin/python -m benchmarks.nats_workers --mqtt-ingest 20000
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiomqtt
import nats

from benchmarks.daemon_resources import cpu_s, memory_mb
from ingest.beats_message import encode_beats
from ingest.nats_subjects import partition_mapping, stream_subject
from simulators import load_scenario
from simulators.fleet import build_fleet
from tests.servers import NatsServer, require_binary

PARTITIONS = 16


async def publish_backlog(server: NatsServer, devices: int, seconds: int) -> tuple[int, int]:
    """Messages and beats of the backlog, once the stream holds them all."""
    start_t_s = time.time() - seconds - 30.0
    fleet = build_fleet(load_scenario("demo"), devices, until_s=float(seconds))
    client = await nats.connect(server.url)
    try:
        js = client.jetstream()
        await js.add_stream(name="BENCH", subjects=[stream_subject("vagus")])
        messages = beats = 0
        for batch in fleet:
            cuts = [0, *(int(c) for c in batch.t_s.searchsorted(range(1, seconds + 1))), len(batch)]
            for lo, hi in itertools.pairwise(cuts):
                if hi > lo:
                    payload = encode_beats(batch, lo, hi, t_offset_s=start_t_s)
                    await client.publish(f"vagus.{batch.device}.beats", payload)
                    messages += 1
                    beats += hi - lo
            await client.flush()
        return messages, beats
    finally:
        await client.close()


async def stored(server: NatsServer) -> int:
    """Messages the stream holds."""
    client = await nats.connect(server.url)
    try:
        return int((await client.jetstream().stream_info("BENCH")).state.messages)
    finally:
        await client.close()


async def consumers(server: NatsServer, *, idle: bool) -> bool:
    """True when every partition's consumer exists (and with ``idle``, has nothing pending
    or unacked)."""
    client = await nats.connect(server.url)
    try:
        js = client.jetstream()
        for p in range(PARTITIONS):
            try:
                info = await js.consumer_info("BENCH", f"bench-p{p}")
            except nats.js.errors.NotFoundError:
                return False
            if idle and (info.num_pending or info.num_ack_pending):
                return False
        return True
    finally:
        await client.close()


async def mqtt_ingest(server: NatsServer, publishes: int) -> None:
    """Publish over the MQTT listener into the stream; print the rate and the server's CPU."""
    assert server.proc is not None
    client = await nats.connect(server.url)
    try:
        js = client.jetstream()
        await js.add_stream(name="BENCH", subjects=[stream_subject("vagus")])
        fleet = build_fleet(load_scenario("demo"), 100, until_s=2.0)
        payloads = [encode_beats(batch, 0, 2, t_offset_s=time.time()) for batch in fleet]

        async def publish(k: int, n: int) -> None:
            async with aiomqtt.Client(
                "127.0.0.1", server.mqtt_port, identifier=f"bench-{k}", max_inflight_messages=1000
            ) as mqtt:
                mqtt.pending_calls_threshold = n
                for lo in range(0, n, 500):
                    await asyncio.gather(
                        *(
                            mqtt.publish(
                                f"vagus/{fleet[j % 100].device}/beats", payloads[j % 100], qos=1
                            )
                            for j in range(lo, min(lo + 500, n))
                        )
                    )

        start, cpu0 = time.monotonic(), cpu_s(server.proc.pid)
        await asyncio.gather(*(publish(k, publishes // 4) for k in range(4)))
        wall, cpu = time.monotonic() - start, cpu_s(server.proc.pid) - cpu0
        stored = (await js.stream_info("BENCH")).state.messages
        print(
            f"{publishes} MQTT QoS 1 publishes in {wall:.1f} s ({publishes / wall:,.0f}/s), "
            f"{stored} stored; nats-server CPU {cpu:.1f} s = {1e6 * cpu / publishes:.0f} µs each"
        )
    finally:
        await client.close()


def worker_config(directory: Path, server: NatsServer, i: int, workers: int) -> Path:
    directory.mkdir(parents=True)
    path = directory / "config.toml"
    path.write_text(
        f"""state_dir = "{directory / "state"}"
[sources.nats]
url = "{server.url}"
stream = "BENCH"
partition_count = {PARTITIONS}
worker = "{i} of {workers}"
consumer = "bench"
[console]
enabled = false
[log]
level = "warning"
"""
    )
    return path


def run(devices: int, seconds: int, workers: int, ingest: int | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "nats").mkdir()
        server = NatsServer(
            Path(tmp) / "nats",
            require_binary("nats-server"),
            mappings=dict([partition_mapping("vagus", PARTITIONS)]),
        )
        server.start()
        procs: list[subprocess.Popen[bytes]] = []
        try:
            if ingest is not None:
                asyncio.run(mqtt_ingest(server, ingest))
                return
            t = time.monotonic()
            messages, beats = asyncio.run(publish_backlog(server, devices, seconds))
            while asyncio.run(stored(server)) < messages:
                time.sleep(0.2)
            print(f"backlog: {messages} messages, {beats} beats in {time.monotonic() - t:.1f} s")
            for i in range(1, workers + 1):
                config = worker_config(Path(tmp) / f"w{i}", server, i, workers)
                procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "vagus.cli", "run", "--config", str(config)],
                        stdout=subprocess.DEVNULL,
                    )
                )
            while not asyncio.run(consumers(server, idle=False)):
                time.sleep(0.05)
            assert server.proc is not None
            start, server_cpu0 = time.monotonic(), cpu_s(server.proc.pid)
            cpu0 = [cpu_s(p.pid) for p in procs]
            while not asyncio.run(consumers(server, idle=True)):
                time.sleep(0.1)
            wall = time.monotonic() - start
            cpu = [cpu_s(p.pid) - c for p, c in zip(procs, cpu0, strict=True)]
            server_cpu = cpu_s(server.proc.pid) - server_cpu0
            rss = [memory_mb(p.pid)[1] for p in procs]
            print(
                f"{workers} worker(s), {devices} devices x {seconds} s: drained in {wall:.1f} s: "
                f"{messages / wall:,.0f} messages/s, {beats / wall:,.0f} beats/s"
            )
            for i, (c, r) in enumerate(zip(cpu, rss, strict=True), start=1):
                print(f"  worker {i}: CPU {100 * c / wall:.0f} % of a core, peak RSS {r:.0f} MB")
            print(f"  nats-server: CPU {100 * server_cpu / wall:.0f} % of a core")
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(timeout=30)
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--mqtt-ingest", type=int, default=None, metavar="N")
    args = parser.parse_args()
    run(args.devices, args.seconds, args.workers, args.mqtt_ingest)


if __name__ == "__main__":
    main()
