"""CPU and memory of `vagus run` with simulated straps at real speed (issue: idle footprint).

Starts the daemon as a child process with N virtual straps playing the
workday scenario at 1x (console off, no servers), lets it settle, then
measures CPU time over a window from /proc (user + system, as % of one
core) and resident memory (VmRSS now, VmHWM peak).

    .venv/bin/python benchmarks/daemon_resources.py [--devices 2] [--seconds 60]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of ``pid``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def memory_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of ``pid`` in MB."""
    status = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--settle", type=float, default=15.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.toml"
        config.write_text(
            f'state_dir = "{tmp}/state"\n'
            f'[sources.simulated]\ndevices = {args.devices}\nscenario = "workday"\nspeed = 1.0\n'
            "[console]\nenabled = false\n"
        )
        proc = subprocess.Popen(
            [sys.executable, "-m", "vagus.cli", "run", "--config", str(config)],
            stdout=subprocess.DEVNULL,
        )
        try:
            time.sleep(args.settle)
            start_cpu, start = cpu_s(proc.pid), time.monotonic()
            time.sleep(args.seconds)
            used, elapsed = cpu_s(proc.pid) - start_cpu, time.monotonic() - start
            rss, peak = memory_mb(proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=10)
    print(f"machine: {os.uname().machine}, {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(f"vagus run, {args.devices} simulated straps at 1x, measured over {elapsed:.0f} s")
    print(f"  CPU: {100 * used / elapsed:.2f} % of one core   (target < 2 %)")
    print(f"  memory: RSS {rss:.0f} MB, peak {peak:.0f} MB   (target < 120 MB)")
    print(f"  exit code after SIGTERM: {code}")


if __name__ == "__main__":
    main()
