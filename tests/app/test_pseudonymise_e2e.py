"""With ``[privacy] pseudonymise = true``, a simulated strap's real name never leaves the
daemon: not in MQTT topics or payloads (discovery included), not in the session files, not
in the daemon's log at debug level; only the 0600 mapping file in the state dir holds it."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import aiomqtt
import pytest

from tests.servers import Mosquitto
from vagus.pseudonym import pseudonym

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REAL = "demo-strap"
"""The demo scenario's device name; the devices are demo-strap-1 and demo-strap-2."""


async def test_real_device_names_never_leave_the_daemon(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    """Two simulated straps at high speed: every topic, payload, file name, file and log
    line carries only the pseudonyms, which are the keyed hashes of the real names."""
    key = bytes(range(32))
    key_file = tmp_path / "pseudonym.key"
    key_file.write_bytes(key)
    key_file.chmod(0o600)
    prefix = f"pseudo-{tmp_path.name}"
    config = tmp_path / "config.toml"
    config.write_text(
        f'state_dir = "{tmp_path / "state"}"\n'
        '[sources.simulated]\ndevices = 2\nscenario = "demo"\nspeed = 120\n'
        f'[mqtt]\nhost = "127.0.0.1"\nport = {mosquitto.port}\n'
        f'client_id = "{prefix}"\nprefix = "{prefix}"\ndiscovery_prefix = "{prefix}-ha"\n'
        f'[files]\ndir = "{tmp_path / "session"}"\n'
        "[console]\nenabled = false\n"
        '[log]\nlevel = "debug"\n'
        f'[privacy]\npseudonymise = true\nsalt_file = "{key_file}"\n'
    )
    seen: list[tuple[str, bytes]] = []
    async with aiomqtt.Client("127.0.0.1", mosquitto.port) as sub:
        await sub.subscribe(f"{prefix}/#", qos=1)
        await sub.subscribe(f"{prefix}-ha/#", qos=1)

        async def collect() -> None:
            async for message in sub.messages:
                assert isinstance(message.payload, bytes)
                seen.append((str(message.topic), message.payload))

        collector = asyncio.create_task(collect(), name="collector")
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "vagus.cli",
            "run",
            "--config",
            str(config),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        _, stderr = await asyncio.wait_for(proc.communicate(), timeout=120)
        await asyncio.sleep(1.0)
        collector.cancel()
        await asyncio.gather(collector, return_exceptions=True)
    log = stderr.decode()
    assert proc.returncode == 0, log
    aliases = {pseudonym(f"{REAL}-{n}", key) for n in (1, 2)}
    topics = {topic for topic, _ in seen}
    assert {f"{prefix}/{a}/metrics" for a in aliases} <= topics
    assert any(t.endswith("/config") for t in topics), "discovery was published"
    assert all(REAL not in t and REAL.encode() not in p for t, p in seen)
    session = tmp_path / "session"
    files = [p for p in session.rglob("*") if p.is_file()]
    assert files
    assert all(REAL not in str(p.relative_to(session)) for p in files)
    assert all(REAL.encode() not in p.read_bytes() for p in files)
    assert "device ids are pseudonymised" in log, "the log was captured"
    assert REAL not in log
    state = tmp_path / "state"
    holding = [p.name for p in state.rglob("*") if p.is_file() and REAL.encode() in p.read_bytes()]
    assert holding == ["pseudonyms.jsonl"]
    mapping = [json.loads(line) for line in (state / "pseudonyms.jsonl").read_text().splitlines()]
    assert {(m["pseudonym"], m["device"]) for m in mapping} == {
        (pseudonym(f"{REAL}-{n}", key), f"{REAL}-{n}") for n in (1, 2)
    }
