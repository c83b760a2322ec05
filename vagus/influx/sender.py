"""Blocking HTTP writes of line protocol with influxdb-client's v2 write API.

One call, one request: the client's own batching thread and retries are off
(``SYNCHRONOUS`` write options, urllib3 ``retries=False``) so the writer alone
decides what is acknowledged, what is retried and what goes to the spool.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import urllib3
from influxdb_client.client.exceptions import InfluxDBError
from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.domain.write_precision import WritePrecision

from vagus.influx.errors import WriteError
from vagus.influx.settings import InfluxSettings


class LineSender(Protocol):
    """Stores lines of line protocol or raises `WriteError`; blocking (run it in a thread)."""

    def send(self, lines: Sequence[str]) -> None: ...

    def close(self) -> None: ...


class InfluxSender:
    """`LineSender` over influxdb-client (InfluxDB 1.8+/2.x/3.x, VictoriaMetrics)."""

    def __init__(self, settings: InfluxSettings) -> None:
        self._bucket = settings.bucket
        self._org = settings.org
        token = settings.token.get_secret_value() if settings.token else ""  # "": no auth
        self._client = InfluxDBClient(
            url=settings.url,
            token=token,
            org=settings.org,
            timeout=int(settings.timeout_s * 1000),
            retries=False,
        )
        self._write_api = self._client.write_api(write_options=SYNCHRONOUS)

    def send(self, lines: Sequence[str]) -> None:
        """POST ``lines`` to /api/v2/write with nanosecond precision."""
        try:
            self._write_api.write(
                bucket=self._bucket,
                org=self._org,
                record="\n".join(lines).encode(),
                write_precision=WritePrecision.NS,  # type: ignore[arg-type]  # enum of str
            )
        except InfluxDBError as exc:
            status = getattr(exc.response, "status", None)
            detail = exc.message
            if isinstance(detail, bytes):
                detail = detail.decode(errors="replace")
            raise WriteError(status, str(detail)) from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise WriteError(None, f"{type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        """Release the HTTP connection pool."""
        self._client.close()  # type: ignore[no-untyped-call]
