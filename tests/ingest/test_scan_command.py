"""``vagus scan``: one clear line and exit 2 without Bluetooth; a table with devices."""

from __future__ import annotations

import argparse

import pytest
from rich.console import Console

from ingest.ble_backend import FoundDevice
from tests.servers import SystemBus
from vagus.cli import main
from vagus.commands import scan as scan_command
from vagus.commands.scan import device_table
from vagus.errors import UserError


def scan_line(*argv: str) -> str:
    """The one-line `UserError` message ``vagus scan ARGV`` fails with (the CLI exits 2 on it)."""
    parser = argparse.ArgumentParser()
    scan_command.add_arguments(parser)
    with pytest.raises(UserError) as info:
        scan_command.run(parser.parse_args(argv))
    message = str(info.value)
    assert "\n" not in message
    return message


def test_no_system_bus_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    """With no D-Bus system bus (this machine has no Bluetooth) scan fails with one line."""
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", f"unix:path={tmp_path}/no-such-socket")
    assert scan_line("--timeout", "0.2").startswith("Bluetooth unavailable: no system D-Bus")


@pytest.mark.integration
def test_bus_without_bluez_is_one_line_and_exit_2(
    system_bus: SystemBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A system bus with no BlueZ on it: one line naming what the bus answered."""
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", system_bus.address)
    assert scan_line("--timeout", "0.2").startswith("Bluetooth unavailable")


def test_negative_timeout_is_a_user_error() -> None:
    """--timeout must be positive; the message names the option."""
    assert "--timeout -1" in scan_line("--timeout", "-1")


def test_table_lists_name_address_and_rssi() -> None:
    """The table shows each device's name, address and RSSI."""
    devices = [
        FoundDevice(name="Polar H10 5A3C1B2D", address="C0:FF:EE:00:00:01", rssi_dbm=-58),
        FoundDevice(name="", address="C0:FF:EE:00:00:02", rssi_dbm=-80),
    ]
    console = Console(width=120, record=True)
    console.print(device_table(devices))
    text = console.export_text()
    assert "Polar H10 5A3C1B2D" in text
    assert "C0:FF:EE:00:00:02" in text
    assert "-58" in text
    assert "(no name)" in text


def test_cli_exits_2_with_one_line_without_bluetooth(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    """Through the real CLI entry point: exit code 2 and exactly one line on stderr."""
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", f"unix:path={tmp_path}/no-such-socket")
    assert main(["scan", "--timeout", "0.2"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("vagus scan: Bluetooth unavailable:")
