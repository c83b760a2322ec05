"""The few MQTT 3.1.1 packets the daemon writes and reads in bulk, as bytes.

paho builds and parses every packet through general Python machinery (a
message object with a `threading.Condition`, a queued dict, a ``send`` per
packet); at thousands of messages a second that is most of the daemon's
time. These are the same packets, laid out by the standard (OASIS MQTT
3.1.1, §2.2 fixed header, §3.3 PUBLISH, §3.4 PUBACK), so that a batch can go
to paho's writer as one buffer (`vagus.daemon._paho_receive`,
`vagus.mqtt.publisher`) and a PUBLISH be read without building a message
object. Sans-IO: bytes in, bytes or values out.
"""

from __future__ import annotations

from collections.abc import Iterable

_PUBLISH = 0x30
_PUBACK = b"\x40\x02"


class MalformedPublishError(ValueError):
    """A PUBLISH body that does not hold what its header says."""


def remaining_length(n: int) -> bytes:
    """The fixed header's "remaining length" of ``n`` bytes (§2.2.3: 7 bits a byte, low first)."""
    out = bytearray()
    while True:
        n, byte = divmod(n, 128)
        out.append(byte | (128 if n else 0))
        if not n:
            return bytes(out)


def publish_packet(topic: str, payload: bytes, *, qos: int = 0, mid: int = 0) -> bytes:
    """One PUBLISH (not retained, not a duplicate) of ``payload`` on ``topic``; ``mid`` is its
    packet id, sent for QoS 1 and 2 only (§3.3)."""
    name = topic.encode()
    head = len(name).to_bytes(2, "big") + name + (mid.to_bytes(2, "big") if qos else b"")
    size = remaining_length(len(head) + len(payload))
    return bytes([_PUBLISH | qos << 1]) + size + head + payload


def publish_packets(messages: Iterable[tuple[str, bytes]]) -> bytes:
    """QoS 0 PUBLISH packets of ``(topic, payload)`` pairs, in order, as one buffer."""
    return b"".join([publish_packet(topic, payload) for topic, payload in messages])


def puback_packets(mids: Iterable[int]) -> bytes:
    """The PUBACKs of packet ids ``mids``, in order, as one buffer (§3.4)."""
    return b"".join([_PUBACK + mid.to_bytes(2, "big") for mid in mids])


def read_publish(header: int, body: bytes | bytearray) -> tuple[bytes, bytes, int, int]:
    """``(topic, payload, packet id, qos)`` of a PUBLISH from its first header byte and the
    bytes after its remaining length (§3.3.1-3.3.3; packet id 0 at QoS 0).

    `MalformedPublishError` when the body is shorter than its topic (and packet id) say,
    the topic is empty, or the QoS is 3.
    """
    qos = (header & 0x06) >> 1
    if qos == 3:
        raise MalformedPublishError("QoS 3")
    if len(body) < 2:
        raise MalformedPublishError("no topic length")
    end = 2 + (body[0] << 8 | body[1])
    start = end + (2 if qos else 0)
    if end == 2 or len(body) < start:
        raise MalformedPublishError("topic or packet id cut short")
    mid = body[end] << 8 | body[end + 1] if qos else 0
    return bytes(body[2:end]), bytes(body[start:]), mid, qos
