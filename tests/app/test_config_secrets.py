"""Secrets (the MQTT password, the InfluxDB token) never appear in what `vagus config check`
prints, whatever is wrong with the config: they are named by key, their value is ``<secret>``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vagus.cli import main
from vagus.config import ConfigError, parse_config

SECRET = "S3cr3t-pa55-Zq9"
"""Distinctive enough never to be part of any other text of an error line."""

URL = "http://localhost:8086"


def _toml_value(value: Any) -> str:
    """A TOML value (strings, numbers, booleans, arrays and inline tables)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(value)  # JSON strings, numbers and booleans are TOML too


def _toml(doc: dict[str, dict[str, Any]]) -> str:
    return "".join(
        f"[{name}]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in section.items())
        for name, section in doc.items()
    )


def _check_output(
    tmp_path: Path, doc: dict[str, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> str:
    """Everything `vagus config check` prints (stdout and stderr) for ``doc``; it must fail."""
    path = tmp_path / "config.toml"
    path.write_text(_toml(doc))
    code = main(["config", "check", str(path)])
    captured = capsys.readouterr()
    assert code == 2, captured
    return captured.out + captured.err


MQTT_CASES: dict[str, dict[str, Any]] = {
    "password and password_env": {"username": "u", "password": SECRET, "password_env": "X"},
    "password and password_file": {"username": "u", "password": SECRET, "password_file": "/p"},
    "password without username": {"password": SECRET},
    "client_key without client_cert": {"username": "u", "password": SECRET, "client_key": "/k"},
    "backoff cap below base": {
        "username": "u",
        "password": SECRET,
        "backoff_base_s": 10,
        "backoff_cap_s": 1,
    },
    "password as a list": {"username": "u", "password": [SECRET]},
    "password as a table": {"username": "u", "password": {"value": SECRET}},
    "unknown key next to the password": {"username": "u", "password": SECRET, "hots": "b"},
    "unknown key holding the password": {"username": "u", "passwd": SECRET},
    "wrong type next to the password": {"username": "u", "password": SECRET, "port": "x"},
    "out of range next to the password": {"username": "u", "password": SECRET, "port": 0},
    "bad prefix next to the password": {"username": "u", "password": SECRET, "prefix": "a b"},
}

INFLUX_CASES: dict[str, dict[str, Any]] = {
    "bad bucket": {"url": URL, "bucket": "a/b/c", "token": SECRET},
    "bad url": {"url": "ftp://x", "bucket": "b", "token": SECRET},
    "missing url": {"bucket": "b", "token": SECRET},
    "token as a list": {"url": URL, "bucket": "b", "token": [SECRET]},
    "token as a table": {"url": URL, "bucket": "b", "token": {"v": SECRET}},
    "token as a number": {"url": URL, "bucket": "b", "token": 12345},
    "unknown key next to the token": {"url": URL, "bucket": "b", "token": SECRET, "org_id": 1},
    "wrong type next to the token": {"url": URL, "bucket": "b", "token": SECRET, "batch_size": "x"},
    "1.8 token with a user": {"url": URL, "bucket": "a//b", "token": f"user:{SECRET}"},
}


@pytest.mark.parametrize("section", MQTT_CASES.values(), ids=MQTT_CASES.keys())
def test_mqtt_password_never_printed(
    section: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every way the [mqtt] section can be wrong is reported without the password."""
    output = _check_output(tmp_path, {"mqtt": section}, capsys)
    assert "mqtt" in output
    assert SECRET not in output


def test_model_level_error_names_the_password_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A section-level error quotes the section with the password shown as ``<secret>``."""
    output = _check_output(tmp_path, {"mqtt": MQTT_CASES["password and password_env"]}, capsys)
    assert "'password': '<secret>'" in output
    assert "'password_env': 'X'" in output


@pytest.mark.parametrize("section", INFLUX_CASES.values(), ids=INFLUX_CASES.keys())
def test_influx_token_never_printed(
    section: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every way the [influx] section can be wrong is reported without the token."""
    output = _check_output(tmp_path, {"influx": section}, capsys)
    assert "influx" in output
    assert SECRET not in output


def test_influx_token_from_environment_or_file_never_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A token read from ``VAGUS_INFLUX_TOKEN`` or ``token_file`` is not printed either."""
    token_file = tmp_path / "token"
    token_file.write_text(f"{SECRET}\n")
    section = {"url": "nope", "bucket": "a/b/c", "token_file": str(token_file), "x": 1}
    assert SECRET not in _check_output(tmp_path, {"influx": section}, capsys)
    monkeypatch.setenv("VAGUS_INFLUX_TOKEN", SECRET)
    assert SECRET not in _check_output(tmp_path, {"influx": {"url": "nope", "x": 1}}, capsys)


def test_mqtt_password_from_file_never_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A password file is named by its path; its content is never read into an error."""
    password_file = tmp_path / "password"
    password_file.write_text(SECRET)
    section = {"password_file": str(password_file), "port": "x"}
    assert SECRET not in _check_output(tmp_path, {"mqtt": section}, capsys)


# Random secrets in every secret field, in random broken sections.

secrets_ = st.text(min_size=1, max_size=30).map(lambda s: f"{SECRET}{s}")
secret_values = secrets_ | secrets_.map(lambda s: [s]) | secrets_.map(lambda s: {"value": s})
"""A secret where a string belongs, or wrongly nested in a list or a table."""

broken = st.one_of(
    st.integers(-5, 5), st.just("x"), st.just(""), st.booleans(), st.just([1]), st.just({"a": 1})
)
"""Values that are wrong for most keys (and right for a few)."""

MQTT_KEYS = [
    "host",
    "port",
    "client_id",
    "username",
    "password_env",
    "password_file",
    "tls",
    "client_key",
    "keepalive_s",
    "prefix",
    "backoff_base_s",
    "backoff_cap_s",
    "bogus",
]
INFLUX_KEYS = ["url", "org", "bucket", "batch_size", "spool_cap_bytes", "retry_max_s", "bogus"]


@st.composite
def broken_configs(draw: st.DrawFn) -> dict[str, Any]:
    """A config whose [mqtt] and/or [influx] section hold a secret next to random values."""
    doc: dict[str, Any] = {}
    if draw(st.booleans()):
        mqtt = draw(st.dictionaries(st.sampled_from(MQTT_KEYS), broken, max_size=4))
        doc["mqtt"] = {**mqtt, "password": draw(secret_values)}
    if draw(st.booleans()) or not doc:
        influx = draw(st.dictionaries(st.sampled_from(INFLUX_KEYS), broken, max_size=4))
        doc["influx"] = {**influx, "token": draw(secret_values)}
    return doc


@settings(max_examples=300, deadline=None)
@given(doc=broken_configs(), env_token=st.none() | secrets_)
def test_secrets_never_in_any_error(doc: dict[str, Any], env_token: str | None) -> None:
    """Whatever else is wrong, no error line quotes a secret (from the file or the environment)."""
    environ = {} if env_token is None else {"VAGUS_INFLUX_TOKEN": env_token}
    printed: list[str] = []
    try:
        parse_config(doc, environ=environ, check_dirs=False)
    except ConfigError as exc:
        printed = [str(exc), *exc.problems]
    assert all(SECRET not in text for text in printed)
