"""Broker settings (`MqttSettings`): validated once; secrets from the environment or a file.

The password is a `pydantic.SecretStr`: repr, str and logs show ``**********``.

A password login without TLS (``username`` and a password source, neither
``tls`` nor a certificate) is refused: the password would cross the network
in clear text, readable by anyone on the path. ``allow_insecure_login = true``
accepts it, and the daemon then says so once at start. Loopback hosts are not
exempt: ``localhost`` may be a port forward (socat, a container's published
port) to another machine, and a broker on the same host is as easy to give a
TLS listener, or no password at all.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from vagus.errors import config_key_problem
from vagus.mqtt.errors import SecretUnavailableError

_PASSWORD_KEYS = ("password", "password_env", "password_file")

TopicPrefix = Annotated[
    str, Field(pattern=r"^[A-Za-z0-9_.:-]+(/[A-Za-z0-9_.:-]+)*$", max_length=128)
]


class MqttSettings(BaseModel):
    """Where and how to publish: broker, login, TLS, topics, queues and reconnect backoff."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = "localhost"
    port: int = Field(default=1883, ge=1, le=65535)
    client_id: str = Field(default="vagus", min_length=1, max_length=64)
    username: str | None = None
    password: SecretStr | None = None
    password_env: str | None = Field(default=None, description="environment variable with it")
    password_file: Path | None = None
    tls: bool = Field(default=False, description="TLS with the system CAs unless ca_file is set")
    ca_file: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    allow_insecure_login: bool = Field(
        default=False, description="accept a password login without TLS (sent in clear text)"
    )
    keepalive_s: int = Field(default=60, ge=5, le=3600)
    ack_timeout_s: float = Field(
        default=10.0, gt=0, le=600, description="wait for CONNACK/PUBACK before reconnecting"
    )
    prefix: TopicPrefix = "vagus"
    discovery_prefix: TopicPrefix | None = Field(
        default=None,
        description="Home Assistant discovery prefix (e.g. homeassistant); off if unset",
    )
    queue_size: int = Field(default=256, ge=1, le=100_000)
    max_pending: int = Field(default=10_000, ge=1, le=1_000_000)
    backoff_base_s: float = Field(default=1.0, gt=0, le=60)
    backoff_cap_s: float = Field(default=60.0, gt=0, le=3600)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        sources = [k for k in _PASSWORD_KEYS if getattr(self, k)]
        if len(sources) > 1:
            raise ValueError(
                f"give at most one of password, password_env, password_file ({sources})"
            )
        if sources and self.username is None:
            raise ValueError("a password needs a username")
        if self.client_key is not None and self.client_cert is None:
            raise ValueError("client_key needs client_cert")
        if self.backoff_cap_s < self.backoff_base_s:
            raise ValueError("backoff_cap_s must be >= backoff_base_s")
        if sources and not self.uses_tls and not self.allow_insecure_login:
            (key,) = sources
            value = getattr(self, key)
            raise config_key_problem(
                key,
                str(value) if isinstance(value, Path) else value,
                f"a password login to {self.host}:{self.port} without TLS sends the password "
                "in clear text; set tls = true (with ca_file for a private CA), or "
                "allow_insecure_login = true to accept that",
            )
        return self

    @property
    def insecure_login(self) -> bool:
        """True when a password is sent without TLS (only possible with
        ``allow_insecure_login``)."""
        return not self.uses_tls and any(getattr(self, k) for k in _PASSWORD_KEYS)

    @property
    def uses_tls(self) -> bool:
        """True when the connection is TLS (``tls`` or any certificate set)."""
        return self.tls or self.ca_file is not None or self.client_cert is not None

    def resolve_password(self, environ: Mapping[str, str]) -> SecretStr | None:
        """The password from ``password``, the named environment variable, or the file."""
        if self.password is not None:
            return self.password
        if self.password_env is not None:
            value = environ.get(self.password_env)
            if not value:
                raise SecretUnavailableError(
                    key="password_env", source=self.password_env, reason="variable is not set"
                )
            return SecretStr(value)
        if self.password_file is not None:
            try:
                text = self.password_file.read_text(encoding="utf-8")
            except OSError as exc:
                raise SecretUnavailableError(
                    key="password_file",
                    source=str(self.password_file),
                    reason=exc.strerror or "unreadable",
                ) from exc
            return SecretStr(text.rstrip("\r\n"))
        return None

    def ssl_context(self) -> ssl.SSLContext | None:
        """A client TLS context (verifying the server) or None for plain TCP."""
        if not self.uses_tls:
            return None
        context = ssl.create_default_context(
            cafile=None if self.ca_file is None else str(self.ca_file)
        )
        if self.client_cert is not None:
            context.load_cert_chain(
                str(self.client_cert), None if self.client_key is None else str(self.client_key)
            )
        return context
