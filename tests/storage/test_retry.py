"""Retry policy: which failures are retried, and how long to wait."""

from __future__ import annotations

import random

import pytest

from vagus.influx import backoff_delay, is_retryable


@pytest.mark.parametrize(
    ("status", "retry"),
    [(None, True), (500, True), (503, True), (408, True), (429, True), (401, True),
     (403, True), (404, True), (400, False), (413, False), (422, False)],
)  # fmt: skip
def test_is_retryable(status: int | None, retry: bool) -> None:
    """No answer, 5xx, 408, 429 and config failures (401/403/404) are retried; other 4xx
    are dead-lettered."""
    assert is_retryable(status) is retry


def test_backoff_grows_and_is_capped() -> None:
    """Delays stay within [initial/10, min(max, initial*2^attempt)] and reach the cap."""
    rng = random.Random(1)
    for attempt in range(40):
        ceiling = min(30.0, 0.5 * 2.0**attempt)
        delays = [backoff_delay(attempt, rng, initial_s=0.5, max_s=30.0) for _ in range(200)]
        assert all(0.05 <= d <= ceiling for d in delays)
        assert max(delays) > 0.7 * ceiling
