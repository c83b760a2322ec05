"""Feedback round trip on the real Mosquitto: `vagus run` suggests, the Home Assistant button
answers, the daemon takes it, persists it and moves the threshold; `vagus feedback` sends."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

import aiomqtt
import pytest

from ingest import decode_feedback
from tests.servers import Mosquitto
from vagus.cli import main
from vagus.session import read_session

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _config(tmp_path: Path, mosquitto: Mosquitto, prefix: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""state_dir = "{tmp_path / "state"}"
[sources.simulated]
devices = 1
scenario = "demo"
speed = 30
[sources.mqtt_beats]
enabled = true
[mqtt]
host = "127.0.0.1"
port = {mosquitto.port}
client_id = "vagus-fb-{tmp_path.name}"
prefix = "{prefix}"
discovery_prefix = "{prefix}-ha"
[files]
dir = "{tmp_path / "session"}"
[console]
enabled = false
"""
    )
    return path


async def _next(messages: asyncio.Queue[aiomqtt.Message], suffix: str) -> aiomqtt.Message:
    while True:
        message = await messages.get()
        if str(message.topic).endswith(suffix) and message.payload:
            return message


async def test_button_press_round_trip(
    tmp_path: Path, mosquitto: Mosquitto, capsys: pytest.CaptureFixture[str]
) -> None:
    """Trigger on MQTT -> the discovered "False alarm" button pressed -> a result on
    feedback/result -> a row in feedback.csv -> after SIGTERM the state file holds the raised
    threshold, and `vagus explain` shows it with the feedback that moved it."""
    prefix = f"fb-{tmp_path.name}"
    config = _config(tmp_path, mosquitto, prefix)
    inbox: asyncio.Queue[aiomqtt.Message] = asyncio.Queue()
    async with aiomqtt.Client("127.0.0.1", mosquitto.port) as client:
        await client.subscribe(f"{prefix}/#", qos=1)
        await client.subscribe(f"{prefix}-ha/device/+/config", qos=1)
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

        async def collect() -> None:
            async for message in client.messages:
                await inbox.put(message)

        collector = asyncio.create_task(collect())
        try:
            async with asyncio.timeout(90):
                discovery = json.loads(bytes((await _next(inbox, "/config")).payload))  # type: ignore[arg-type]
                trigger = json.loads(bytes((await _next(inbox, "/trigger")).payload))  # type: ignore[arg-type]
                button = discovery["cmps"]["false_alarm"]
                assert button["p"] == "button"
                assert button["command_topic"] == f"{prefix}/{trigger['device']}/feedback"
                await client.publish(button["command_topic"], button["payload_press"], qos=1)
                result = json.loads(bytes((await _next(inbox, "/feedback/result")).payload))  # type: ignore[arg-type]
        finally:
            proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(proc.wait(), timeout=20)
            collector.cancel()
        stderr = (await proc.stderr.read()).decode() if proc.stderr else ""
    assert proc.returncode == 0, stderr
    assert result["trigger_id"] == trigger["id"]
    assert result["status"] == "applied"
    assert result["verdict"] == "false_alarm"
    assert result["changes"], "a false alarm raises the threshold of the path that fired"
    (session,) = read_session(tmp_path / "session")
    assert [(f.trigger_id, str(f.verdict), str(f.status)) for f in session.feedback] == [
        (trigger["id"], "false_alarm", "applied")
    ]
    state = json.loads((tmp_path / "state" / "baselines.json").read_text())
    assert state["pipeline"]["rules"], "the rules' state is saved at SIGTERM"
    capsys.readouterr()
    assert main(["explain", trigger["device"], "--config", str(config), "--json"]) == 0
    explained = json.loads(capsys.readouterr().out)["explain"]
    rule = explained["rules"][trigger["rule"]]
    assert max(rule["raise_level"], rule.get("raise_evidence", 0.0)) > 0.3
    assert [(f["trigger_id"], f["verdict"]) for f in explained["feedback"]] == [
        (trigger["id"], "false_alarm")
    ]


async def test_feedback_command_publishes(
    tmp_path: Path, mosquitto: Mosquitto, capsys: pytest.CaptureFixture[str]
) -> None:
    """`vagus feedback DEVICE VERDICT --trigger ID` publishes one valid message (QoS 1) on the
    device's feedback topic and exits 0."""
    prefix = f"cli-{tmp_path.name}"
    config = tmp_path / "config.toml"
    config.write_text(
        f'state_dir = "{tmp_path / "state"}"\n[mqtt]\nhost = "127.0.0.1"\n'
        f'port = {mosquitto.port}\nprefix = "{prefix}"\n'
    )
    async with aiomqtt.Client("127.0.0.1", mosquitto.port) as client:
        await client.subscribe(f"{prefix}/+/feedback", qos=1)
        code = await asyncio.to_thread(
            main, ["feedback", "phone-1", "not_now", "--trigger", "abc-1", "--config", str(config)]
        )
        assert code == 0
        async with asyncio.timeout(10):
            message = await anext(aiter(client.messages))
    assert str(message.topic) == f"{prefix}/phone-1/feedback"
    assert message.qos == 1
    got = decode_feedback(bytes(message.payload), device="phone-1")  # type: ignore[arg-type]
    assert (got.verdict, got.trigger_id, got.t_s) == ("not_now", "abc-1", None)
    assert capsys.readouterr().out.startswith(f"{prefix}/phone-1/feedback: ")
