"""Broker settings: validation, secrets from environment or file, never shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from vagus.errors import UserError
from vagus.mqtt import MqttSettings, SecretUnavailableError


def test_password_never_in_repr() -> None:
    """repr and str of the settings hide the password."""
    settings = MqttSettings(username="u", password="hunter2", tls=True)
    assert "hunter2" not in repr(settings)
    assert "hunter2" not in str(settings)
    assert settings.resolve_password({}) is not None


def test_password_from_environment_and_file(tmp_path: Path) -> None:
    """``password_env`` reads a variable; ``password_file`` reads a file (trailing newline cut)."""
    by_env = MqttSettings(username="u", password_env="VAGUS_MQTT_PASSWORD", tls=True)
    secret = by_env.resolve_password({"VAGUS_MQTT_PASSWORD": "s3"})
    assert secret is not None
    assert secret.get_secret_value() == "s3"
    path = tmp_path / "pw"
    path.write_text("from-file\n")
    secret = MqttSettings(username="u", password_file=path, tls=True).resolve_password({})
    assert secret is not None
    assert secret.get_secret_value() == "from-file"


def test_missing_secret_is_a_user_error(tmp_path: Path) -> None:
    """An unset variable or unreadable file raises one line naming the key and source."""
    with pytest.raises(SecretUnavailableError, match="password_env = 'NOPE': variable is not set"):
        MqttSettings(username="u", password_env="NOPE", tls=True).resolve_password({})
    with pytest.raises(UserError, match="password_file"):
        MqttSettings(username="u", password_file=tmp_path / "none", tls=True).resolve_password({})


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


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"username": "u", "password": "hunter2"}, "password"),
        ({"username": "u", "password_env": "VAGUS_MQTT_PASSWORD"}, "password_env"),
        ({"username": "u", "password_file": "/etc/vagus/pw", "host": "127.0.0.1"}, "password_file"),
    ],
)
def test_password_login_without_tls_is_refused(fields: dict[str, object], key: str) -> None:
    """A password source without TLS is refused, naming that key (loopback is not exempt)."""
    with pytest.raises(ValidationError, match="clear text") as caught:
        MqttSettings.model_validate(fields)
    (error,) = caught.value.errors()
    assert error["ctx"]["key"] == key
    assert "allow_insecure_login" in error["msg"]
    assert "hunter2" not in error["msg"]
    assert "hunter2" not in repr(error["ctx"]["value"])  # a SecretStr: the config shows <secret>


@pytest.mark.parametrize(
    "extra",
    [{"tls": True}, {"ca_file": "/etc/ca.crt"}, {"client_cert": "/etc/c.pem"}],
    ids=["tls", "ca_file", "client_cert"],
)
def test_password_login_with_tls_is_secure(extra: dict[str, object]) -> None:
    """With TLS (flag, private CA or client certificate) a password login is accepted."""
    settings = MqttSettings.model_validate({"username": "u", "password": "p", **extra})
    assert settings.uses_tls
    assert not settings.insecure_login


def test_insecure_login_only_when_allowed() -> None:
    """``allow_insecure_login`` accepts a clear-text password login and marks it as such;
    a login with no password, or no login at all, is never insecure."""
    allowed = MqttSettings(username="u", password="p", allow_insecure_login=True)
    assert allowed.insecure_login
    assert not MqttSettings(username="u").insecure_login
    assert not MqttSettings().insecure_login
