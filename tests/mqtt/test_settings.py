"""Broker settings: validation, secrets from environment or file, never shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from vagus.errors import UserError
from vagus.mqtt import MqttSettings, SecretUnavailableError


def test_password_never_in_repr() -> None:
    """repr and str of the settings hide the password."""
    settings = MqttSettings(username="u", password="hunter2")
    assert "hunter2" not in repr(settings)
    assert "hunter2" not in str(settings)
    assert settings.resolve_password({}) is not None


def test_password_from_environment_and_file(tmp_path: Path) -> None:
    """``password_env`` reads a variable; ``password_file`` reads a file (trailing newline cut)."""
    by_env = MqttSettings(username="u", password_env="VAGUS_MQTT_PASSWORD")
    secret = by_env.resolve_password({"VAGUS_MQTT_PASSWORD": "s3"})
    assert secret is not None
    assert secret.get_secret_value() == "s3"
    path = tmp_path / "pw"
    path.write_text("from-file\n")
    secret = MqttSettings(username="u", password_file=path).resolve_password({})
    assert secret is not None
    assert secret.get_secret_value() == "from-file"


def test_missing_secret_is_a_user_error(tmp_path: Path) -> None:
    """An unset variable or unreadable file raises one line naming the key and source."""
    with pytest.raises(SecretUnavailableError, match="password_env = 'NOPE': variable is not set"):
        MqttSettings(username="u", password_env="NOPE").resolve_password({})
    with pytest.raises(UserError, match="password_file"):
        MqttSettings(username="u", password_file=tmp_path / "none").resolve_password({})


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"username": "u", "password": "a", "password_env": "B"}, "at most one"),
        ({"password": "a"}, "needs a username"),
        ({"client_key": "k.pem"}, "client_key needs client_cert"),
        ({"prefix": "vagus/#"}, "pattern"),
        ({"port": 0}, "greater than or equal"),
    ],
)
def test_invalid_settings(fields: dict[str, object], message: str) -> None:
    """Inconsistent or out-of-range settings are refused at load."""
    with pytest.raises(ValidationError, match=message):
        MqttSettings.model_validate(fields)


def test_tls_context_only_when_asked(tmp_path: Path) -> None:
    """Plain TCP by default; ``tls`` gives a verifying context."""
    assert MqttSettings().ssl_context() is None
    context = MqttSettings(tls=True).ssl_context()
    assert context is not None
    assert context.check_hostname
