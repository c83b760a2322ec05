"""Retry delay as a pure function: capped exponential backoff with equal jitter.

One policy for every edge that reconnects or resends: BLE straps
(`ingest.ble_link`), the MQTT publisher (`vagus.mqtt`) and the InfluxDB
writer (`vagus.influx`). What is worth retrying differs by edge and stays
with each (`is_retryable` in `ingest.ble_retry`, `vagus.mqtt.retry` and
`vagus.influx.retry`).
"""

from __future__ import annotations

import random

__all__ = ["backoff_delay"]


def backoff_delay(
    attempt: int, rng: random.Random, *, base_s: float = 1.0, cap_s: float = 60.0
) -> float:
    """Seconds to wait before retry ``attempt`` (0 = first): capped exponential, equal jitter.

    ``d = min(cap_s, base_s * 2**attempt)``, then uniform in ``[d/2, d]`` (the
    "equal jitter" of Brooker, "Exponential Backoff And Jitter", AWS
    Architecture Blog, 2015): clients that failed together do not retry in
    lockstep, and the wait never falls to zero.
    """
    if attempt < 0:
        raise ValueError(f"attempt={attempt} must be >= 0")
    ceiling = min(cap_s, base_s * 2.0 ** min(attempt, 64))
    return rng.uniform(ceiling / 2, ceiling)
