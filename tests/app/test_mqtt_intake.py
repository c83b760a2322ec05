"""The MQTT intake against a real Mosquitto: beats and feedback deliveries, poison messages,
manual acks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable

import aiomqtt
import numpy as np
import pytest

from hrv import BeatBatch
from ingest import (
    MAX_PAYLOAD_BYTES,
    BeatsRejection,
    FeedbackRejection,
    beats_topic,
    encode_beats,
    encode_feedback,
    feedback_topic,
)
from tests.mqtt.support import unique_settings
from tests.servers import Mosquitto
from vagus.daemon._mqtt_intake import IntakeCounters, receive_mqtt_beats
from vagus.daemon._paho_receive import READ_BYTES
from vagus.events import BeatColumns, Delivery, Feedback, InboxItem
from vagus.mqtt import MqttSettings

pytestmark = pytest.mark.integration

Inbox = asyncio.Queue[InboxItem | None]


def beat(device: str, k: int) -> bytes:
    """Message number ``k`` of ``device``: one beat at ``t_s = k``."""
    batch = BeatBatch(
        device=device, t_s=np.array([float(k)]), rr_ms=np.array([800.0 + k]), gap=np.array([k == 0])
    )
    return encode_beats(batch)


async def eventually(check: Callable[[], bool], *, timeout_s: float = 10.0) -> None:
    """Poll ``check`` until it holds."""
    async with asyncio.timeout(timeout_s):
        while not check():  # noqa: ASYNC110 - the counters are plain data, with no event to await
            await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def running_intake(
    settings: MqttSettings,
    inbox: Inbox,
    *,
    stop_timeout_s: float = 2.0,
    now: Callable[[], float] = time.time,
) -> AsyncIterator[tuple[IntakeCounters, asyncio.Event, asyncio.Task[None]]]:
    """An intake task, subscribed before the body runs; stopped (and awaited) after it."""
    counters = IntakeCounters()
    stopping = asyncio.Event()
    task = asyncio.create_task(
        receive_mqtt_beats(
            settings,
            None,
            inbox,
            stopping,
            counters=counters,
            stop_timeout_s=stop_timeout_s,
            now=now,
        ),
        name="intake",
    )
    try:
        await eventually(lambda: counters.sessions > 0)
        yield counters, stopping, task
    finally:
        stopping.set()
        await asyncio.wait_for(task, timeout=stop_timeout_s + 10)


@contextlib.asynccontextmanager
async def publisher(mosquitto: Mosquitto) -> AsyncIterator[aiomqtt.Client]:
    async with aiomqtt.Client("127.0.0.1", mosquitto.port) as client:
        yield client


async def take(inbox: Inbox, n: int, timeout_s: float = 10.0) -> list[Delivery]:
    """The next inbox items until they hold ``n`` messages, each checked to be a `Delivery`
    of `BeatColumns` (the intake gathers what it received at once into one)."""
    got: list[Delivery] = []
    async with asyncio.timeout(timeout_s):
        while sum(len(messages(d)) for d in got) < n:
            item = await inbox.get()
            assert isinstance(item, Delivery)
            assert isinstance(item.event, BeatColumns)
            got.append(item)
    assert sum(len(messages(d)) for d in got) == n
    return got


def messages(delivery: Delivery) -> list[BeatBatch]:
    """The beats messages of ``delivery``, one `BeatBatch` each."""
    assert isinstance(delivery.event, BeatColumns)
    return delivery.event.batches()


async def nothing_more(inbox: Inbox, wait_s: float = 0.5) -> None:
    """Assert that nothing arrives in the inbox for ``wait_s``."""
    await asyncio.sleep(wait_s)
    assert inbox.empty(), f"unexpected: {inbox.get_nowait()!r}"


def beats_of(deliveries: list[Delivery]) -> list[tuple[str, float]]:
    out = []
    for d in deliveries:
        for batch in messages(d):
            out.extend((batch.device, float(t)) for t in batch.t_s)
    return out


async def test_good_messages_arrive_as_deliveries(mosquitto: Mosquitto) -> None:
    """Messages of two devices arrive as Deliveries of the same beats, message by message,
    in order per device; counters follow (received, delivered, acked once each ack is
    called: an ack acknowledges every message of its delivery)."""
    settings = unique_settings(mosquitto)
    inbox: Inbox = asyncio.Queue()
    sent = BeatBatch(
        device="phone-1",
        t_s=np.array([1.5, 2.3, 3.1]),
        rr_ms=np.array([800.0, 812.5, 790.25]),
        gap=np.array([True, False, False]),
    )
    async with running_intake(settings, inbox) as (counters, _, _), publisher(mosquitto) as pub:
        await pub.publish(beats_topic(settings.prefix, "phone-1"), encode_beats(sent), qos=1)
        for k in range(1, 4):
            await pub.publish(
                beats_topic(settings.prefix, "C0:FF:EE:00:00:01"),
                beat("C0:FF:EE:00:00:01", k),
                qos=1,
            )
        got = await take(inbox, 4)
        first = messages(got[0])[0]
        assert first.device == "phone-1"
        assert first.t_s.tolist() == [1.5, 2.3, 3.1]
        assert first.rr_ms.tolist() == [800.0, 812.5, 790.25]
        assert first.gap.tolist() == [True, False, False]
        assert [len(b) for d in got for b in messages(d)] == [3, 1, 1, 1]
        assert beats_of(got)[3:] == [
            ("C0:FF:EE:00:00:01", 1.0),
            ("C0:FF:EE:00:00:01", 2.0),
            ("C0:FF:EE:00:00:01", 3.0),
        ]
        assert (counters.received, counters.delivered, counters.acked) == (4, 4, 0)
        for delivery in got:
            delivery.ack()
            delivery.ack()  # a second call is harmless
        assert counters.acked == 4
        assert counters.rejected_total == 0


POISON: list[tuple[str, bytes, str]] = [
    # (device level of the topic, payload, reason)
    ("phone-1", beat("phone-2", 0), "device_mismatch"),
    ("phone-1", beat("phone-1", 0).replace(b'"phone-1"', b'"phone-1/+/#"'), "device_mismatch"),
    ("bad device", beat("bad device", 0), "bad_device"),
    (".hidden", beat(".hidden", 0), "bad_device"),
    ("phone-1", b"[" * 1000 + b"]" * 1000, "too_deep"),
    ("phone-1", b'{"schema":1,"device":"\xff\xfe"}', "not_utf8"),
    ("phone-1", b" " * (MAX_PAYLOAD_BYTES + 1), "too_large"),
    ("phone-1", beat("phone-1", 0).replace(b'"schema":1', b'"schema":2'), "wrong_schema"),
    ("phone-1", b"{not json", "not_json"),
    (
        "phone-1",
        b'{"schema":1,"device":"phone-1","t_s":[1.0,2.0],"rr_ms":[800.0],"gap":[false]}',
        "bad_columns",
    ),
]


async def test_poison_messages_are_counted_while_good_beats_keep_arriving(
    mosquitto: Mosquitto,
) -> None:
    """Each poison message (payload device differing from the topic's, invalid device id in
    the topic, JSON nested 1,000 deep, non-UTF-8, oversize, wrong schema, ...) is refused and
    counted by reason, while a good device's messages, sent between them, all arrive."""
    settings = unique_settings(mosquitto)
    inbox: Inbox = asyncio.Queue()
    good_topic = beats_topic(settings.prefix, "phone-1")
    async with (
        running_intake(settings, inbox) as (counters, _, task),
        publisher(mosquitto) as pub,
    ):
        for k, (device, payload, _) in enumerate(POISON):
            await pub.publish(good_topic, beat("phone-1", k), qos=1)
            await pub.publish(f"{settings.prefix}/{device}/beats", payload, qos=1)
        await pub.publish(good_topic, beat("phone-1", len(POISON)), qos=1)
        got = await take(inbox, len(POISON) + 1)
        assert beats_of(got) == [("phone-1", float(k)) for k in range(len(POISON) + 1)]
        for delivery in got:
            delivery.ack()
        await nothing_more(inbox)
        assert not task.done()
    assert counters.rejected == Counter(BeatsRejection(reason) for _, _, reason in POISON)
    assert counters.received == 2 * len(POISON) + 1
    assert counters.delivered == counters.acked == len(POISON) + 1
    assert counters.internal_errors == 0


async def test_feedback_arrives_as_deliveries_and_bad_feedback_does_not_stop_beats(
    mosquitto: Mosquitto,
) -> None:
    """Feedback on ``<prefix>/<device>/feedback`` arrives as a Delivery of a `Feedback` for the
    topic's device, stamped with the intake's ``now`` when it has no ``t_s``; malformed
    feedback is counted by reason while beats sent between them all arrive."""
    settings = unique_settings(mosquitto)
    inbox: Inbox = asyncio.Queue()
    beats_at = beats_topic(settings.prefix, "phone-1")
    bad_feedback = [
        (b"{not json", FeedbackRejection.NOT_JSON),
        (b'{"schema":1,"verdict":"meh"}', FeedbackRejection.BAD_VERDICT),
        (b'{"schema":1,"verdict":"helpful","t_s":"soon"}', FeedbackRejection.BAD_TIME),
    ]
    async with (
        running_intake(settings, inbox, now=lambda: 1_700_000_123.5) as (counters, _, task),
        publisher(mosquitto) as pub,
    ):
        await pub.publish(
            feedback_topic(settings.prefix, "phone-1"),
            encode_feedback("false_alarm", trigger_id="trig-1", t_s=1_700_000_000.0),
            qos=1,
        )
        await pub.publish(
            feedback_topic(settings.prefix, "C0:FF:EE:00:00:01"),
            encode_feedback("not_now"),
            qos=1,
        )
        for k, (payload, _) in enumerate(bad_feedback):
            await pub.publish(beats_at, beat("phone-1", k), qos=1)
            await pub.publish(feedback_topic(settings.prefix, "phone-1"), payload, qos=1)
        await pub.publish(beats_at, beat("phone-1", len(bad_feedback)), qos=1)
        got: list[Delivery] = []
        async with asyncio.timeout(10):
            while counters.delivered < 2 + len(bad_feedback) + 1 or not inbox.empty():
                item = await inbox.get()
                assert isinstance(item, Delivery)
                got.append(item)
        answers = [d.event for d in got if isinstance(d.event, Feedback)]
        assert answers == [
            Feedback(
                device="phone-1", verdict="false_alarm", t_s=1_700_000_000.0, trigger_id="trig-1"
            ),
            Feedback(device="C0:FF:EE:00:00:01", verdict="not_now", t_s=1_700_000_123.5),
        ]
        beat_deliveries = [d for d in got if isinstance(d.event, BeatColumns)]
        assert beats_of(beat_deliveries) == [
            ("phone-1", float(k)) for k in range(len(bad_feedback) + 1)
        ]
        for delivery in got:
            delivery.ack()
        await nothing_more(inbox)
        assert not task.done()
    assert counters.feedback_rejected == Counter(reason for _, reason in bad_feedback)
    assert counters.rejected == Counter()
    assert counters.feedback == 2
    assert counters.delivered == counters.acked == 2 + len(bad_feedback) + 1
    assert counters.internal_errors == 0


async def test_refusals_are_logged_once_a_minute_without_content(
    mosquitto: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    """Five refusals for one reason give one log line (with the count so far), and no log
    line quotes a payload."""
    settings = unique_settings(mosquitto)
    inbox: Inbox = asyncio.Queue()
    topic = beats_topic(settings.prefix, "phone-1")
    secret = b'{"schema":2,"device":"phone-1","note":"SECRET-CONTENT"}'
    with caplog.at_level(logging.INFO, logger="vagus.daemon._mqtt_intake"):
        async with running_intake(settings, inbox) as (counters, _, _), publisher(mosquitto) as pub:
            for _ in range(5):
                await pub.publish(topic, secret, qos=1)
            await pub.publish(topic, beat("phone-1", 1), qos=1)
            (delivery,) = await take(inbox, 1)
            delivery.ack()
    assert counters.rejected == Counter({BeatsRejection.WRONG_SCHEMA: 5})
    refusals = [r for r in caplog.records if "refused a message" in r.getMessage()]
    assert len(refusals) == 1
    assert "wrong_schema" in refusals[0].getMessage()
    assert "(1 wrong_schema so far" in refusals[0].getMessage()
    assert "SECRET" not in caplog.text
    assert "wrong_schema 5" in caplog.records[-1].getMessage()  # the summary when stopping


async def test_unacked_deliveries_are_redelivered_after_a_restart(mosquitto: Mosquitto) -> None:
    """Manual ack really defers the PUBACK: of six delivered messages, the three the engine
    did not ack come again to a new intake with the same client id; acked ones do not."""
    settings = unique_settings(mosquitto)
    topic = beats_topic(settings.prefix, "phone-1")
    first: Inbox = asyncio.Queue()
    async with (
        running_intake(settings, first, stop_timeout_s=0.3) as (counters, _, _),
        publisher(mosquitto) as pub,
    ):
        for k in (0, 2, 4):
            await pub.publish(topic, beat("phone-1", k), qos=1)
        acked = await take(first, 3)
        for delivery in acked:
            delivery.ack()
        for k in (1, 3, 5):
            await pub.publish(topic, beat("phone-1", k), qos=1)
        got = await take(first, 3)
        assert beats_of(acked + got) == [("phone-1", float(k)) for k in (0, 2, 4, 1, 3, 5)]
    assert counters.acked == 3

    second: Inbox = asyncio.Queue()
    async with running_intake(settings, second) as (counters, _, _):
        again = await take(second, 3)
        assert sorted(beats_of(again)) == [("phone-1", 1.0), ("phone-1", 3.0), ("phone-1", 5.0)]
        await nothing_more(second)
        for delivery in again:
            delivery.ack()

    third: Inbox = asyncio.Queue()
    async with running_intake(settings, third):
        await nothing_more(third)


async def test_stopping_waits_for_acks_and_late_acks_are_not_sent(mosquitto: Mosquitto) -> None:
    """A stopping intake returns as soon as the deliveries in the inbox are acked; an ack
    after it returned sends nothing (counted late) and that message comes again."""
    settings = unique_settings(mosquitto)
    topic = beats_topic(settings.prefix, "phone-1")
    inbox: Inbox = asyncio.Queue()
    async with (
        running_intake(settings, inbox, stop_timeout_s=5.0) as (counters, stopping, task),
        publisher(mosquitto) as pub,
    ):
        for k in range(2):
            await pub.publish(topic, beat("phone-1", k), qos=1)
        got = await take(inbox, 2)
        stopping.set()
        await asyncio.sleep(0.2)
        assert not task.done()  # waiting for the acks
        start = time.monotonic()
        for delivery in got:
            delivery.ack()
        await asyncio.wait_for(task, timeout=2)
        assert time.monotonic() - start < 1.0
    assert counters.acked == 2

    inbox = asyncio.Queue()
    async with (
        running_intake(settings, inbox, stop_timeout_s=0.2) as (counters, _, _),
        publisher(mosquitto) as pub,
    ):
        await pub.publish(topic, beat("phone-1", 7), qos=1)
        (late,) = await take(inbox, 1)
    late.ack()  # the intake has stopped: too late
    assert (counters.acked, counters.late_acks) == (0, 1)

    inbox = asyncio.Queue()
    async with running_intake(settings, inbox):
        (again,) = await take(inbox, 1)
        assert beats_of([again]) == [("phone-1", 7.0)]
        again.ack()


async def test_reconnects_after_a_broker_restart(mosquitto: Mosquitto) -> None:
    """After the broker restarts, the intake reconnects with backoff, subscribes again and
    receives; an ack of a delivery from the lost connection is not sent on the new one."""
    settings = unique_settings(mosquitto)
    topic = beats_topic(settings.prefix, "phone-1")
    inbox: Inbox = asyncio.Queue()
    try:
        async with running_intake(settings, inbox) as (counters, _, task):
            async with publisher(mosquitto) as pub:
                await pub.publish(topic, beat("phone-1", 1), qos=1)
            (before,) = await take(inbox, 1)
            await asyncio.to_thread(mosquitto.stop)
            await asyncio.sleep(0.3)
            await asyncio.to_thread(mosquitto.start)
            await eventually(lambda: counters.sessions == 2)
            before.ack()
            assert counters.late_acks == 1
            async with publisher(mosquitto) as pub:
                await pub.publish(topic, beat("phone-1", 2), qos=1)
            (after,) = await take(inbox, 1)
            assert beats_of([after]) == [("phone-1", 2.0)]
            after.ack()
            assert counters.reconnects >= 1
            assert not task.done()
    finally:
        if mosquitto.proc is None:
            mosquitto.start()


async def test_a_backlog_beyond_the_inflight_window_and_one_read_arrives_whole(
    mosquitto: Mosquitto,
) -> None:
    """The intake reads its socket a buffer at a time and a wake-up reads all the buffer
    holds (`vagus.daemon._paho_receive`): a session backlog queued while it was away, more
    messages than the broker's in-flight window (20) and one larger than a read, arrives
    whole and in order after the restart, with the subscription granted even though
    queued messages came before its SUBACK; the batched PUBACKs settle it all."""
    settings = unique_settings(mosquitto)
    async with running_intake(settings, asyncio.Queue()):
        pass  # the persistent session now exists
    n = 4000
    big = BeatBatch(
        device="phone-1",
        t_s=np.round(1000.0 + 0.8 * np.arange(n), 3),
        rr_ms=np.full(n, 800.0),
        gap=np.zeros(n, dtype=bool),
    )
    assert len(encode_beats(big)) > READ_BYTES
    sent: list[tuple[str, float]] = []
    async with publisher(mosquitto) as pub:
        for k in range(300):
            device = f"phone-{k % 3}"
            await pub.publish(beats_topic(settings.prefix, device), beat(device, k), qos=1)
            sent.append((device, float(k)))
            if k == 150:
                await pub.publish(beats_topic(settings.prefix, "phone-1"), encode_beats(big), qos=1)
                sent.extend(("phone-1", float(t)) for t in big.t_s)

    second: Inbox = asyncio.Queue()
    async with running_intake(settings, second) as (counters, _, _):
        got: list[Delivery] = []
        async with asyncio.timeout(20):
            while sum(len(messages(d)) for d in got) < 301:
                item = await second.get()
                assert isinstance(item, Delivery)
                item.ack()  # the broker sends more as the window frees
                got.append(item)
        assert sum(len(messages(d)) for d in got) == 301
        assert beats_of(got) == sent
        assert counters.sessions == 1
        await eventually(lambda: counters.acked == 301)

    # Mosquitto may take the next connection's session over before it has read the PUBACKs
    # and DISCONNECT still on the closed one (two sockets, no order between them): then it
    # sends the last delivery again, which at-least-once allows. Give it time to read them.
    await asyncio.sleep(0.5)
    third: Inbox = asyncio.Queue()
    async with running_intake(settings, third):
        await nothing_more(third)
