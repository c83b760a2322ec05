"""Benchmark: 1,000 virtual wearables publishing raw beats in real time to a local Mosquitto.

Starts a throw-away Mosquitto on a free loopback port (as the test suite
does), subscribes to every beats topic, runs the fleet for ``--duration``
seconds at real time (speed 1) and prints the sustained message rate, the
lag behind the wall-clock schedule and what the subscriber received.

    .venv/bin/python -m benchmarks.fleet [--devices 1000] [--duration 30]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import aiomqtt

from simulators import load_scenario
from simulators.fleet import FleetStats, build_fleet, run_fleet
from tests.servers import Mosquitto, require_binary


async def _bench(
    port: int, devices: int, duration_s: float, scenario: str
) -> tuple[FleetStats, int]:
    fleet = build_fleet(load_scenario(scenario), devices, until_s=duration_s + 2)
    received = 0
    loop = asyncio.get_running_loop()
    async with aiomqtt.Client("127.0.0.1", port) as sub, aiomqtt.Client("127.0.0.1", port) as pub:
        await sub.subscribe("bench/+/beats")
        pub.pending_calls_threshold = devices  # a tick publishes devices / 10 at once

        async def count() -> None:
            nonlocal received
            async for _ in sub.messages:
                received += 1

        counter = asyncio.create_task(count())

        async def publish(messages: list[tuple[str, bytes]]) -> None:
            await asyncio.gather(*(pub.publish(t, p, qos=0) for t, p in messages))

        stats = await run_fleet(
            fleet,
            publish=publish,
            prefix="bench",
            speed=1.0,
            duration_s=duration_s,
            start_t_s=time.time(),
            clock=loop.time,
            sleep=asyncio.sleep,
        )
        await asyncio.sleep(1.0)
        counter.cancel()
    return stats, received


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--scenario", default="workday")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        broker = Mosquitto(Path(tmp), require_binary("mosquitto"))
        broker.start()
        try:
            started = time.perf_counter()
            build_fleet(load_scenario(args.scenario), 1, until_s=args.duration + 2)
            per_device_ms = (time.perf_counter() - started) * 1000
            stats, received = asyncio.run(
                _bench(broker.port, args.devices, args.duration, args.scenario)
            )
        finally:
            broker.stop()
    behind = stats.max_lag_s > 0.5
    print(f"devices               {stats.devices}")
    print(f"generation per device {per_device_ms:.1f} ms ({args.duration:.0f} s of beats)")
    print(f"wall time             {stats.wall_s:.2f} s (schedule {args.duration:.0f} s)")
    print(f"messages published    {stats.messages} ({stats.messages_per_s:.0f} msg/s sustained)")
    print(f"beats published       {stats.beats}")
    print(f"messages received     {received}")
    print(
        f"lag behind schedule   max {stats.max_lag_s * 1000:.1f} ms, "
        f"mean {stats.mean_lag_s * 1000:.2f} ms"
    )
    print("verdict               " + ("FELL BEHIND" if behind else "kept up with real time"))


if __name__ == "__main__":
    main()
