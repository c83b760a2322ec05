"""Errors of the MQTT output: a broker that is away, a login it refuses, a full queue."""

from __future__ import annotations

from pathlib import Path

from vagus.errors import UserError


class MqttOutputError(Exception):
    """Root of every error of `vagus.mqtt`."""


class BrokerUnavailableError(MqttOutputError):
    """The broker cannot be reached or dropped us; retried with backoff."""

    def __init__(self, *, host: str, port: int, reason: str) -> None:
        self.host = host
        self.port = port
        self.reason = reason
        super().__init__(f"MQTT broker {host}:{port} unavailable: {reason}")


class BrokerRefusedError(MqttOutputError, UserError):
    """The broker refused us for good (bad credentials, not authorised, TLS trust); not retried."""

    def __init__(self, *, host: str, port: int, username: str | None, reason: str) -> None:
        self.host = host
        self.port = port
        self.username = username
        self.reason = reason
        who = "anonymous login" if username is None else f"login of user {username!r}"
        super().__init__(f"MQTT broker {host}:{port} refused the {who}: {reason}")


class SecretUnavailableError(MqttOutputError, UserError):
    """A password source named in the settings (environment variable, file) cannot be read."""

    def __init__(self, *, key: str, source: str, reason: str) -> None:
        self.key = key
        self.source = source
        self.reason = reason
        super().__init__(f"mqtt.{key} = {source!r}: {reason}")


class TriggerQueueFullError(MqttOutputError):
    """The persisted trigger queue holds its limit of undelivered messages; nothing is dropped."""

    def __init__(self, *, pending: int, limit: int) -> None:
        self.pending = pending
        self.limit = limit
        super().__init__(f"trigger queue full: {pending} undelivered messages (limit {limit})")


class JournalCorruptError(MqttOutputError, UserError):
    """A line of the trigger journal, other than a torn last one, cannot be read.

    Reported at start as one line naming the file, the line and what to do:
    vagus only ever appends whole records, so a bad line before others means
    the file was damaged or edited; moving it away starts with an empty queue.
    """

    def __init__(self, *, path: Path, line: int) -> None:
        self.path = path
        self.line = line
        super().__init__(
            f"MQTT trigger journal {path}:{line}: not a journal record; move the file "
            f"away to start with an empty queue (its undelivered triggers are then not sent)"
        )


class BrokerTlsError(MqttOutputError, UserError):
    """The TLS connection to the broker failed for a reason no retry fixes: its certificate
    is not trusted, or it requires (or refused) our client certificate; not retried.

    ``reason`` is OpenSSL's reason code (e.g. ``TLSV13_ALERT_CERTIFICATE_REQUIRED``).
    """

    def __init__(self, *, host: str, port: int, reason: str, problem: str, hint: str) -> None:
        self.host = host
        self.port = port
        self.reason = reason
        self.problem = problem
        self.hint = hint
        super().__init__(f"MQTT broker {host}:{port}: TLS failed: {problem} ({reason}); {hint}")
