"""The config file: validated once, every mistake one line naming key, value and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from vagus.cli import main
from vagus.commands.config import example_text
from vagus.config import ConfigError, load_config, parse_config


def _check(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    path = tmp_path / "config.toml"
    path.write_text(text)
    code = main(["config", "check", str(path)])
    return code, capsys.readouterr().err.splitlines()


def test_wrong_type_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A string where a number belongs names the key and the value, exit code 2."""
    code, lines = _check(tmp_path, '[engine]\nwindow_s = "long"\n', capsys)
    assert code == 2
    assert len(lines) == 1
    assert "engine.window_s = 'long'" in lines[0]
    assert "number" in lines[0]


def test_unknown_key_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A misspelt key is reported as unknown, with its full dotted name."""
    code, lines = _check(tmp_path, "[mqtt]\nhots = 'broker'\n", capsys)
    assert code == 2
    assert lines == [f"vagus config: {tmp_path / 'config.toml'}: mqtt.hots: unknown key"]


def test_missing_secret_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A password read from an unset environment variable fails at start, not at first use."""
    monkeypatch.delenv("VAGUS_TEST_MQTT_PASSWORD", raising=False)
    text = '[mqtt]\nusername = "vagus"\npassword_env = "VAGUS_TEST_MQTT_PASSWORD"\n'
    code, lines = _check(tmp_path, text, capsys)
    assert code == 2
    assert len(lines) == 1
    assert "VAGUS_TEST_MQTT_PASSWORD" in lines[0]
    assert "not set" in lines[0]


def test_secret_values_never_appear_in_errors(tmp_path: Path) -> None:
    """A bad token is reported by its key, never by its value."""
    data = {"influx": {"url": "http://localhost:8086", "bucket": "a/b/c", "token": "s3cr3t"}}
    with pytest.raises(ConfigError) as caught:
        parse_config(data, environ={})
    assert "s3cr3t" not in str(caught.value)
    assert "influx.bucket" in str(caught.value)


def test_bad_rule_names_rule_and_field() -> None:
    """Rule errors come from the recommender's validation, with the rule's name."""
    data = {"rules": [{"name": "r1", "enter": ["stress >>= 3"], "exercises": ["box"]}]}
    with pytest.raises(ConfigError) as caught:
        parse_config(data, environ={})
    assert "'r1'" in str(caught.value)


def test_example_config_is_valid(tmp_path: Path) -> None:
    """`vagus config example` prints a file that `vagus config check` accepts."""
    path = tmp_path / "example.toml"
    path.write_text(example_text())
    config = load_config(path)
    assert config.sources.ble[0].name == "Polar H10 12345678"
    assert config.mqtt is not None
    assert config.mqtt.port == 1883


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    """An explicit --config path that does not exist is a user error, not a silent default."""
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.toml")


def test_influx_spool_defaults_into_state_dir(tmp_path: Path) -> None:
    """Without spool_dir, the InfluxDB spool lives in the state dir."""
    data = {"state_dir": str(tmp_path), "influx": {"url": "http://localhost:8086", "bucket": "v"}}
    config = parse_config(data, environ={})
    assert config.influx is not None
    assert config.influx.spool_dir == tmp_path / "influx-spool"


def test_example_rule_is_the_shipped_default() -> None:
    """The commented rule in the example config, uncommented, is exactly the default rule set."""
    import tomllib

    from recommender import default_config
    from recommender import parse_config as parse_rules

    text = example_text()
    block = text[text.index("# [[rules]]") :].splitlines()
    uncommented = "\n".join(line.removeprefix("# ") for line in block)
    assert parse_rules(tomllib.loads(uncommented)) == default_config()
