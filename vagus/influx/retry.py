"""Retry policy of the InfluxDB output, as pure functions."""

from __future__ import annotations

import random


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


def backoff_delay(attempt: int, rng: random.Random, *, initial_s: float, max_s: float) -> float:
    """Seconds to wait before retry number ``attempt`` (0-based): capped exponential, full jitter.

    "Full jitter" of Brooker, "Exponential Backoff And Jitter", AWS
    Architecture Blog, 2015: ``uniform(0, min(max, initial * 2**attempt))``,
    floored at a tenth of ``initial`` so retries never spin.
    """
    ceiling = min(max_s, initial_s * 2.0 ** min(attempt, 32))
    return max(initial_s / 10.0, rng.uniform(0.0, ceiling))
