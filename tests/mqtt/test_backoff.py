"""Reconnect policy: capped, jittered exponential delays; what is retried."""

from __future__ import annotations

import random

import pytest

from vagus.mqtt import BrokerRefusedError, BrokerUnavailableError, backoff_delay, is_retryable


@pytest.mark.parametrize("attempt", [0, 1, 2, 5, 10, 1000])
def test_delay_within_half_step_and_cap(attempt: int) -> None:
    """Each delay lies in [step/2, step] with step = min(cap, base·2^attempt)."""
    rng = random.Random(attempt)
    step = min(30.0, 0.5 * 2.0**attempt) if attempt < 100 else 30.0
    for _ in range(200):
        delay = backoff_delay(attempt, rng, base_s=0.5, cap_s=30.0)
        assert step / 2 <= delay <= step


def test_jitter_spreads_and_is_reproducible() -> None:
    """Delays vary between draws yet a seeded generator repeats them."""
    first = [backoff_delay(4, random.Random(7), base_s=1, cap_s=60) for _ in range(3)]
    assert len(set(first)) == 1
    rng = random.Random(7)
    draws = {backoff_delay(4, rng, base_s=1, cap_s=60) for _ in range(50)}
    assert len(draws) > 40


def test_only_an_absent_broker_is_retried() -> None:
    """A broker that is away is retried; a refused login is not."""
    assert is_retryable(BrokerUnavailableError(host="h", port=1, reason="x"))
    assert not is_retryable(BrokerRefusedError(host="h", port=1, username="u", reason="x"))
    assert not is_retryable(ValueError())
