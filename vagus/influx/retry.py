"""Which failed InfluxDB writes are worth sending again (pure); the delay is `ingest.backoff`."""

from __future__ import annotations


def is_retryable(status: int | None) -> bool:
    """Whether a write that failed with HTTP ``status`` (None: no answer) is worth retrying.

    No answer, 5xx, 408 (timeout) and 429 (rate limit) are transient. 401 and
    403 (credentials) and 404 (no such bucket, or no write endpoint at that
    URL) mean the configuration is wrong, not the points: they are retried
    too, and the points wait in the spool until it is fixed. Any other 4xx
    (400 malformed, 413 too large, 422 unprocessable) means the points
    themselves are refused, and resending the same bytes cannot help
    (InfluxDB v2 API reference, POST /api/v2/write responses).
    """
    return status is None or status >= 500 or status in (401, 403, 404, 408, 429)
