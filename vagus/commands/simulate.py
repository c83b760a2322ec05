"""``vagus simulate``: a fleet of virtual wearables publishing raw beats over MQTT."""

from __future__ import annotations

import argparse
import asyncio
import time

import aiomqtt

from simulators import ScenarioError, load_scenario
from simulators.fleet import FleetStats, build_fleet, run_fleet
from vagus.errors import UserError

NAME = "simulate"
HELP = "Publish raw beats of N simulated wearables to <prefix>/<device>/beats over MQTT."


def _host_port(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UserError(f"--mqtt {value!r}: expected HOST:PORT with a port in 1..65535")
    return host, int(port)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``vagus simulate``."""
    parser.add_argument("--devices", type=int, default=1, help="number of wearables (default 1)")
    parser.add_argument("--scenario", default="demo", help="shipped scenario name or TOML path")
    parser.add_argument("--mqtt", required=True, metavar="HOST:PORT", help="MQTT broker")
    parser.add_argument(
        "--speed",
        type=float,
        default=None,
        help="scenario seconds per wall second (default: the scenario's)",
    )
    parser.add_argument("--prefix", default="vagus", help="topic prefix (default vagus)")
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        metavar="S",
        help="wall seconds to run (default: the whole scenario at the chosen speed)",
    )


async def publish_fleet(args: argparse.Namespace) -> FleetStats:
    """Validate the options, build the fleet and publish it; the work of `run`."""
    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as exc:
        raise UserError(str(exc)) from exc
    if args.devices < 1:
        raise UserError(f"--devices {args.devices}: must be at least 1")
    speed = scenario.speed if args.speed is None else args.speed
    if not speed > 0:
        raise UserError(f"--speed {speed}: must be positive")
    duration_s = scenario.duration_s / speed if args.duration is None else args.duration
    if not duration_s > 0:
        raise UserError(f"--duration {duration_s}: must be positive")
    prefix = args.prefix.strip("/")
    if not prefix or any(c in prefix for c in "+#"):
        raise UserError(f"--prefix {args.prefix!r}: must be non-empty without + or #")
    host, port = _host_port(args.mqtt)
    fleet = build_fleet(
        scenario, args.devices, until_s=min(duration_s * speed, scenario.duration_s)
    )
    loop = asyncio.get_running_loop()
    try:
        async with aiomqtt.Client(host, port) as client:
            # One tick publishes up to devices / 10 messages at once, by design.
            client.pending_calls_threshold = max(client.pending_calls_threshold, args.devices)

            async def publish(messages: list[tuple[str, bytes]]) -> None:
                await asyncio.gather(*(client.publish(t, p, qos=0) for t, p in messages))

            return await run_fleet(
                fleet,
                publish=publish,
                prefix=prefix,
                speed=speed,
                duration_s=duration_s,
                start_t_s=time.time(),
                clock=loop.time,
                sleep=asyncio.sleep,
            )
    except aiomqtt.MqttError as exc:
        raise UserError(f"MQTT broker {host}:{port}: {exc}") from exc


def run(args: argparse.Namespace) -> int:
    """Run the fleet until the duration is over; print what was sent."""
    stats = asyncio.run(publish_fleet(args))
    print(
        f"{stats.devices} devices: {stats.messages} messages, {stats.beats} beats in "
        f"{stats.wall_s:.1f} s ({stats.messages_per_s:.0f} msg/s); "
        f"lag behind schedule max {stats.max_lag_s * 1000:.0f} ms, "
        f"mean {stats.mean_lag_s * 1000:.1f} ms"
    )
    return 0
