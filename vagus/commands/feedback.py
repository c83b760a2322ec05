"""``vagus feedback``: tell the running daemon what a person thought of a suggestion (MQTT)."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import aiomqtt

from ingest import VERDICTS, FeedbackMessageError, encode_feedback, feedback_topic
from vagus.config import load_config
from vagus.errors import UserError
from vagus.mqtt import MqttSettings
from vagus.mqtt.client import mqtt_client
from vagus.mqtt.failures import classify

NAME = "feedback"
HELP = "Answer a suggestion: publish one feedback message to the configured MQTT broker."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """DEVICE VERDICT [--trigger ID] [--config FILE]."""
    parser.add_argument("device", metavar="DEVICE", help="the device the suggestion was for")
    parser.add_argument("verdict", metavar="VERDICT", help=f"one of {', '.join(VERDICTS)}")
    parser.add_argument(
        "--trigger", metavar="ID", help="the suggestion's id (default: the device's last one)"
    )
    parser.add_argument("--config", type=Path, metavar="FILE", help="config file ([mqtt])")


def run(args: argparse.Namespace) -> int:
    """Check the answer, publish it with QoS 1, exit 0 once the broker has it."""
    if args.verdict not in VERDICTS:
        raise UserError(f"verdict {args.verdict!r}: expected one of {', '.join(VERDICTS)}")
    config = load_config(args.config, check_dirs=False)
    if config.mqtt is None:
        raise UserError("no [mqtt] section in the config: there is no broker to send it to")
    try:
        topic = feedback_topic(config.mqtt.prefix, args.device)
        payload = encode_feedback(args.verdict, trigger_id=args.trigger)
    except FeedbackMessageError as exc:
        raise UserError(f"device {args.device!r}: {exc.detail or exc.reason}") from exc
    except ValueError as exc:
        raise UserError(f"--trigger {args.trigger!r}: {exc}") from exc
    asyncio.run(_publish(config.mqtt, topic, payload))
    print(f"{topic}: {payload.decode()}", flush=True)
    return 0


async def _publish(settings: MqttSettings, topic: str, payload: bytes) -> None:
    """One QoS 1 publish (returns after the broker's PUBACK); failures as one-line errors."""
    try:
        async with mqtt_client(settings, role="feedback") as client:
            await client.publish(topic, payload, qos=1)
    except aiomqtt.MqttError as exc:
        error = classify(settings, exc)
        raise (error if isinstance(error, UserError) else UserError(str(error))) from exc
