"""Benchmark: N virtual straps in real time through a real Mosquitto into one `vagus run`.

For each N: a private Mosquitto on a free loopback port (as the test suite
starts it), `vagus run` as a child process (MQTT beats intake, MQTT output,
console off), the fleet simulator (`simulators.fleet`) in ``--publishers``
child processes publishing ``<prefix>/<device>/beats`` at QoS 1, one message
per device per second, for ``--seconds``, and a subscriber to every metrics
topic and to the broker's ``$SYS`` message store. Printed for each N, beside
the issue's baseline where it has one:

- metrics published (received by the subscriber) / windows made (the daemon's
  closing summary), and what the daemon logged as dropped;
- window end -> metrics published, p50 / p99 (arrival minus ``t_end_s``), beside
  its floor: the artifact stage lets a window out once the 5th beat after its end
  is in (`hrv` LOOKAHEAD), so "lookahead floor" is when the fleet published that
  beat, and "daemon's own delay" what the daemon added after it. Windows whose
  5th beat was never published (the run's last seconds) wait for the end-of-stream
  flush, and those in a device's first 24 beats (``LOCAL``: the artifact stage's
  context) for the 24th; both are left out of the latencies (counted);
- the daemon's own delay once every device runs (windows ending `STARTED_S` or
  more after the fleet's start): the fleet starts every device in the same
  second, so every device's first windows come due at once, which a real fleet
  joining over minutes does not do;
- beat published -> its window's metrics published, p50 / p99 (the window's
  last beat, published at its device's scheduled tick);
- the daemon's CPU (% of one core) and RSS (now and peak) over the run, and the
  CPU of the broker, of the fleet and of the whole machine (% of all cores), to
  tell a slow daemon from a saturated machine;
- backlog: whether the window latency or the broker's stored messages (less its
  retained ones: each device's status) grew from the first third of the run to
  the last (a daemon that keeps up is flat);
- how long the daemon took to exit after SIGTERM, and the publishers' lag.

N holds (the issue's goal) when every window was published, nothing was
dropped, p99 window end -> published is at most 5 s and the backlog did not
grow. The lookahead floor alone passes 5 s at p99 when hearts beat slower than
about 65 bpm, so the daemon is also judged on its own: N *keeps up* when every
window was published, nothing was dropped, the backlog did not grow and the
daemon's own delay is at most 1 s at p99.

    .venv/bin/python -m benchmarks.e2e [--devices 100,1000,3000,10000] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import orjson
import paho.mqtt.client as paho

from benchmarks.daemon_resources import cpu_s, memory_mb
from hrv._artifacts import LOCAL, LOOKAHEAD
from simulators import load_scenario
from simulators.fleet import FleetStats, build_fleet, run_fleet
from tests.servers import Mosquitto, require_binary
from vagus.mqtt.packets import publish_packet, remaining_length

PREFIX = "bench"
SLOTS = 10
"""The fleet's sub-second phases (`run_fleet`'s default)."""
HOLD_P99_S = 5.0
OWN_P99_S = 1.0
DRAIN_S = 10.0
STARTED_S = 40.0
"""Windows ending this long after the fleet's start count as "once every device runs"."""
"""Wall time after the fleet's last tick before SIGTERM (the last windows' lookahead)."""

BROKER_OPTIONS = (
    # QoS 1 to the intake: the daemon holds at most this many unacked messages (its memory
    # bound, about 2 s of 10,000 devices) and acks them a batch at a time.
    "max_inflight_messages 20000",
    "max_queued_messages 0",  # nothing dropped by the broker: a backlog shows as a backlog
    "sys_interval 2",
    "set_tcp_nodelay true",
)

BASELINE = {
    100: "810 / 1,123 published; p50 10.1 s, p99 18.4 s; CPU 10 %",
    500: "2,703 / 5,601 (2,642 dropped); p50 13.4 s, p99 20.7 s; CPU 39 %",
    2000: "21 % of expected; p50 33 s, p99 53 s; CPU 90 %",
    10000: "fleet could not publish in real time; daemon did not stop within 30 s",
}
"""Issue 13's figures on main before this work (60 s runs), by N."""


@dataclass(slots=True)
class Result:
    """What one run of N devices measured."""

    devices: int
    seconds: float
    published: int = 0
    windows: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    end_p50_s: float = float("nan")
    end_p99_s: float = float("nan")
    beat_p50_s: float = float("nan")
    beat_p99_s: float = float("nan")
    floor_p50_s: float = float("nan")
    floor_p99_s: float = float("nan")
    own_p50_s: float = float("nan")
    own_p99_s: float = float("nan")
    own_started_p50_s: float = float("nan")
    own_started_p99_s: float = float("nan")
    end_flushed: int = 0
    startup: int = 0
    broker_cpu_pct: float = float("nan")
    fleet_cpu_pct: float = float("nan")
    machine_cpu_pct: float = float("nan")
    cpu_pct: float = float("nan")
    rss_mb: float = float("nan")
    peak_mb: float = float("nan")
    latency_thirds_s: tuple[float, float] = (float("nan"), float("nan"))
    stored_thirds: tuple[float, float] = (float("nan"), float("nan"))
    stop_s: float = float("nan")
    exit_code: int | None = None
    fleet_messages: int = 0
    fleet_max_lag_s: float = 0.0

    @property
    def backlog_grew(self) -> bool:
        """Latency up by over a second, or the broker's stored messages up by over N."""
        first, last = self.latency_thirds_s
        s_first, s_last = self.stored_thirds
        return bool(last - first > 1.0 or s_last - s_first > self.devices)

    @property
    def holds(self) -> bool:
        """Every window published, nothing dropped, p99 <= 5 s, no growing backlog."""
        return (
            self.windows > 0
            and self.published >= self.windows
            and not any(self.dropped.values())
            and self.end_p99_s <= HOLD_P99_S
            and not self.backlog_grew
        )

    @property
    def keeps_up(self) -> bool:
        """Every window published, nothing dropped, no growing backlog, and the daemon's own
        delay (after the lookahead floor) at most `OWN_P99_S` at p99."""
        return (
            self.windows > 0
            and self.published >= self.windows
            and not any(self.dropped.values())
            and self.own_p99_s <= OWN_P99_S
            and not self.backlog_grew
        )


class Collector:
    """Subscribes to every metrics topic and the broker's stored-message count (own thread)."""

    def __init__(self, port: int) -> None:
        self.arrivals: list[tuple[float, bytes]] = []
        self.stored: list[tuple[float, int]] = []
        self.retained: list[tuple[float, int]] = []
        self._client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="bench-collector")
        self._client.on_message = self._on_message
        self._client.connect("127.0.0.1", port)
        self._client.subscribe(
            [
                (f"{PREFIX}/+/metrics", 0),
                ("$SYS/broker/store/messages/count", 0),
                ("$SYS/broker/retained messages/count", 0),
            ]
        )
        self._client.loop_start()

    def _on_message(self, _client: object, _userdata: object, message: paho.MQTTMessage) -> None:
        now = time.time()
        if message.topic.startswith("$SYS/broker/retained"):
            self.retained.append((now, int(message.payload)))
        elif message.topic.startswith("$SYS"):
            self.stored.append((now, int(message.payload)))
        else:
            self.arrivals.append((now, message.payload))

    def stop(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


def _daemon_config(tmp: Path, port: int) -> Path:
    config = tmp / "vagus.toml"
    config.write_text(
        f'state_dir = "{tmp}/state"\n'
        f'[mqtt]\nhost = "127.0.0.1"\nport = {port}\nclient_id = "bench"\nprefix = "{PREFIX}"\n'
        "[sources.mqtt_beats]\nenabled = true\n"
        "[console]\nenabled = false\n"
    )
    return config


def _wait_for_line(path: Path, needle: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists() and needle in path.read_text(errors="replace"):
            return
        time.sleep(0.1)
    raise TimeoutError(f"{needle!r} not in {path} after {timeout_s} s")


def _percentiles(values: np.ndarray) -> tuple[float, float]:
    if not values.size:
        return float("nan"), float("nan")
    p50, p99 = np.percentile(values, [50, 99])
    return float(p50), float(p99)


def run_one(
    devices: int,
    seconds: float,
    publishers: int,
    scenario: str,
    profile: Path | None = None,
    logs: Path | None = None,
) -> Result:
    """One measured run of ``devices`` straps for ``seconds`` (see the module docstring)."""
    result = Result(devices=devices, seconds=seconds)
    with tempfile.TemporaryDirectory(prefix="vagus-e2e-") as name:
        tmp = Path(name)
        (tmp / "broker").mkdir()
        broker = Mosquitto(tmp / "broker", require_binary("mosquitto"), options=BROKER_OPTIONS)
        broker.start()
        daemon: subprocess.Popen[bytes] | None = None
        fleet: list[subprocess.Popen[str]] = []
        try:
            out, err = tmp / "daemon.out", tmp / "daemon.err"
            with out.open("wb") as stdout, err.open("wb") as stderr:
                daemon = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "vagus.cli",
                        "run",
                        "--config",
                        str(_daemon_config(tmp, broker.port)),
                    ],
                    stdout=stdout,
                    stderr=stderr,
                )
            _wait_for_line(err, "beats intake: receiving", 30.0)
            collector = Collector(broker.port)
            fleet = [
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "benchmarks.e2e",
                        "--publisher",
                        f"{k}/{publishers}",
                        "--devices",
                        str(devices),
                        "--seconds",
                        str(seconds),
                        "--scenario",
                        scenario,
                        "--port",
                        str(broker.port),
                        "--out",
                        str(tmp / f"fleet-{k}.npz"),
                    ],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
                for k in range(publishers)
            ]
            for proc in fleet:  # each has built its share of the fleet
                assert proc.stdout is not None
                if proc.stdout.readline().strip() != "ready":
                    raise RuntimeError("a fleet publisher failed to start")
            per_publisher = devices * seconds / publishers
            start_t_s = time.time() + 3.0 + 1.5e-5 * per_publisher  # time to encode
            for proc in fleet:
                assert proc.stdin is not None
                proc.stdin.write(f"{start_t_s!r}\n")
                proc.stdin.flush()
            spy = None
            if profile is not None:  # py-spy samples the daemon over the fleet's run
                spy = subprocess.Popen(
                    [
                        str(Path(sys.executable).parent / "py-spy"),
                        "record",
                        "--format",
                        "raw",
                        "--nonblocking",
                        "-d",
                        str(int(seconds)),
                        "-o",
                        str(profile),
                        "-p",
                        str(daemon.pid),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            assert broker.proc is not None
            others = _CpuShares(broker.proc.pid, [proc.pid for proc in fleet])
            cpu_0, wall_0, peak_rss = None, 0.0, 0.0
            while time.time() < start_t_s + seconds + DRAIN_S:
                time.sleep(1.0)
                if cpu_0 is None and time.time() >= start_t_s:
                    cpu_0, wall_0 = cpu_s(daemon.pid), time.monotonic()
                    others.start()
                elif cpu_0 is not None and time.time() <= start_t_s + seconds:
                    others.sample()
                peak_rss = max(peak_rss, memory_mb(daemon.pid)[0])
            assert cpu_0 is not None
            result.cpu_pct = 100 * (cpu_s(daemon.pid) - cpu_0) / (time.monotonic() - wall_0)
            result.broker_cpu_pct, result.fleet_cpu_pct, result.machine_cpu_pct = others.shares()
            result.rss_mb, result.peak_mb = (
                memory_mb(daemon.pid)[0],
                max(peak_rss, memory_mb(daemon.pid)[1]),
            )
            stats = [_fleet_stats(proc) for proc in fleet]
            result.fleet_messages = sum(s.messages for s in stats)
            result.fleet_max_lag_s = max(s.max_lag_s for s in stats)
            if spy is not None:
                spy.wait(timeout=60)
            stopped_at = time.monotonic()
            daemon.send_signal(signal.SIGTERM)
            try:
                result.exit_code = daemon.wait(timeout=60)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
            result.stop_s = time.monotonic() - stopped_at
            time.sleep(0.5)
            collector.stop()
            _summarize(result, collector, tmp, publishers, start_t_s)
            result.windows, result.dropped = _daemon_figures(out.read_text(), err.read_text())
            if logs is not None:
                logs.mkdir(parents=True, exist_ok=True)
                (logs / f"daemon-{devices}.log").write_text(out.read_text() + err.read_text())
        finally:
            for proc in fleet:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            if daemon is not None and daemon.poll() is None:
                daemon.kill()
                daemon.wait()
            broker.stop()
    return result


class _CpuShares:
    """CPU of the broker and the fleet (% of one core) and of the machine (% of all cores)
    from the start of the fleet's run to its last sample (the fleet exits at its end)."""

    def __init__(self, broker: int, fleet: list[int]) -> None:
        self._pids = [broker, *fleet]
        self._first: tuple[float, list[float], float, float] | None = None
        self._last: tuple[float, list[float], float, float] | None = None

    def _now(self) -> tuple[float, list[float], float, float]:
        busy, total = _machine_ticks()
        return time.monotonic(), [cpu_s(pid) for pid in self._pids], busy, total

    def start(self) -> None:
        self._first = self._now()

    def sample(self) -> None:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            self._last = self._now()

    def shares(self) -> tuple[float, float, float]:
        if self._first is None or self._last is None:
            return float("nan"), float("nan"), float("nan")
        (w0, c0, b0, t0), (w1, c1, b1, t1) = self._first, self._last
        used = [100 * (b - a) / (w1 - w0) for a, b in zip(c0, c1, strict=True)]
        return used[0], sum(used[1:]), 100 * (b1 - b0) / (t1 - t0)


def _machine_ticks() -> tuple[float, float]:
    """(busy, total) CPU ticks of the machine since boot (/proc/stat; idle and iowait idle)."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return float(sum(ticks) - ticks[3] - ticks[4]), float(sum(ticks))


def _fleet_stats(proc: subprocess.Popen[str]) -> FleetStats:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    proc.wait(timeout=60)
    return FleetStats(**json.loads(line))


def _daemon_figures(stdout: str, stderr: str) -> tuple[int, dict[str, int]]:
    """Windows made (closing summary) and what was logged as dropped."""
    session = re.search(r"Session: (\d+) beats, (\d+) windows", stdout)
    windows = int(session.group(2)) if session else 0
    dropped: dict[str, int] = {}
    for match in re.finditer(r"(\d+) metrics messages not sent at the stop", stderr):
        dropped["mqtt metrics at the stop"] = int(match.group(1))
    for match in re.finditer(r"(\d+) metrics messages dropped", stderr):
        dropped["mqtt metrics"] = dropped.get("mqtt metrics", 0) + int(match.group(1))
    for match in re.finditer(r"output (\S+): (\d+) windows and (\d+) beats dropped", stderr):
        dropped[f"{match.group(1)} queue windows"] = int(match.group(2))
    beats = sum(
        int(m.group(1)) for m in re.finditer(r"beats dropped \(\w+\), (\d+) so far", stderr)
    )
    if beats:
        dropped["beats (guard)"] = beats
    return windows, dropped


def _summarize(
    result: Result, collector: Collector, tmp: Path, publishers: int, start_t_s: float
) -> None:
    """Latencies, backlog and counts from the collector and the fleet's beat times."""
    result.published = len(collector.arrivals)
    fleets = [np.load(tmp / f"fleet-{k}.npz") for k in range(publishers)]
    slot_of: dict[str, int] = {}
    beats_of: dict[str, np.ndarray] = {}
    for data in fleets:
        bounds, t_all = data["bounds"], data["t_s"]  # each npz lookup reads the array again
        for j, device in enumerate(data["devices"].tolist()):
            slot_of[device] = j % SLOTS
            beats_of[device] = t_all[bounds[j] : bounds[j + 1]]
    end = start_t_s + result.seconds
    arrive, t_end, beat_pub, deciding_pub = [], [], [], []
    for arrival, payload in collector.arrivals:
        doc = orjson.loads(payload)
        device, window_end = doc["device"], doc["t_end_s"]
        times = beats_of[device]
        after = int(np.searchsorted(times, window_end, side="right"))
        deciding = after + LOOKAHEAD - 1  # the 5th beat after the window's end lets it out
        if deciding < LOCAL - 1:
            result.startup += 1  # the device's first beats: decided once LOCAL are in
            continue
        slot = slot_of[device]
        due = start_t_s + _due(times[min(deciding, times.size - 1)] - start_t_s, slot)
        if deciding >= times.size or due > end:
            result.end_flushed += 1  # its deciding beat was never sent: out at the end flush
            continue
        arrive.append(arrival)
        t_end.append(window_end)
        beat_pub.append(start_t_s + _due(times[max(after - 1, 0)] - start_t_s, slot))
        deciding_pub.append(due)
    arrive_a, t_end_a, deciding_a = np.array(arrive), np.array(t_end), np.array(deciding_pub)
    late = arrive_a - t_end_a
    result.end_p50_s, result.end_p99_s = _percentiles(late)
    result.beat_p50_s, result.beat_p99_s = _percentiles(arrive_a - np.array(beat_pub))
    result.floor_p50_s, result.floor_p99_s = _percentiles(deciding_a - t_end_a)
    result.own_p50_s, result.own_p99_s = _percentiles(arrive_a - deciding_a)
    started = t_end_a >= start_t_s + STARTED_S
    result.own_started_p50_s, result.own_started_p99_s = _percentiles(
        arrive_a[started] - deciding_a[started]
    )
    third = result.seconds / 3
    first = late[t_end_a < start_t_s + third]
    last_ = late[t_end_a >= end - third]
    result.latency_thirds_s = (
        float(np.median(first)) if first.size else float("nan"),
        float(np.median(last_)) if last_.size else float("nan"),
    )
    stored = [
        (t, n - _latest(collector.retained, t))
        for t, n in collector.stored
        if start_t_s <= t <= end
    ]
    early = [n for t, n in stored if t < start_t_s + third]
    late_n = [n for t, n in stored if t >= end - third]
    result.stored_thirds = (
        float(np.mean(early)) if early else float("nan"),
        float(np.mean(late_n)) if late_n else float("nan"),
    )


def _latest(samples: list[tuple[float, int]], t: float) -> int:
    """The last of ``samples`` (time, count) at or before ``t`` (0 before the first)."""
    return next((n for at, n in reversed(samples) if at <= t), 0)


def _due(s: float, slot: int) -> float:
    """When the fleet publishes a beat at scenario time ``s`` (speed 1): its device's first
    tick at or after it (tick j, due (j + 1) / SLOTS s, serves slot j mod SLOTS)."""
    m = max(int(np.ceil(s * SLOTS - 1e-9)), slot + 1)
    m += (slot + 1 - m) % SLOTS
    return m / SLOTS


# -- a publisher process ----------------------------------------------------------------------


class LoadPublisher:
    """A minimal MQTT 3.1.1 publisher for the load: CONNECT (clean session), then QoS 1
    PUBLISH packets, a tick's worth in one write; a thread reads and counts the PUBACKs.

    paho spends tens of microseconds of Python on each QoS 1 publish (packet, message info,
    a condition variable, the ack's bookkeeping); this spends a few, which is what lets two
    processes send 10,000 devices' beats a second on a busy 2-core machine.
    """

    def __init__(self, port: int, client_id: str) -> None:
        self._sock = socket.create_connection(("127.0.0.1", port))
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        cid = client_id.encode()
        body = b"\x00\x04MQTT\x04\x02\x00\x3c" + len(cid).to_bytes(2, "big") + cid
        self._sock.sendall(b"\x10" + remaining_length(len(body)) + body)
        connack = self._sock.recv(4)
        if len(connack) != 4 or connack[0] != 0x20 or connack[3] != 0:
            raise RuntimeError(f"broker refused the connection: {connack!r}")
        self._mid = 0
        self.acked = 0
        self._reader = threading.Thread(target=self._read_acks, daemon=True)
        self._reader.start()

    def _read_acks(self) -> None:
        received = 0
        while data := self._sock.recv(65536):
            received += len(data)
            self.acked = received // 4  # PUBACK: 0x40 0x02 <packet id>

    def publish(self, messages: list[tuple[str, bytes]]) -> None:
        """QoS 1 PUBLISH of each ``(topic, payload)``, in order, in one write."""
        packets = []
        for topic, payload in messages:
            self._mid = self._mid % 65535 + 1
            packets.append(publish_packet(topic, payload, qos=1, mid=self._mid))
        self._sock.sendall(b"".join(packets))

    def close(self) -> None:
        """DISCONNECT and close."""
        self._sock.sendall(b"\xe0\x00")
        self._sock.shutdown(socket.SHUT_WR)
        self._reader.join(timeout=5)
        self._sock.close()


def publisher(part: str, devices: int, seconds: float, scenario: str, port: int, out: Path) -> None:
    """One share of the fleet: build it, say ``ready``, read the start time, publish at QoS 1,
    print the `FleetStats` as JSON. Its beat times (epoch) go to ``out`` for the latencies."""
    k, of = (int(x) for x in part.split("/"))
    fleet = build_fleet(load_scenario(scenario), devices, until_s=seconds + 2, part=(k, of))
    client = LoadPublisher(port, f"bench-fleet-{k}")
    print("ready", flush=True)
    start_t_s = float(sys.stdin.readline())
    bounds = np.cumsum([0, *(len(b) for b in fleet)])
    np.savez(
        out,
        devices=np.array([b.device for b in fleet]),
        bounds=bounds,
        t_s=np.round(np.concatenate([b.t_s for b in fleet]) + start_t_s, 3),
    )

    async def publish(messages: list[tuple[str, bytes]]) -> None:
        client.publish(messages)

    stats = asyncio.run(
        run_fleet(
            fleet,
            publish=publish,
            prefix=PREFIX,
            speed=1.0,
            duration_s=seconds,
            start_t_s=start_t_s,
            clock=time.time,
            sleep=asyncio.sleep,
            origin=start_t_s,
        )
    )
    time.sleep(1.0)
    client.close()
    print(json.dumps({f: getattr(stats, f) for f in FleetStats.__slots__}), flush=True)


# -- output -------------------------------------------------------------------------------


def _row(r: Result) -> list[str]:
    dropped = ", ".join(f"{n} {k}" for k, n in r.dropped.items() if n) or "0"
    first, last = r.latency_thirds_s
    s_first, s_last = r.stored_thirds
    return [
        f"{r.devices:,}",
        f"{r.published:,} / {r.windows:,}",
        dropped,
        f"{r.end_p50_s:.2f} / {r.end_p99_s:.2f} s",
        f"{r.floor_p50_s:.2f} / {r.floor_p99_s:.2f} s",
        f"{r.own_p50_s:.2f} / {r.own_p99_s:.2f} s",
        f"{r.own_started_p50_s:.2f} / {r.own_started_p99_s:.2f} s",
        f"{r.beat_p50_s:.2f} / {r.beat_p99_s:.2f} s",
        f"{r.cpu_pct:.0f} %",
        f"{r.broker_cpu_pct:.0f} % / {r.fleet_cpu_pct:.0f} % / {r.machine_cpu_pct:.0f} %",
        f"{r.rss_mb:.0f} / {r.peak_mb:.0f} MB",
        f"{'grew' if r.backlog_grew else 'flat'} ({first:.1f}->{last:.1f} s, "
        f"{s_first:.0f}->{s_last:.0f} stored)",
        f"{r.stop_s:.1f} s (exit {r.exit_code})",
        f"{r.fleet_max_lag_s * 1000:.0f} ms",
        f"{r.startup:,} / {r.end_flushed:,}",
        "yes" if r.holds else "no",
        "yes" if r.keeps_up else "no",
    ]


HEADER = [
    "devices",
    "metrics published / windows made",
    "dropped",
    "window end -> published p50 / p99",
    "lookahead floor p50 / p99",
    "daemon's own delay p50 / p99",
    "own delay once every device runs p50 / p99",
    "beat published -> its window published p50 / p99",
    "daemon CPU (of one core)",
    "broker / fleet (of one core) / machine (of all cores) CPU",
    "RSS now / peak",
    "backlog (p50 first->last third, broker store)",
    "stop after SIGTERM",
    "fleet max lag",
    "windows left out: device's first 24 beats / out at the end flush",
    "holds (p99 <= 5 s)",
    "keeps up (own p99 <= 1 s)",
]


def main() -> None:
    """Run the benchmark for each N and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", default="100,1000,3000,10000", help="comma-separated Ns")
    parser.add_argument("--seconds", type=float, default=60.0, help="fleet run per N (issue: 300)")
    parser.add_argument("--publishers", type=int, default=2, help="fleet processes")
    parser.add_argument("--scenario", default="workday")
    parser.add_argument("--profile", type=Path, help="py-spy collapsed stacks of the daemon")
    parser.add_argument("--logs", type=Path, help="keep the daemon's output there")
    parser.add_argument("--publisher", help=argparse.SUPPRESS)  # internal: k/K
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.publisher:
        publisher(
            args.publisher, int(args.devices), args.seconds, args.scenario, args.port, args.out
        )
        return
    cpus = os.cpu_count()
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "?",
    )
    print(
        f"machine: {model}, {cpus} cores, load {os.getloadavg()[0]:.1f}; "
        f"Python {sys.version.split()[0]}"
    )
    print(
        f"fleet: {args.publishers} processes, QoS 1, scenario {args.scenario}, "
        f"{args.seconds:.0f} s per N"
    )
    results = []
    for n in (int(x) for x in args.devices.split(",")):
        result = run_one(n, args.seconds, args.publishers, args.scenario, args.profile, args.logs)
        results.append(result)
        print(
            " | ".join(f"{h}: {v}" for h, v in zip(HEADER, _row(result), strict=True)), flush=True
        )
        if n in BASELINE:
            print(f"    issue 13 baseline at {n:,}: {BASELINE[n]}", flush=True)
    print()
    print("| " + " | ".join(HEADER) + " |")
    print("|" + " --- |" * len(HEADER))
    for result in results:
        print("| " + " | ".join(_row(result)) + " |")
    held = [r.devices for r in results if r.holds]
    print(f"\nlargest N that holds: {max(held):,}" if held else "\nno N held")
    kept = [r.devices for r in results if r.keeps_up]
    print(f"largest N the daemon keeps up with: {max(kept):,}" if kept else "no N kept up")


if __name__ == "__main__":
    main()
