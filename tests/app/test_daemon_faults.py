"""`vagus run` under faults: poison input, SIGTERM with a backlog of beats (a full disk, with
its recovery, is in the standing fault suite, tests/faults, which uses the helpers here).

Each test runs the real daemon as a subprocess against a real Mosquitto,
feeds it raw beats over MQTT (`ingest.beats_message`), and watches what it
publishes (``<prefix>/+/metrics``), what it logs (JSON lines on stderr) and
what it stores (the CSV session files). Beat times are near the wall clock:
the daemon drops beats more than 300 s ahead of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import ctypes
import errno
import json
import math
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import aiomqtt
import numpy as np
import pytest

from hrv import BeatBatch
from ingest.beats_message import MAX_PAYLOAD_BYTES, beats_topic, encode_beats
from tests.servers import Mosquitto, require_binary
from vagus.pipeline import MIN_SPACING_S

pytestmark = [pytest.mark.integration, pytest.mark.slow]

STOP_LIMIT_S = 5.0
"""SIGTERM to exit: what systemd and the README promise."""

GOOD = "good-1"


# -- the daemon ------------------------------------------------------------------------------


def write_config(tmp_path: Path, port: int, *, files_dir: Path, state_dir: Path) -> Path:
    """A config with MQTT beats in, metrics out, session files; topics unique to this test."""
    name = tmp_path.name.replace("_", "-")[-40:]
    path = tmp_path / "config.toml"
    path.write_text(
        f"""state_dir = "{state_dir}"
[sources.mqtt_beats]
enabled = true
[engine]
window_s = 30
step_s = 5
[mqtt]
host = "127.0.0.1"
port = {port}
client_id = "faults-{name}"
prefix = "faults-{name}"
backoff_base_s = 0.1
backoff_cap_s = 1.0
[files]
dir = "{files_dir}"
[console]
enabled = false
[log]
level = "info"
"""
    )
    return path


def prefix_of(config: Path) -> str:
    """The topic prefix `write_config` chose."""
    return f"faults-{config.parent.name.replace('_', '-')[-40:]}"


class DaemonProcess:
    """``vagus run --config CONFIG`` with stderr (JSON log lines) in a file."""

    def __init__(self, config: Path, log_path: Path) -> None:
        self.config = config
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "vagus.cli", "run", "--config", str(self.config)],
                stdout=subprocess.DEVNULL,
                stderr=log,
            )

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def lines(self) -> list[dict[str, str]]:
        """The log so far, one dict per line (a line that is not JSON as its ``message``)."""
        if not self.log_path.exists():
            return []
        out = []
        for raw in self.log_path.read_text(errors="replace").splitlines():
            try:
                entry = json.loads(raw)
            except ValueError:
                entry = {"level": "?", "message": raw}
            out.append(entry if isinstance(entry, dict) else {"level": "?", "message": raw})
        return out

    def messages(self) -> list[str]:
        return [str(line.get("message", "")) for line in self.lines()]

    def tail(self, n: int = 40) -> str:
        return "\n".join(self.messages()[-n:])

    async def wait_for_log(self, text: str, *, timeout_s: float = 20.0) -> None:
        """Until a log line contains ``text``; fails when the daemon ends first."""
        await eventually(
            lambda: any(text in m for m in self.messages()),
            timeout_s=timeout_s,
            what=f"log line with {text!r}",
            alive=self,
        )

    async def ready(self) -> None:
        """Subscribed to the beats and connected for publishing."""
        await self.wait_for_log("beats intake: receiving")
        await self.wait_for_log("mqtt connected to")

    async def sigterm(self) -> tuple[int, float]:
        """SIGTERM; the exit code and the seconds until the process ended (killed after 15 s)."""
        assert self.proc is not None
        sent = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        ended = await asyncio.to_thread(self._wait_exit)  # timed in the thread: the test's
        return self.proc.returncode, ended - sent  # own loop may be busy publishing

    def _wait_exit(self) -> float:
        assert self.proc is not None
        try:
            self.proc.wait(15.0)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return time.monotonic()

    def kill(self) -> None:
        if self.running:
            assert self.proc is not None
            self.proc.kill()
            self.proc.wait()


async def eventually(
    check: Callable[[], bool],
    *,
    timeout_s: float,
    what: str,
    alive: DaemonProcess | None = None,
) -> None:
    """Poll ``check`` until it holds; fail after ``timeout_s`` or when ``alive`` ends."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if alive is not None and not alive.running:
            pytest.fail(f"the daemon ended while waiting for {what}:\n{alive.tail()}")
        if time.monotonic() > deadline:
            tail = "" if alive is None else f"\n{alive.tail()}"
            pytest.fail(f"no {what} within {timeout_s:g} s{tail}")
        await asyncio.sleep(0.05)


@contextlib.contextmanager
def stopped_at_exit(*daemons: DaemonProcess) -> Iterator[None]:
    """Kill whatever daemon a failing test left running."""
    try:
        yield
    finally:
        for daemon in daemons:
            daemon.kill()


# -- beats and metrics -----------------------------------------------------------------------


class Heart:
    """Consecutive beats of one device (RR about 800 ms, varying), handed out by time."""

    def __init__(self, device: str, start_t_s: float, seed: int) -> None:
        self.device = device
        self._rng = np.random.default_rng(seed)
        self._t_s = start_t_s
        self._next_rr_ms = self._rr()
        self._first = True

    def _rr(self) -> float:
        wave = 60.0 * math.sin(self._t_s / 10.0 * 2 * math.pi)
        return float(800.0 + wave + self._rng.normal(0.0, 20.0))

    def until(self, end_t_s: float) -> BeatBatch:
        """The beats after the last one handed out, up to ``end_t_s``."""
        t, rr = [], []
        while self._t_s + self._next_rr_ms / 1000.0 <= end_t_s:
            self._t_s += self._next_rr_ms / 1000.0
            t.append(self._t_s)
            rr.append(self._next_rr_ms)
            self._next_rr_ms = self._rr()
        gap = np.zeros(len(t), dtype=np.bool_)
        if self._first and t:
            gap[0] = True
            self._first = False
        return BeatBatch(device=self.device, t_s=np.array(t), rr_ms=np.array(rr), gap=gap)


def batch(device: str, t_s: list[float], rr_ms: list[float]) -> bytes:
    """A message of these beats (none flagged as a gap)."""
    return encode_beats(
        BeatBatch(
            device=device,
            t_s=np.array(t_s, dtype=np.float64),
            rr_ms=np.array(rr_ms, dtype=np.float64),
            gap=np.zeros(len(t_s), dtype=np.bool_),
        )
    )


class MetricsSeen:
    """Arrival times (monotonic) of ``<prefix>/<device>/metrics`` messages, by device."""

    def __init__(self) -> None:
        self.arrivals: list[tuple[float, str]] = []

    def count(self, device: str, *, since: float = -math.inf) -> int:
        return sum(1 for at, d in self.arrivals if d == device and at >= since)


@contextlib.asynccontextmanager
async def watching_metrics(port: int, prefix: str) -> AsyncIterator[MetricsSeen]:
    """Subscribe to every device's metrics for the body's duration."""
    seen = MetricsSeen()
    async with aiomqtt.Client("127.0.0.1", port) as client:
        await client.subscribe(f"{prefix}/+/metrics", qos=0)

        async def collect() -> None:
            async for message in client.messages:
                seen.arrivals.append((time.monotonic(), message.topic.value.split("/")[-2]))

        task = asyncio.create_task(collect(), name="metrics-watcher")
        try:
            yield seen
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def stream_in_real_time(
    client: aiomqtt.Client,
    prefix: str,
    heart: Heart,
    *,
    duration_s: float,
    sent: list[bytes],
    stop: asyncio.Event | None = None,
) -> None:
    """One message a second with the beats up to now, for ``duration_s`` (or until ``stop``)."""
    topic = beats_topic(prefix, heart.device)
    end = time.monotonic() + duration_s
    while time.monotonic() < end and not (stop is not None and stop.is_set()):
        payload = encode_beats(heart.until(time.time()))
        sent.append(payload)
        await client.publish(topic, payload, qos=1)
        await asyncio.sleep(1.0)


async def backfill(client: aiomqtt.Client, prefix: str, heart: Heart, *, seconds: int) -> None:
    """The last ``seconds`` of ``heart``'s beats, in 1-s messages sent at once."""
    topic = beats_topic(prefix, heart.device)
    now = time.time()
    for k in range(seconds, 0, -1):
        await client.publish(topic, encode_beats(heart.until(now - k + 1)), qos=1)


# -- 1. poison while a good device streams ---------------------------------------------------


def poison_messages(
    prefix: str, good_sent: list[bytes], now: float
) -> tuple[list[tuple[str, bytes]], Counter[str], dict[tuple[str, str], int]]:
    """The poison: (topic, payload) pairs, the intake refusals expected by reason, and the
    beats the pipeline should drop by (device, reason)."""
    out: list[tuple[str, bytes]] = []
    refused: Counter[str] = Counter()
    dropped: dict[tuple[str, str], int] = {}

    def topic(device: str) -> str:
        return f"{prefix}/{device}/beats"

    # On the good device's own topic: a QoS 1 redelivery (the same message again) and an older
    # message with beats it never sent, between the ones it did: both are duplicates.
    last = good_sent[-1]
    out += [(topic(GOOD), last), (topic(GOOD), last)]
    n_last = len(json.loads(last)["t_s"])
    older_t = [now - 20.4, now - 19.6, now - 18.8]
    out.append((topic(GOOD), batch(GOOD, older_t, [800.0] * 3)))
    dropped[(GOOD, "duplicate")] = 2 * n_last + 3

    # RR not finite or not positive: NaN, null, 0, negative.
    rr_device = "poison-rr"
    for k, rr in enumerate([math.nan, None, 0.0, -800.0]):
        t = [now - 50 + 5 * k + 0.8 * i for i in range(3)]
        payload = batch(rr_device, t, [math.nan if rr is None else rr] * 3)
        if rr is None:
            payload = payload.replace(b"NaN", b"null")
        out.append((topic(rr_device), payload))
    dropped[(rr_device, "rr_out_of_range")] = 12
    for _ in range(2):
        out.append((topic("poison-time"), batch("poison-time", [math.nan] * 3, [800.0] * 3)))
    dropped[("poison-time", "bad_time")] = 6

    # Beats an hour ahead of the wall clock.
    for k in range(3):
        t = [now + 3600 + 5 * k + 0.8 * i for i in range(3)]
        out.append((topic("poison-future"), batch("poison-future", t, [800.0] * 3)))
    dropped[("poison-future", "future")] = 9

    # Dense beats that fit in a message: 4,000 beats 1 ms apart (RR in range).
    dense = batch("poison-dense", [now - 60 + 0.001 * i for i in range(4000)], [800.0] * 4000)
    out.append((topic("poison-dense"), dense))
    kept, last_t = 0, -math.inf
    for dense_t in json.loads(dense)["t_s"]:  # the times as the daemon decodes them
        if dense_t - last_t >= MIN_SPACING_S:
            kept, last_t = kept + 1, dense_t
    dropped[("poison-dense", "too_dense")] = 4000 - kept

    # A dense message that does not fit: 60,000 beats in 60 s is over the payload cap.
    huge_t = np.round(now - 120 + np.arange(60_000) * 0.001, 3).tolist()
    huge = batch("poison-huge", huge_t, [800.0] * 60_000)
    assert len(huge) > MAX_PAYLOAD_BYTES
    out += [(topic("poison-huge"), huge)] * 2
    refused["too_large"] += 2

    # Clock jumps: 1970, now, 1970 again, now again (three new segments, no drop).
    for t0 in (1000.0, now - 40, 2000.0, now - 30):
        t = [t0 + 0.8 * i for i in range(3)]
        out.append((topic("poison-jump"), batch("poison-jump", t, [800.0] * 3)))

    # Refused by the intake.
    hijack = batch(GOOD, [now - 10.0], [800.0])  # names the good device, on another topic
    out += [(topic("poison-mismatch"), hijack)] * 3
    refused["device_mismatch"] += 3
    for device in ("bad device", "gerät", "x" * 65):
        out.append((topic(device), batch("ok", [now - 10.0], [800.0])))
    refused["bad_device"] += 3
    out += [(topic("poison-deep"), b"[" * 1000 + b"]" * 1000)] * 2
    refused["too_deep"] += 2
    not_utf8 = b'{"schema":1,"device":"poison-utf8\xff","t_s":[],"rr_ms":[],"gap":[]}'
    out += [(topic("poison-utf8"), not_utf8)] * 2
    refused["not_utf8"] += 2
    return out, refused, dropped


async def test_poison_is_refused_counted_and_logged_once_while_a_good_device_streams(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    """While a good device streams 1-s batches for a minute, poison (QoS 1 redelivery and an
    older message on its topic; RR NaN/null/0/negative; NaN times; beats an hour ahead;
    4,000 beats in 4 s; 60,000 beats in one oversize message; clock jumps to 1970 and back;
    a payload naming another device; invalid device ids in the topic; JSON nested 1,000
    deep; non-UTF-8) does not stop the daemon or the good device's metrics; each reason is
    logged once (not per message), nothing is logged as an error, the closing log counts
    the drops by reason, and SIGTERM ends the daemon with 0 within 5 s."""
    config = write_config(
        tmp_path, mosquitto.port, files_dir=tmp_path / "session", state_dir=tmp_path / "state"
    )
    prefix = prefix_of(config)
    daemon = DaemonProcess(config, tmp_path / "daemon.log")
    good = Heart(GOOD, time.time() - 40, seed=1)
    good_sent: list[bytes] = []
    with stopped_at_exit(daemon):
        async with (
            watching_metrics(mosquitto.port, prefix) as metrics,
            aiomqtt.Client("127.0.0.1", mosquitto.port) as client,
        ):
            daemon.start()
            await daemon.ready()
            await backfill(client, prefix, good, seconds=35)
            streaming = asyncio.create_task(
                stream_in_real_time(client, prefix, good, duration_s=60, sent=good_sent)
            )
            await eventually(
                lambda: metrics.count(GOOD) > 0, timeout_s=15, what="good metrics", alive=daemon
            )
            await asyncio.sleep(5.0)  # the poison comes while the good device streams
            poison, refused, dropped = poison_messages(prefix, good_sent, time.time())
            for topic, payload in poison:
                await client.publish(topic, payload, qos=1)
            poisoned_at = time.monotonic()
            await streaming
            after_poison_s = time.monotonic() - poisoned_at
            good_after = metrics.count(GOOD, since=poisoned_at)
            assert daemon.running, daemon.tail()
            code, stop_s = await daemon.sigterm()

    print(
        f"\npoison: {len(poison)} messages; good metrics after the poison: {good_after} "
        f"in {after_poison_s:.0f} s; stop after SIGTERM {stop_s:.2f} s, exit {code}"
    )
    messages = daemon.messages()
    assert code == 0, daemon.tail()
    assert stop_s < STOP_LIMIT_S
    # A window per 5 s, delivered in bursts of 2-3 (artifact blocks of 16 beats).
    assert good_after >= after_poison_s / 5 - 4, (good_after, after_poison_s)
    bad = [line for line in daemon.lines() if line.get("level") in ("error", "critical", "?")]
    assert not bad, bad

    for reason in refused:
        said = [m for m in messages if "refused a message" in m and f": {reason} (" in m]
        assert len(said) == 1, (reason, said)
    for device, reason in dropped:
        said = [m for m in messages if m.startswith(f"{device}: beats dropped ({reason})")]
        assert len(said) == 1, (device, reason, said)
    jumps = [m for m in messages if m.startswith("poison-jump: beat times jumped")]
    assert len(jumps) == 1, jumps

    (stopped,) = [m for m in messages if m.startswith("beats intake stopped")]
    for reason, n in refused.items():
        assert f"{reason} {n}" in stopped, (reason, n, stopped)
    expected: dict[str, dict[str, int]] = {}
    for (device, reason), n in dropped.items():
        expected.setdefault(device, {})[reason] = n
    for device, reasons in expected.items():
        text = ", ".join(f"{n} {reason}" for reason, n in sorted(reasons.items()))
        assert f"{device}: beats dropped: {text}" in messages, (device, text)


# -- 2. a full disk (its cases: tests/faults/test_05_full_disks.py, test_06_timeseries.py) --

_libc = ctypes.CDLL(None, use_errno=True)


@contextlib.contextmanager
def small_tmpfs(directory: Path, size: str = "64k") -> Iterator[Path]:
    """A tmpfs of ``size`` mounted on ``directory`` for the body; skipped without the right
    to mount (EPERM), except under CI=true where that fails the test."""
    directory.mkdir(parents=True, exist_ok=True)
    rc = _libc.mount(b"tmpfs", os.fsencode(directory), b"tmpfs", 0, f"size={size}".encode())
    if rc != 0:
        err = ctypes.get_errno()
        message = f"cannot mount a tmpfs on {directory}: {os.strerror(err)}"
        if err == errno.EPERM and os.environ.get("CI") != "true":
            pytest.skip(message)
        pytest.fail(message, pytrace=False)
    try:
        yield directory
    finally:
        if _libc.umount2(os.fsencode(directory), 0) != 0:
            _libc.umount2(os.fsencode(directory), 2)  # MNT_DETACH: never leave it mounted


def fill(directory: Path) -> int:
    """Fill the file system of ``directory`` with one file; the bytes written."""
    written = 0
    chunk = b"\0" * 4096
    with (directory / "filler").open("wb", buffering=0) as f:
        for size in (4096, 512, 1):
            try:
                while True:
                    written += f.write(chunk[:size])
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
    return written


# -- 3. SIGTERM with a backlog ---------------------------------------------------------------

BACKLOG_DEVICES = 6
BACKLOG_BATCHES = 500  # per device: 3,000 messages in all
SIGTERM_AFTER = 1000


@pytest.fixture
def queueing_mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    """A Mosquitto of its own that queues 10,000 messages per session (its default, 1,000,
    would drop most of a 3,000-message backlog while the daemon is away)."""
    server = Mosquitto(
        tmp_path_factory.mktemp("mosquitto-queue"),
        require_binary("mosquitto"),
        options=("max_queued_messages 10000",),
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


def stored_beats(session: Path) -> list[tuple[str, float]]:
    """Every (device, t_s) row of ``beats.csv``."""
    path = session / "beats.csv"
    if not path.exists():
        return []
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    return [(row[0], float(row[1])) for row in rows[1:] if len(row) == 4]


async def test_sigterm_with_a_backlog_loses_no_beat(
    tmp_path: Path, queueing_mosquitto: Mosquitto
) -> None:
    """3,000 QoS 1 beats messages (6 devices, consecutive 1-s batches) published as fast as
    possible, SIGTERM after the first 1,000, the rest published while the daemon stops and
    is away, then the daemon started again: every published beat is in the session files
    of the two runs (duplicates allowed, counted), and each run stops within 5 s with 0."""
    broker = queueing_mosquitto
    session = tmp_path / "session"
    config = write_config(tmp_path, broker.port, files_dir=session, state_dir=tmp_path / "state")
    prefix = prefix_of(config)
    first = DaemonProcess(config, tmp_path / "daemon-1.log")
    second = DaemonProcess(config, tmp_path / "daemon-2.log")
    start = time.time() - BACKLOG_BATCHES - 5
    hearts = [Heart(f"dev-{i}", start, seed=10 + i) for i in range(BACKLOG_DEVICES)]
    messages = [
        (beats_topic(prefix, heart.device), encode_beats(heart.until(start + k + 1)))
        for k in range(BACKLOG_BATCHES)
        for heart in hearts
    ]
    published: set[tuple[str, float]] = set()
    for _, payload in messages:
        body = json.loads(payload)
        published.update((body["device"], t) for t in body["t_s"])

    with stopped_at_exit(first, second):
        first.start()
        await first.ready()
        stops: list[tuple[int, float]] = []
        stopping: asyncio.Task[tuple[int, float]] | None = None
        began = time.monotonic()
        async with aiomqtt.Client("127.0.0.1", broker.port, max_inflight_messages=100) as client:
            for i in range(0, len(messages), 100):
                chunk = messages[i : i + 100]
                await asyncio.gather(*(client.publish(t, p, qos=1) for t, p in chunk))
                if stopping is None and i + len(chunk) >= SIGTERM_AFTER:
                    stopping = asyncio.create_task(first.sigterm())
        publish_s = time.monotonic() - began
        assert stopping is not None
        stops.append(await stopping)
        second.start()
        await second.ready()

        def all_stored() -> bool:
            return published <= set(stored_beats(session))

        with contextlib.suppress(pytest.fail.Exception):
            await eventually(all_stored, timeout_s=60, what="every beat stored", alive=second)
        await asyncio.sleep(2.0)  # idle: anything still coming would be a duplicate
        stops.append(await second.sigterm())

    rows = [row for row in stored_beats(session) if row[0].startswith("dev-")]
    unique = set(rows)
    lost = len(published - unique)
    duplicates = len(rows) - len(unique)
    print(
        f"\nbacklog: published {len(published)} beats, stored {len(unique)} unique, "
        f"lost {lost}, duplicates {duplicates}"
        f"\nbacklog: {len(messages)} messages published in {publish_s:.1f} s; stops after "
        f"SIGTERM {', '.join(f'{s:.2f} s (exit {c})' for c, s in stops)}"
    )
    assert [c for c, _ in stops] == [0, 0], first.tail() + second.tail()
    assert all(s < STOP_LIMIT_S for _, s in stops), stops
    assert unique - published == set()
    assert lost == 0, sorted(published - unique)[:10]
