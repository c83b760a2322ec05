"""Which MQTT connection failures are worth a reconnect (pure); the delay is `ingest.backoff`."""

from __future__ import annotations

from vagus.mqtt.errors import BrokerUnavailableError


def is_retryable(exc: BaseException) -> bool:
    """True for a broker that is away (retry), false for a refusal or anything else."""
    return isinstance(exc, BrokerUnavailableError)
