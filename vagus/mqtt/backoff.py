"""Reconnect policy as pure functions: capped, jittered exponential backoff and retryability."""

from __future__ import annotations

import random

from vagus.mqtt.errors import BrokerUnavailableError


def backoff_delay(attempt: int, rng: random.Random, *, base_s: float, cap_s: float) -> float:
    """Seconds to wait before reconnect ``attempt`` (0-based): "equal jitter".

    d = min(cap, base · 2^attempt); wait d/2 + U(0, d/2) — never less than
    half the step, never more than the cap (M. Brooker, "Exponential Backoff
    And Jitter", AWS Architecture Blog, 2015).
    """
    step_s = min(cap_s, base_s * 2.0 ** min(attempt, 64))
    return step_s / 2 + rng.uniform(0, step_s / 2)


def is_retryable(exc: BaseException) -> bool:
    """True for a broker that is away (retry), false for a refusal or anything else."""
    return isinstance(exc, BrokerUnavailableError)
