"""A password login without TLS is a config error unless ``mqtt.allow_insecure_login = true``,
which is then said once, as a warning, when the daemon is built."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from vagus.app import build_daemon
from vagus.cli import main
from vagus.config import parse_config

SECRET = "Pl41n-T3xt-Zq9"


def _write(tmp_path: Path, mqtt: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'state_dir = "{tmp_path / "state"}"\n'
        "[sources.simulated]\n"
        "[console]\nenabled = false\n"
        f'[mqtt]\nhost = "127.0.0.1"\nusername = "vagus"\n{mqtt}'
    )
    return path


@pytest.mark.parametrize("command", [["config", "check"], ["run", "--config"]])
def test_clear_text_password_is_one_line_exit_2(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`vagus config check` and `vagus run` refuse a password without TLS: exit 2, one line
    naming the key and why, never the password."""
    path = _write(tmp_path, f'password = "{SECRET}"\n')
    code = main([*command, str(path)])
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert code == 2
    assert len(lines) == 1, lines
    assert "mqtt.password = <secret>" in lines[0]
    assert "without TLS sends the password in clear text" in lines[0]
    assert "allow_insecure_login = true" in lines[0]
    assert SECRET not in captured.out + captured.err


def test_password_from_environment_is_refused_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The rule holds for every password source, here ``password_env`` (named with its value,
    the variable's name)."""
    path = _write(tmp_path, 'password_env = "VAGUS_MQTT_PASSWORD"\n')
    assert main(["config", "check", str(path)]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "mqtt.password_env = 'VAGUS_MQTT_PASSWORD': a password login to 127.0.0.1:1883" in line


def test_tls_or_the_flag_makes_it_valid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With ``tls = true``, or with ``allow_insecure_login = true``, the check passes."""
    for extra in ("tls = true\n", "allow_insecure_login = true\n"):
        path = _write(tmp_path, f'password = "{SECRET}"\n{extra}')
        assert main(["config", "check", str(path)]) == 0, capsys.readouterr().err
    assert SECRET not in capsys.readouterr().out


def test_allowed_insecure_login_warns_once_at_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Building the daemon with an allowed clear-text login logs one warning (host, port and
    the flag, not the password); with TLS there is none."""
    section = {"host": "127.0.0.1", "username": "vagus", "password": SECRET}
    for extra, expected in (({"allow_insecure_login": True}, 1), ({"tls": True}, 0)):
        caplog.clear()
        config = parse_config(
            {"state_dir": str(tmp_path / "state"), "mqtt": {**section, **extra}}, environ={}
        )
        with caplog.at_level(logging.INFO):
            build_daemon(config, console=None, title="test", environ={})
        warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(warnings) == expected
        assert all("clear text" in r.getMessage() for r in warnings)
        assert all("127.0.0.1:1883" in r.getMessage() for r in warnings)
        assert SECRET not in caplog.text
