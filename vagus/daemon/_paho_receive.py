"""paho's receive and acknowledge path, made cheap for thousands of messages a second.

The MQTT intake (`vagus.daemon._mqtt_intake`) keeps aiomqtt for the
connection (connect, subscribe, disconnect, errors) and takes the messages
from paho directly, because paho 2.2 and aiomqtt 2.5 spend most of a busy
intake's time on each packet (py-spy at 10,000 messages/s,
``benchmarks/e2e.py``):

- paho reads a packet with three or more ``recv`` calls (the command byte,
  each length byte, the rest): `_BufferedReads` serves them from one read of
  up to `READ_BYTES`, and a socket wake-up reads every packet it holds;
- paho makes each message an `MQTTMessage` (with a `threading.Condition` for
  its publish-side wait), matches its topic against per-filter callbacks (a
  trie walk), acknowledges it, and aiomqtt wraps it again in its own
  `aiomqtt.Message` (a validated topic object) and an asyncio queue put:
  `RawMessages` takes paho's PUBLISH handler, reads the packet
  (`vagus.mqtt.packets`) into a `Received`, acknowledges nothing, and wakes
  the intake once per batch;
- one PUBACK is one queued packet and one ``send``: `send_pubacks` queues a
  delivery's PUBACKs as one write.

All of it touches paho 2.2's private names (``_sock_recv``, ``_packet_read``,
``_packet_queue``, ...); ``tests/app/test_mqtt_intake.py`` runs it against a
real broker, so an upgrade that renames them fails there.
"""

from __future__ import annotations

import asyncio
import collections
from dataclasses import dataclass

import aiomqtt
import paho.mqtt.client as paho
from paho.mqtt.enums import MQTTErrorCode

from vagus.mqtt.packets import MalformedPublishError, puback_packets, read_publish

READ_BYTES = 65536
"""Bytes asked of the socket at a time."""

MAX_READ_PACKETS = 1024
"""Packets read from the socket in one wake-up before other tasks get a turn (what is
already buffered is always read: the socket would not wake the loop for it)."""


@dataclass(slots=True, frozen=True)
class Received:
    """One PUBLISH as the intake needs it."""

    topic: str
    """The topic; invalid UTF-8 is replaced (no device id has such characters)."""
    payload: bytes
    mid: int
    """Packet id: names the message for its PUBACK within one connection."""
    qos: int


def fast_receive(client: aiomqtt.Client) -> RawMessages:
    """Set ``client`` (not yet connected) to hand its messages to the returned `RawMessages`,
    unacknowledged (the caller acks with `send_pubacks`), read through `_BufferedReads`."""
    _BufferedReads(client._client)
    return RawMessages(client)


class RawMessages:
    """The messages of one paho client (MQTT 3.1.1) as they arrive, a batch at a time.

    Its PUBLISH packets are taken straight from paho's packet handler
    (`vagus.mqtt.packets.read_publish`).
    """

    def __init__(self, client: aiomqtt.Client) -> None:
        inner = client._client
        if inner._protocol == paho.MQTTv5:
            raise ValueError("the intake speaks MQTT 3.1.1")
        self._client = client
        self._messages: collections.deque[Received] = collections.deque()
        self._ready = asyncio.Event()
        inner._handle_publish = self._handle_publish  # type: ignore[method-assign]

    def _handle_publish(self) -> MQTTErrorCode:
        # Called by paho's packet reader inside aiomqtt's socket reader, on the event loop; a
        # protocol error ends the connection there, as paho's own handler's would.
        packet = self._client._client._in_packet
        try:
            topic, payload, mid, qos = read_publish(packet["command"], packet["packet"])
        except MalformedPublishError:
            return MQTTErrorCode.MQTT_ERR_PROTOCOL
        if qos == 2:  # the subscription is granted QoS 1: a broker may not send more
            return MQTTErrorCode.MQTT_ERR_PROTOCOL
        messages = self._messages
        messages.append(Received(topic.decode("utf-8", "replace"), payload, mid, qos))
        if len(messages) == 1:  # the intake waits only on an empty deque
            self._ready.set()
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    async def batch(self, limit: int) -> list[Received]:
        """The next 1 to ``limit`` messages, oldest first, once there are any; raises
        `aiomqtt.MqttError` when the connection ends first (as aiomqtt's iterator does)."""
        while not self._messages:
            disconnected = self._client._disconnected  # aiomqtt renews it on each connect
            if disconnected.done():
                raise aiomqtt.MqttError("Disconnected during message iteration") from (
                    None if disconnected.cancelled() else disconnected.exception()
                )
            self._ready.clear()
            waiter = asyncio.ensure_future(self._ready.wait())
            try:
                await asyncio.wait((waiter, disconnected), return_when=asyncio.FIRST_COMPLETED)
            finally:
                waiter.cancel()
        take = min(limit, len(self._messages))
        return [self._messages.popleft() for _ in range(take)]


def send_pubacks(client: paho.Client, messages: list[Received]) -> None:
    """Queue the acknowledgements of ``messages`` (QoS 1: PUBACKs in one write; QoS 0: none).

    paho's writer sends them from the event loop; a lost socket shows there, never here.
    """
    mids = [message.mid for message in messages if message.qos == 1]
    if mids:
        client._packet_queue(paho.PUBACK, puback_packets(mids), 0, 0)


class _BufferedReads:
    """paho's socket reads served from a buffer, and a socket wake-up that reads all of it.

    Installed on one paho client before it connects. The buffer belongs to the
    socket it was read from: a new socket starts empty.
    """

    def __init__(self, client: paho.Client) -> None:
        self._client = client
        self._recv = client._sock_recv
        self._sock: object = None
        self._data = b""
        self._pos = 0
        client._sock_recv = self._buffered_recv  # type: ignore[method-assign]
        client.loop_read = self._loop_read  # type: ignore[method-assign]

    def _buffered_recv(self, bufsize: int) -> bytes:
        if self._client._sock is not self._sock:
            self._sock, self._data, self._pos = self._client._sock, b"", 0
        if self._pos >= len(self._data):
            data = self._recv(READ_BYTES)  # BlockingIOError when empty, as paho expects
            if not data:
                return data  # the connection ended
            self._data, self._pos = data, 0
        end = self._pos + bufsize
        chunk = self._data[self._pos : end]
        self._pos += len(chunk)
        return chunk

    def _buffered(self) -> bool:
        return self._client._sock is self._sock and self._pos < len(self._data)

    def _loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        """Read up to `MAX_READ_PACKETS` packets and then whatever is still buffered
        (aiomqtt calls this when the socket is readable; ``max_packets`` is paho's)."""
        client = self._client
        read = 0
        while client._sock is not None and (read < MAX_READ_PACKETS or self._buffered()):
            rc = client._packet_read()
            read += 1
            if rc == paho.MQTT_ERR_AGAIN:
                break
            if rc != paho.MQTT_ERR_SUCCESS:
                return client._loop_rc_handle(rc)
        if client._sock is None:
            return paho.MQTT_ERR_NO_CONN
        return paho.MQTT_ERR_SUCCESS
