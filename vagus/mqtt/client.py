"""One place that turns `MqttSettings` into an aiomqtt client (host, login, TLS, timeouts)."""

from __future__ import annotations

import os
from typing import Any

import aiomqtt

from vagus.mqtt.settings import MqttSettings


def mqtt_client(settings: MqttSettings, *, role: str, **options: Any) -> aiomqtt.Client:
    """A client for the configured broker, identified as ``<client_id>-<role>-<pid>``.

    The password is resolved here (`MqttSettings.resolve_password`, which may
    raise `SecretUnavailableError`); ``options`` go to `aiomqtt.Client` as they are
    (``will``, ``clean_session``, ``logger``, ...).
    """
    password = settings.resolve_password(os.environ)
    return aiomqtt.Client(
        settings.host,
        settings.port,
        identifier=f"{settings.client_id}-{role}-{os.getpid()}",
        username=settings.username,
        password=None if password is None else password.get_secret_value(),
        keepalive=settings.keepalive_s,
        timeout=settings.ack_timeout_s,
        tls_context=settings.ssl_context(),
        **options,
    )
