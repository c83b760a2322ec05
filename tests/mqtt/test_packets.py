"""`vagus.mqtt.packets` against paho's own packet code (an independent implementation)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from paho.mqtt._packet import decode_publish
from paho.mqtt.client import CallbackAPIVersion, Client, MQTTProtocolVersion

from vagus.mqtt.packets import (
    MalformedPublishError,
    puback_packets,
    publish_packet,
    publish_packets,
    read_publish,
    remaining_length,
)

topics = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00+#"),
    min_size=1,
    max_size=80,
)
payloads = st.binary(max_size=40_000)


def split(packet: bytes) -> tuple[int, bytes]:
    """A packet's first header byte and its body (after the remaining length)."""
    i, length, shift = 1, 0, 0
    while True:
        byte = packet[i]
        length |= (byte & 0x7F) << shift
        shift += 7
        i += 1
        if not byte & 0x80:
            break
    assert len(packet) - i == length
    return packet[0], packet[i:]


PAHO = Client(CallbackAPIVersion.VERSION2)


@given(st.integers(0, 268_435_455))
def test_remaining_length_is_pahos(n: int) -> None:
    assert remaining_length(n) == bytes(PAHO._pack_remaining_length(bytearray(), n))


@given(topics, payloads, st.integers(0, 1), st.integers(1, 65535))
def test_a_publish_reads_back_as_paho_and_we_read_it(
    topic: str, payload: bytes, qos: int, mid: int
) -> None:
    header, body = split(publish_packet(topic, payload, qos=qos, mid=mid))
    theirs = decode_publish(header, body, MQTTProtocolVersion.MQTTv311)
    expected_mid = mid if qos else 0
    assert (theirs.topic, theirs.payload, theirs.mid, theirs.qos) == (
        topic.encode(),
        payload,
        expected_mid,
        qos,
    )
    assert not theirs.retain
    assert not theirs.dup
    assert read_publish(header, body) == (topic.encode(), payload, expected_mid, qos)


@given(st.integers(0, 255), st.binary(max_size=64))
def test_any_body_reads_as_paho_reads_it_or_is_refused(header: int, body: bytes) -> None:
    """Never another exception; where paho's decoder accepts a QoS 0-2 packet with a
    topic, the same fields."""
    try:
        ours = read_publish(header, body)
    except MalformedPublishError:
        ours = None
    try:
        theirs = decode_publish(header, body, MQTTProtocolVersion.MQTTv311)
    except Exception:  # paho raises several kinds
        theirs = None
    if ours is not None:
        assert theirs is not None
        assert ours == (theirs.topic, theirs.payload, theirs.mid, theirs.qos)
    elif theirs is not None:
        assert theirs.qos == 3 or not theirs.topic


def test_batches_are_the_packets_in_order() -> None:
    messages = [("a/b", b"1"), ("c", b""), ("d/e/f", b"x" * 300)]
    assert publish_packets(messages) == b"".join(publish_packet(t, p) for t, p in messages)
    assert puback_packets([1, 258, 65535]) == bytes.fromhex("40020001400201024002ffff")


@pytest.mark.parametrize("body", [b"", b"\x00", b"\x00\x05abc", b"\x00\x00payload"])
def test_short_or_topicless_bodies_are_malformed(body: bytes) -> None:
    with pytest.raises(MalformedPublishError):
        read_publish(0x30, body)
    with pytest.raises(MalformedPublishError):
        read_publish(0x32, b"\x00\x01a\x00")  # QoS 1 without a whole packet id
