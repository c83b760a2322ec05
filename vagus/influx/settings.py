"""Settings of the InfluxDB output, validated once when the config is loaded.

Two forms, both spoken by influxdb-client's v2 write API:

- InfluxDB 2.x / 3.x / VictoriaMetrics: ``org``, ``bucket`` and an API token.
- InfluxDB 1.8+ compatibility endpoint: ``token = "username:password"`` and
  ``bucket = "database/retention"`` (or just ``"database"`` for the default
  retention policy); ``org`` is ignored there (leave it ``"-"``).

The token comes from the config, a file (``token_file``, first line) or the
environment (``VAGUS_INFLUX_TOKEN``, which wins); it is a `SecretStr`, so it
never shows in a repr, a log line or an error message.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from vagus.influx.errors import InfluxConfigError

TOKEN_ENV = "VAGUS_INFLUX_TOKEN"


class InfluxSettings(BaseModel):
    """Where and how the InfluxDB output writes, batches and spools."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = Field(description="Base URL, e.g. http://localhost:8086")
    org: str = Field(
        "-", description="Organization (InfluxDB 2.x); '-' for 1.8 and VictoriaMetrics"
    )
    bucket: str = Field(description="Bucket, or 'database/retention' for InfluxDB 1.8")
    token: SecretStr | None = Field(None, description="API token or 'username:password'")
    token_file: Path | None = Field(None, description="File whose first line is the token")
    batch_size: int = Field(5000, gt=0, le=100_000, description="Points per write request")
    flush_interval_s: float = Field(1.0, gt=0, le=300, description="Longest wait before a write")
    timeout_s: float = Field(10.0, gt=0, le=300, description="HTTP timeout of one write")
    queue_size: int = Field(1024, gt=0, description="Inputs (batches, windows...) held in memory")
    spool_dir: Path = Field(description="Directory of the on-disk spool and dead letters")
    spool_cap_bytes: int = Field(256 * 1024**2, gt=0, description="Largest spool size on disk")
    spool_warn_fraction: float = Field(0.8, gt=0, le=1, description="Warn above this cap share")
    retry_initial_s: float = Field(1.0, gt=0, description="First retry delay ceiling")
    retry_max_s: float = Field(60.0, gt=0, description="Largest retry delay")

    @field_validator("url")
    @classmethod
    def _check_url(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")) or len(url) < 10:
            raise ValueError("must be an http:// or https:// URL")
        return url.rstrip("/")

    @field_validator("bucket")
    @classmethod
    def _check_bucket(cls, bucket: str) -> str:
        parts = bucket.split("/")
        if len(parts) > 2 or not all(parts):
            raise ValueError("must be a bucket name or 'database/retention'")
        return bucket

    @field_validator("token")
    @classmethod
    def _check_token(cls, token: SecretStr | None) -> SecretStr | None:
        if token is not None and not token.get_secret_value().strip():
            raise ValueError("must not be empty (leave it out for servers without auth)")
        return token

    @field_validator("token_file")
    @classmethod
    def _check_token_file(cls, path: Path | None) -> Path | None:
        if path is not None and not os.access(path.expanduser(), os.R_OK):
            raise ValueError("must be a readable file whose first line is the token")
        return path

    @model_validator(mode="before")
    @classmethod
    def _resolve_token(cls, data: Any, info: ValidationInfo) -> Any:
        """Take the token from ``VAGUS_INFLUX_TOKEN`` or ``token_file`` when given.

        An unreadable ``token_file`` is left to its field validator, so the
        error names that key and never quotes the section (and its token).
        """
        if not isinstance(data, dict):
            return data
        context = info.context or {}
        environ: Mapping[str, str] = context.get("environ", os.environ)
        if environ.get(TOKEN_ENV):
            return {**data, "token": environ[TOKEN_ENV]}
        if data.get("token_file") is not None:
            try:
                text = Path(str(data["token_file"])).expanduser().read_text(encoding="utf-8")
            except OSError:
                return data
            return {**data, "token": (text.splitlines() or [""])[0].strip()}
        return data

    @classmethod
    def load(cls, section: Mapping[str, Any], environ: Mapping[str, str]) -> InfluxSettings:
        """Settings from a config section and ``environ``; `InfluxConfigError` on a mistake."""
        try:
            return cls.model_validate(dict(section), context={"environ": environ})
        except ValidationError as exc:
            error = exc.errors(include_url=False)[0]
            key = ".".join(str(part) for part in error["loc"])
            value = "<secret>" if key == "token" else error.get("input")
            # Not chained: pydantic's message would quote the input, which may be the token.
            raise InfluxConfigError(key, value, error["msg"]) from None
