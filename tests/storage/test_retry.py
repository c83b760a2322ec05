"""Retry policy of the InfluxDB output: which failed writes are retried (delay: ingest.backoff)."""

from __future__ import annotations

import pytest

from vagus.influx import is_retryable


@pytest.mark.parametrize(
    ("status", "retry"),
    [(None, True), (500, True), (503, True), (408, True), (429, True), (401, True),
     (403, True), (404, True), (400, False), (413, False), (422, False)],
)  # fmt: skip
def test_is_retryable(status: int | None, retry: bool) -> None:
    """No answer, 5xx, 408, 429 and config failures (401/403/404) are retried; other 4xx
    are dead-lettered."""
    assert is_retryable(status) is retry
