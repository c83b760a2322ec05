"""Reconnect policy as pure functions: how long to wait, and whether to try again."""

from __future__ import annotations

import random

from ingest.errors import (
    BluetoothUnavailableError,
    ConnectError,
    DeviceNotFoundError,
    MissingCharacteristicError,
)

__all__ = ["backoff_delay", "is_retryable"]


def backoff_delay(
    attempt: int, rng: random.Random, *, base_s: float = 1.0, cap_s: float = 60.0
) -> float:
    """Seconds to wait before retry ``attempt`` (0 = first): capped exponential, equal jitter.

    ``d = min(cap_s, base_s * 2**attempt)``, then uniform in ``[d/2, d]`` (the
    "equal jitter" of Brooker, "Exponential Backoff And Jitter", AWS
    Architecture Blog, 2015): straps that dropped together do not reconnect
    in lockstep, and the wait never falls to zero.
    """
    if attempt < 0:
        raise ValueError(f"attempt={attempt} must be >= 0")
    ceiling = min(cap_s, base_s * 2.0 ** min(attempt, 64))
    return rng.uniform(ceiling / 2, ceiling)


def is_retryable(exc: BaseException) -> bool:
    """True for failures a later attempt can cure: timeouts, lost links, a strap out of range.

    Missing Bluetooth (adapter, permission, BlueZ) and a device without the
    Heart Rate Measurement characteristic are final; so is anything else
    (a bug must surface, not loop).
    """
    if isinstance(exc, BluetoothUnavailableError | MissingCharacteristicError):
        return False
    return isinstance(exc, TimeoutError | ConnectError | DeviceNotFoundError)
