"""Why a connection to the broker failed: a refusal (permanent) or an outage (retried).

Shared by the publisher and the beats intake. A login the broker refuses
(CONNACK code) and a TLS failure no retry can fix (an untrusted broker
certificate, a client certificate missing or refused) become `UserError`s,
reported once; anything else is a `BrokerUnavailableError`, retried with
backoff.

aiomqtt hides one TLS failure: with TLS 1.3 the client finishes its handshake
before the broker checks the client certificate, so a broker that requires
one answers with an alert on the first read, which paho logs ("failed to
receive on socket") and drops; aiomqtt then waits for a CONNACK and reports
``Operation timed out`` after ``ack_timeout_s``. `TlsAlerts`, a filter on the
logger given to the client, keeps the `ssl.SSLError` paho logs (it is a
logging argument, so nothing here reads message text) and withholds that
line, since the error that `classify` makes of it says the same once.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
from collections.abc import Iterator

import aiomqtt
from aiomqtt.exceptions import MqttConnectError
from paho.mqtt.reasoncodes import ReasonCode

from vagus.mqtt.errors import (
    BrokerRefusedError,
    BrokerTlsError,
    BrokerUnavailableError,
    MqttOutputError,
)
from vagus.mqtt.settings import MqttSettings

REFUSED_CODES = frozenset({4, 5, 134, 135, 138, 140})
"""CONNACK codes that mean "you may not log in" (MQTT 3.1.1 §3.2.2.3, MQTT 5 §3.2.2.2)."""

_CLIENT_CERT_HINT = "check mqtt.client_cert and mqtt.client_key"
_CA_HINT = "check mqtt.ca_file and mqtt.host"

TLS_REFUSALS: dict[str, tuple[str, str]] = {
    "CERTIFICATE_VERIFY_FAILED": ("the broker's certificate is not trusted", _CA_HINT),
    "TLSV13_ALERT_CERTIFICATE_REQUIRED": (
        "the broker requires a client certificate",
        "set mqtt.client_cert and mqtt.client_key",
    ),
    "SSLV3_ALERT_BAD_CERTIFICATE": ("the broker refused the client certificate", _CLIENT_CERT_HINT),
    "SSLV3_ALERT_CERTIFICATE_UNKNOWN": (
        "the broker refused the client certificate",
        _CLIENT_CERT_HINT,
    ),
    "TLSV1_ALERT_UNKNOWN_CA": (
        "the broker does not trust the client certificate's CA",
        _CLIENT_CERT_HINT,
    ),
    "SSLV3_ALERT_CERTIFICATE_EXPIRED": (
        "the broker refused the client certificate as expired",
        _CLIENT_CERT_HINT,
    ),
    "SSLV3_ALERT_CERTIFICATE_REVOKED": (
        "the broker refused the client certificate as revoked",
        _CLIENT_CERT_HINT,
    ),
    "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE": (
        "the broker refused the client certificate's kind",
        _CLIENT_CERT_HINT,
    ),
    "WRONG_VERSION_NUMBER": (
        "the port does not speak TLS",
        "check mqtt.port, or turn tls off for a plain listener",
    ),
}
"""OpenSSL reason codes of TLS failures that no retry fixes: what they mean, what to check."""


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def tls_refusal(exc: BaseException | None) -> ssl.SSLError | None:
    """The `ssl.SSLError` in ``exc`` or its chain that no retry can fix, else None."""
    for link in _chain(exc):
        if isinstance(link, ssl.SSLError) and link.reason in TLS_REFUSALS:
            return link
    return None


def classify(
    settings: MqttSettings, exc: aiomqtt.MqttError, *, tls_alert: ssl.SSLError | None = None
) -> MqttOutputError:
    """The error ``exc`` means: refused login, permanent TLS failure, or broker unavailable.

    ``tls_alert`` is the TLS error paho logged on this connection (`TlsAlerts.take`).
    """
    rc = exc.rc if isinstance(exc, aiomqtt.MqttCodeError) else None
    code = rc.value if isinstance(rc, ReasonCode) else rc
    if isinstance(exc, MqttConnectError) and code in REFUSED_CODES:
        return BrokerRefusedError(
            host=settings.host, port=settings.port, username=settings.username, reason=str(exc)
        )
    refusal = tls_refusal(exc) or tls_refusal(tls_alert)
    if refusal is not None:
        reason = str(refusal.reason)
        problem, hint = TLS_REFUSALS[reason]
        if isinstance(refusal, ssl.SSLCertVerificationError) and refusal.verify_message:
            problem = f"{problem}: {refusal.verify_message}"
        return BrokerTlsError(
            host=settings.host, port=settings.port, reason=reason, problem=problem, hint=hint
        )
    return BrokerUnavailableError(host=settings.host, port=settings.port, reason=str(exc))


def close_leaked_sockets(exc: BaseException) -> int:
    """Close the sockets a failed connect left open in the frames of ``exc``'s chain; how many.

    When the TLS handshake fails inside paho's ``connect``, the socket it was wrapping is
    never closed: it lives on in the traceback (aiomqtt keeps the error as the context of
    its own) until the garbage collector finds it and warns (``ResourceWarning``).
    """
    closed = 0
    for link in _chain(exc):
        tb = link.__traceback__
        while tb is not None:
            for value in list(tb.tb_frame.f_locals.values()):
                if isinstance(value, socket.socket) and value.fileno() != -1:
                    with contextlib.suppress(OSError):
                        value.close()
                        closed += 1
            tb = tb.tb_next
    return closed


class TlsAlerts(logging.Filter):
    """A filter for a client's paho logger: keeps the last permanent TLS error it logs.

    The record carrying it is withheld (`classify` reports it, once); every other
    record passes.
    """

    def __init__(self) -> None:
        super().__init__()
        self._last: ssl.SSLError | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        for arg in args:
            if isinstance(arg, BaseException) and (refusal := tls_refusal(arg)) is not None:
                self._last = refusal
                return False
        return True

    def take(self) -> ssl.SSLError | None:
        """The last permanent TLS error logged since the previous call, or None."""
        last, self._last = self._last, None
        return last


def client_logger(name: str, alerts: TlsAlerts) -> logging.Logger:
    """A logger for one client, filtered by ``alerts``, whose records go to aiomqtt's
    ``mqtt`` logger (and its handlers and ancestors) as before.

    It is not registered under its name, so each client has its own filter and none
    outlives its client.
    """
    logger = logging.Logger(f"mqtt.{name}")
    logger.parent = logging.getLogger("mqtt")
    logger.addFilter(alerts)
    return logger
