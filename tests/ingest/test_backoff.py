"""The one retry delay of every edge (BLE, MQTT, InfluxDB): capped exponential, equal jitter."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.backoff import backoff_delay


@given(st.integers(min_value=0, max_value=200), st.integers())
def test_default_delay_is_jittered_between_half_and_full_capped_ceiling(
    attempt: int, seed: int
) -> None:
    """Each wait lies in [d/2, d] with d = min(60, 2**attempt): capped and never zero."""
    delay = backoff_delay(attempt, random.Random(seed))
    ceiling = min(60.0, 2.0**attempt)
    assert ceiling / 2 <= delay <= ceiling


@pytest.mark.parametrize("attempt", [0, 1, 2, 5, 10, 1000])
def test_delay_follows_base_and_cap(attempt: int) -> None:
    """With base_s and cap_s given, each wait lies in [d/2, d], d = min(cap, base·2^attempt)."""
    rng = random.Random(attempt)
    ceiling = min(30.0, 0.5 * 2.0 ** min(attempt, 64))
    delays = [backoff_delay(attempt, rng, base_s=0.5, cap_s=30.0) for _ in range(200)]
    assert all(ceiling / 2 <= d <= ceiling for d in delays)
    assert max(delays) > 0.9 * ceiling


def test_jitter_spreads_clients_apart_yet_a_seed_repeats() -> None:
    """Clients retrying the same attempt wait different times; a seeded generator repeats them."""
    rng = random.Random(1)
    assert len({round(backoff_delay(5, rng), 6) for _ in range(20)}) == 20
    assert len({backoff_delay(4, random.Random(7)) for _ in range(3)}) == 1


def test_negative_attempt_is_refused() -> None:
    """Attempts count from 0; a negative one is a bug and raises ValueError."""
    with pytest.raises(ValueError, match="attempt"):
        backoff_delay(-1, random.Random(1))
