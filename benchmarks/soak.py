"""Soak: 20 virtual straps for 6 simulated hours at high speed through the daemon.

The daemon is the one `vagus run` builds from its config (`vagus.app.build_daemon`:
virtual straps playing the workday scenario, which has stress, exercise, contact lost and a
disconnect; pipeline, rules, state; MQTT to a private Mosquitto and session files), run in
this process so that its asyncio tasks can be counted. Every simulated hour it prints the
resident memory, open file descriptors and asyncio tasks, side by side, and at the end
whether they stayed flat (from the first hour on; the first hour fills the engine's
windows and baselines).

    .venv/bin/python -m benchmarks.soak [--devices 20] [--hours 6] [--speed 100]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.servers import Mosquitto, require_binary
from vagus.app import build_daemon
from vagus.config import Config
from vagus.daemon import Daemon

RSS_GROWTH = 0.10
"""RSS counts as flat when the last sample is within this share of the first hour's."""
COUNT_SLACK = 2
"""Open fds and tasks count as flat when they stay within this range (a state save or an
output's retry holds one for a moment)."""


@dataclass(frozen=True)
class Sample:
    sim_h: float
    wall_s: float
    rss_mb: float
    fds: int
    tasks: int
    beats: int


class Losses(logging.Handler):
    """Counts, from the daemon's own log lines, notifications its straps' queues dropped
    (the pipeline fell behind) and devices quarantined."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.dropped = 0
        self.quarantines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        found = re.search(r"(\d+) notifications dropped \(queue full\)", message)
        if found:
            self.dropped += int(found[1])
        if "quarantined after an error" in message:
            self.quarantines.append(message)


def rss_mb() -> float:
    """This process's resident memory (VmRSS) in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (the architecture when absent)."""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return os.uname().machine


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def soak(daemon: Daemon, *, hours: float, speed: float, every_h: float) -> list[Sample]:
    """Run ``daemon`` for ``hours`` simulated hours, sampling every ``every_h``; stop it."""
    samples: list[Sample] = []
    run = asyncio.create_task(daemon.run(), name="daemon")
    began = time.monotonic()

    def sample(sim_h: float) -> None:
        samples.append(
            Sample(
                sim_h=sim_h,
                wall_s=time.monotonic() - began,
                rss_mb=rss_mb(),
                fds=open_fds(),
                tasks=len(asyncio.all_tasks()),
                beats=daemon.pipeline.totals.beats,
            )
        )
        print(f"  {fmt(samples[-1])}", flush=True)

    await asyncio.sleep(1.0)  # sources, outputs and connections up
    sample(1.0 * speed / 3600)
    marks = [every_h * k for k in range(1, round(hours / every_h) + 1)]
    for mark in marks:
        await asyncio.sleep(max(began + mark * 3600 / speed - time.monotonic(), 0))
        if run.done():
            break
        sample(mark)
    daemon.stop()
    await run
    return samples


def fmt(s: Sample) -> str:
    return (
        f"{s.sim_h:5.2f} h  {s.wall_s:6.1f} s  {s.rss_mb:7.1f} MB  {s.fds:4d} fds  "
        f"{s.tasks:4d} tasks  {s.beats:9d} beats"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=20)
    parser.add_argument("--hours", type=float, default=6.0)
    parser.add_argument("--speed", type=float, default=100.0)
    parser.add_argument("--every", type=float, default=1.0, help="simulated hours per sample")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "mosquitto").mkdir()
        broker = Mosquitto(root / "mosquitto", require_binary("mosquitto"))
        broker.start()
        try:
            config = Config.model_validate(
                {
                    "state_dir": str(root / "state"),
                    "sources": {
                        "simulated": {
                            "devices": args.devices,
                            "scenario": "workday",
                            "speed": args.speed,
                        }
                    },
                    "mqtt": {"host": "127.0.0.1", "port": broker.port, "prefix": "soak"},
                    "files": {"dir": str(root / "session")},
                    "console": {"enabled": False},
                    "log": {"level": "warning"},
                }
            )
            losses = Losses()
            logging.getLogger("vagus").addHandler(losses)
            daemon = build_daemon(config, console=None, title="soak", environ={})
            print(
                f"machine: {cpu_model()}, {os.cpu_count()} cores, "
                f"load {os.getloadavg()[0]:.1f}, Python {sys.version.split()[0]}"
            )
            print(
                f"vagus daemon, {args.devices} virtual straps (workday scenario), "
                f"{args.hours:g} simulated hours at {args.speed:g}x, MQTT + session files"
            )
            print("  sim time  wall       RSS        fds   tasks   beats")
            samples = asyncio.run(
                soak(daemon, hours=args.hours, speed=args.speed, every_h=args.every)
            )
        finally:
            broker.stop()
    settled = [s for s in samples if s.sim_h >= 1.0] or samples
    first, last = settled[0], settled[-1]
    growth = last.rss_mb / first.rss_mb - 1
    behind = last.wall_s - last.sim_h * 3600 / args.speed
    print(f"from {first.sim_h:g} h to {last.sim_h:g} h (simulated):")
    print(
        f"  RSS {first.rss_mb:.1f} -> {last.rss_mb:.1f} MB ({100 * growth:+.1f} %): "
        + ("flat" if abs(growth) <= RSS_GROWTH else "NOT FLAT")
    )
    for name in ("fds", "tasks"):
        values = [getattr(x, name) for x in settled]
        flat = max(values) - min(values) <= COUNT_SLACK
        print(
            f"  {name} {getattr(first, name)} -> {getattr(last, name)} "
            f"(range {min(values)}-{max(values)}): " + ("flat" if flat else "NOT FLAT")
        )
    print(f"  {last.beats} beats; wall clock {behind:+.1f} s off the schedule at the end")
    print(
        f"  {losses.dropped} notifications dropped by the straps' queues: "
        + ("kept up" if not losses.dropped else "FELL BEHIND (try a lower --speed)")
    )
    for line in losses.quarantines:
        print(f"  {line}")


if __name__ == "__main__":
    main()
