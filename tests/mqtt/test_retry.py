"""Reconnect policy of the MQTT output: what is retried (the delay is `ingest.backoff`)."""

from __future__ import annotations

from vagus.mqtt import BrokerRefusedError, BrokerUnavailableError, is_retryable


def test_only_an_absent_broker_is_retried() -> None:
    """A broker that is away is retried; a refused login is not."""
    assert is_retryable(BrokerUnavailableError(host="h", port=1, reason="x"))
    assert not is_retryable(BrokerRefusedError(host="h", port=1, username="u", reason="x"))
    assert not is_retryable(ValueError())
