"""The shipped production broker config and ACL (deploy/mosquitto) stop one device from
writing into another's stream, with a real `vagus run` behind them.

The broker runs ``mosquitto-production.conf`` and ``acl`` as shipped, with only ports and
paths substituted (plus ``user root`` when the tests run as root, as in `tests.servers`).
User ``attacker`` may publish ``vagus/attacker/beats`` only: its publish to
``vagus/victim/beats`` is dropped by the broker, and a payload naming ``victim`` on its own
topic is refused by the daemon (``device_mismatch``). Its own beats do make metrics. Likewise
for feedback: ``vagus/attacker/feedback`` reaches a reader, ``vagus/victim/feedback`` does not.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiomqtt
import numpy as np
import pytest

from hrv import BeatBatch
from ingest import beats_topic, encode_beats, encode_feedback, feedback_topic
from tests.servers import Server, make_test_pki, require_binary

pytestmark = pytest.mark.integration

DEPLOY = Path(__file__).parents[2] / "deploy" / "mosquitto"
PASSWORDS = {"vagus": "daemon-pw", "homeassistant": "ha-pw", "attacker": "attacker-pw"}


def production_config(workdir: Path, port: int) -> str:
    """``mosquitto-production.conf`` with its port and paths pointing into ``workdir``."""
    text = (DEPLOY / "mosquitto-production.conf").read_text()
    substitutions = {
        "listener 8883": f"listener {port} 127.0.0.1",
        "/mosquitto/config/passwd": str(workdir / "passwd"),
        "/mosquitto/config/acl": str(workdir / "acl"),
        "/mosquitto/data/": f"{workdir / 'data'}/",
        "/mosquitto/config/certs/ca.crt": str(workdir / "ca.crt"),
        "/mosquitto/config/certs/broker.crt": str(workdir / "server.crt"),
        "/mosquitto/config/certs/broker.key": str(workdir / "server.key"),
    }
    for shipped, here in substitutions.items():
        assert shipped in text, f"the shipped config no longer has {shipped!r}"
        text = text.replace(shipped, here)
    return ("user root\n" if os.geteuid() == 0 else "") + text


@dataclass
class ProductionMosquitto(Server):
    """Mosquitto running the shipped production config and ACL."""

    def __post_init__(self) -> None:
        make_test_pki(self.workdir)
        (self.workdir / "data").mkdir()
        (self.workdir / "acl").write_text((DEPLOY / "acl").read_text())
        passwd = self.workdir / "passwd"
        passwd.touch(mode=0o600)
        for user, password in PASSWORDS.items():
            subprocess.run(
                [require_binary("mosquitto_passwd"), "-b", str(passwd), user, password],
                check=True,
                capture_output=True,
            )
        (self.workdir / "mosquitto.conf").write_text(production_config(self.workdir, self.port))

    def command(self) -> list[str]:
        return [self.binary, "-c", str(self.workdir / "mosquitto.conf")]

    @contextlib.asynccontextmanager
    async def client(self, user: str, identifier: str) -> AsyncIterator[aiomqtt.Client]:
        """A client logged in as ``user`` over TLS (the test CA)."""
        context = ssl.create_default_context(cafile=str(self.workdir / "ca.crt"))
        async with aiomqtt.Client(
            "localhost",
            self.port,
            identifier=identifier,
            username=user,
            password=PASSWORDS[user],
            tls_context=context,
        ) as client:
            yield client


def beats(device: str, t0_s: float, n: int) -> list[bytes]:
    """``n`` beats of ``device`` 0.8 s apart from ``t0_s``, as messages of 50 beats."""
    t_s = t0_s + 0.8 * np.arange(n)
    rr_ms = 800.0 + 40.0 * np.sin(np.arange(n) / 3.0)
    return [
        encode_beats(BeatBatch(device=device, t_s=t_s[i : i + 50], rr_ms=rr_ms[i : i + 50]))
        for i in range(0, n, 50)
    ]


def daemon_config(tmp_path: Path, broker: ProductionMosquitto) -> Path:
    (tmp_path / "daemon-password").write_text(PASSWORDS["vagus"])
    path = tmp_path / "config.toml"
    path.write_text(
        f'state_dir = "{tmp_path / "state"}"\n'
        "[engine]\nwindow_s = 30\nstep_s = 5\n"
        "[sources.mqtt_beats]\nenabled = true\n"
        "[mqtt]\n"
        f'host = "localhost"\nport = {broker.port}\n'
        f'ca_file = "{broker.workdir / "ca.crt"}"\n'
        f'username = "vagus"\npassword_file = "{tmp_path / "daemon-password"}"\n'
        'prefix = "vagus"\ndiscovery_prefix = "homeassistant"\n'
        "backoff_base_s = 0.2\nbackoff_cap_s = 1\n"
        f'[files]\ndir = "{tmp_path / "session"}"\n'
        "[console]\nenabled = false\n"
    )
    return path


async def test_acl_stops_impersonation(tmp_path: Path) -> None:
    """Through the shipped ACL and a real daemon, ``attacker`` cannot make ``victim`` data:
    its publish to victim's topic never reaches a reader of beats, its payload claiming to
    be victim is refused as device_mismatch, and no victim topic, file or metric appears,
    while its own beats give ``vagus/attacker/metrics``."""
    (tmp_path / "broker").mkdir()
    broker = ProductionMosquitto(tmp_path / "broker", require_binary("mosquitto"))
    broker.start()
    seen: list[tuple[str, str]] = []  # (who, topic)
    stderr_lines: list[str] = []
    try:
        async with (
            broker.client("homeassistant", "ha") as ha,
            broker.client("vagus", "beats-watcher") as watcher,
            broker.client("attacker", "attacker") as attacker,
        ):
            for topic in ("vagus/+/metrics", "vagus/+/trigger", "vagus/+/state", "vagus/status"):
                await ha.subscribe(topic, qos=1)
            await watcher.subscribe("vagus/+/beats", qos=1)
            await watcher.subscribe("vagus/+/feedback", qos=1)

            async def collect(who: str, client: aiomqtt.Client) -> None:
                async for message in client.messages:
                    seen.append((who, str(message.topic)))

            collectors = [
                asyncio.create_task(collect("ha", ha), name="ha"),
                asyncio.create_task(collect("watcher", watcher), name="watcher"),
            ]
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "vagus.cli",
                "run",
                "--config",
                str(daemon_config(tmp_path, broker)),
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
            assert proc.stderr is not None
            stderr = proc.stderr

            async def read_stderr() -> None:
                while line := await stderr.readline():
                    stderr_lines.append(line.decode())

            reader = asyncio.create_task(read_stderr(), name="stderr")
            try:
                async with asyncio.timeout(30):
                    while not any("beats intake: receiving" in ln for ln in stderr_lines):
                        assert proc.returncode is None, "".join(stderr_lines)
                        await asyncio.sleep(0.05)
                t0_s = time.time() - 300
                for payload in beats("victim", t0_s, 300):  # denied by the ACL: dropped
                    await attacker.publish("vagus/victim/beats", payload, qos=1)
                for payload in beats("victim", t0_s, 300):  # allowed topic, foreign payload
                    await attacker.publish(beats_topic("vagus", "attacker"), payload, qos=1)
                for payload in beats("attacker", t0_s, 300):
                    await attacker.publish(beats_topic("vagus", "attacker"), payload, qos=1)
                answer = encode_feedback("false_alarm")
                await attacker.publish("vagus/victim/feedback", answer, qos=1)  # dropped
                await attacker.publish(feedback_topic("vagus", "attacker"), answer, qos=1)
                wanted = {"vagus/attacker/metrics", "vagus/attacker/feedback"}
                async with asyncio.timeout(30):
                    while not wanted <= {t for _, t in seen}:  # noqa: ASYNC110
                        await asyncio.sleep(0.1)
                await asyncio.sleep(1.0)
            finally:
                if proc.returncode is None:
                    proc.send_signal(signal.SIGTERM)
                await asyncio.wait_for(proc.wait(), timeout=20)
                await reader
                for task in collectors:
                    task.cancel()
                await asyncio.gather(*collectors, return_exceptions=True)
    finally:
        broker.stop()
    log = "".join(stderr_lines)
    assert proc.returncode == 0, log
    topics = {topic for _, topic in seen}
    assert "vagus/attacker/metrics" in topics
    assert ("watcher", "vagus/attacker/beats") in seen, "the watcher can read beats"
    assert ("watcher", "vagus/attacker/feedback") in seen, "a strap may answer for itself"
    assert not [t for t in topics if "victim" in t], topics
    refusals = [json.loads(ln)["message"] for ln in stderr_lines if "refused a message" in ln]
    assert any("device_mismatch" in m and "vagus/attacker/beats" in m for m in refusals), log
    session = tmp_path / "session"
    files = [p for p in session.rglob("*") if p.is_file()]
    assert files, "the attacker's own beats are stored"
    assert not any("victim" in str(p.relative_to(session)) for p in files)
    assert not any(b"victim" in p.read_bytes() for p in files)
