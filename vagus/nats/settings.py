"""The NATS JetStream source (``[sources.nats]``): server, login, stream, this worker's partitions.

A worker owns a fixed set of the stream's ``partition_count`` partitions,
given as ``partitions = "0-3,8"`` or as ``worker = "2 of 4"`` (worker ``i``
of ``W`` owns the ``i``-th of ``W`` contiguous, near-equal blocks).
``partition_count`` must equal the ``P`` of the server's partition mapping
(`ingest.nats_subjects.partition_mapping`); the workers of one deployment
must own disjoint partitions that together cover all of them.

The password follows the MQTT section's rules (`vagus.mqtt.settings`): one
of ``password``, ``password_env``, ``password_file``, never printed, and a
password login without TLS (a ``tls://`` url or ``ca_file``) refused unless
``allow_insecure_login = true``.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from vagus.errors import UserError, config_key_problem
from vagus.mqtt.errors import SecretUnavailableError
from vagus.mqtt.settings import MqttSettings, TopicPrefix

_PASSWORD_KEYS = ("password", "password_env", "password_file")
_NAME = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]+$", max_length=64)]
_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")
_WORKER = re.compile(r"^\s*(\d+)\s+of\s+(\d+)\s*$")


class NatsSecretError(UserError):
    """A password source named in ``[sources.nats]`` cannot be read."""

    def __init__(self, *, key: str, source: str, reason: str) -> None:
        self.key = key
        self.source = source
        self.reason = reason
        super().__init__(f"sources.nats.{key} = {source!r}: {reason}")


def parse_partitions(spec: str, count: int) -> tuple[int, ...]:
    """``"0-3,8"`` as sorted partition numbers; ValueError says what is wrong."""
    owned: set[int] = set()
    for part in spec.split(","):
        match = _RANGE.match(part)
        if match is None:
            raise ValueError("must be partition numbers and ranges, e.g. '0-3,8'")
        first = int(match[1])
        last = first if match[2] is None else int(match[2])
        if first > last or last >= count:
            raise ValueError(f"each range must be ascending within 0-{count - 1}")
        owned.update(range(first, last + 1))
    return tuple(sorted(owned))


def worker_partitions(spec: str, count: int) -> tuple[int, ...]:
    """The partitions of ``"i of W"``: block ``i`` (1-based) of ``W`` near-equal contiguous
    blocks of ``range(count)``; ValueError says what is wrong."""
    match = _WORKER.match(spec)
    if match is None:
        raise ValueError("must be 'i of W', e.g. '2 of 4'")
    i, workers = int(match[1]), int(match[2])
    if not 1 <= i <= workers <= count:
        raise ValueError(f"needs 1 <= i <= W <= partition_count ({count})")
    return tuple(range((i - 1) * count // workers, i * count // workers))


class NatsSettings(BaseModel):
    """Where the beats stream is, and which of its partitions this worker consumes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = "nats://127.0.0.1:4222"
    prefix: TopicPrefix = Field(default="vagus", description="MQTT topic prefix of the beats")
    stream: _NAME = "VAGUS_BEATS"
    partition_count: int = Field(default=16, ge=1, le=1024)
    partitions: str | None = Field(default=None, description="e.g. '0-15' or '0-3,8'")
    worker: str | None = Field(default=None, description="e.g. '2 of 4'")
    consumer: _NAME = Field(default="vagus", description="durable consumers: <consumer>-p<N>")
    bucket: _NAME = Field(default="vagus_state", description="key-value bucket of checkpoints")
    checkpoint_s: float = Field(default=10.0, ge=0.5, le=3600)
    ack_wait_s: float = Field(default=60.0, ge=1, le=3600)
    replicas: int = Field(default=1, ge=1, le=5, description="of the stream and bucket made here")
    max_age_s: float = Field(default=86_400.0, gt=0, description="stream retention made here")
    username: str | None = None
    password: SecretStr | None = None
    password_env: str | None = None
    password_file: Path | None = None
    ca_file: Path | None = None
    allow_insecure_login: bool = False

    @field_validator("url")
    @classmethod
    def _scheme(cls, url: str) -> str:
        if not url.startswith(("nats://", "tls://")):
            raise ValueError("must start with nats:// or tls://")
        return url

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.partitions is None) == (self.worker is None):
            raise config_key_problem(
                "partitions", self.partitions, "give exactly one of partitions or worker"
            )
        key = "partitions" if self.partitions is not None else "worker"
        try:
            self.owned()
        except ValueError as exc:
            raise config_key_problem(key, getattr(self, key), str(exc)) from None
        sources = [k for k in _PASSWORD_KEYS if getattr(self, k)]
        if len(sources) > 1:
            raise ValueError("give at most one of password, password_env, password_file")
        if sources and self.username is None:
            raise ValueError("a password needs a username")
        if sources and not self.uses_tls and not self.allow_insecure_login:
            raise config_key_problem(
                "url",
                self.url,
                "a password login without TLS sends the password in clear text; use a tls:// "
                "url (with ca_file for a private CA), or allow_insecure_login = true",
            )
        return self

    def owned(self) -> tuple[int, ...]:
        """This worker's partitions, ascending."""
        if self.partitions is not None:
            return parse_partitions(self.partitions, self.partition_count)
        return worker_partitions(self.worker or "", self.partition_count)

    @property
    def uses_tls(self) -> bool:
        """True when the connection is TLS (a ``tls://`` url or ``ca_file``)."""
        return self.url.startswith("tls://") or self.ca_file is not None

    def resolve_password(self, environ: Mapping[str, str]) -> SecretStr | None:
        """The password from ``password``, the named environment variable, or the file
        (read as the MQTT section reads its own)."""
        sources = {k: getattr(self, k) for k in _PASSWORD_KEYS}
        try:
            return MqttSettings.model_construct(**sources).resolve_password(environ)
        except SecretUnavailableError as exc:
            raise NatsSecretError(key=exc.key, source=exc.source, reason=exc.reason) from exc

    def ssl_context(self) -> ssl.SSLContext | None:
        """A client TLS context verifying the server, or None for plain TCP."""
        if not self.uses_tls:
            return None
        return ssl.create_default_context(
            cafile=None if self.ca_file is None else str(self.ca_file)
        )
