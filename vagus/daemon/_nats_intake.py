"""The NATS JetStream intake: this worker's partitions of the beats stream into the inbox,
acked after processing, with per-partition checkpoints of the devices' state.

Gateways publish ``<prefix>/<device>/beats`` over MQTT to nats-server's
MQTT listener; the server's partition mapping files each message under
``<prefix>.beats.<partition>.<device>`` in the stream (`ingest.nats_subjects`).
This intake consumes each partition it owns through a durable pull
consumer ``<consumer>-p<N>`` (explicit acks), decodes the message with the
one beats codec (`ingest.beats_message`; the device is the subject's, checked
by `ingest.nats_subjects.device_of_subject` as an MQTT topic's would be), and
puts the good messages of each fetch (up to `FETCH_BATCH` of one partition)
into the inbox as one `Delivery` of `vagus.events.BeatColumns`, whose ``ack``
acknowledges them to JetStream once the pipeline has taken them. A worker
that dies before that leaves them with the consumer, for its replacement.

Taking over: a partition whose consumer holds messages unacked by a
worker that died is consumed again from the consumer's ack floor (the
consumer is made anew there), so those messages come first, in stream
order, rather than after ``ack_wait_s`` behind newer ones: a device's beats
stay in order.

Duplicates: a redelivered message (its stream sequence at or below the
last one the pipeline took for its partition, or the checkpoint's, or
still in the inbox) is not fed again; it is acked when already processed
and counted in ``duplicates``. Beats that reach the pipeline twice all the same (a sender
that published twice) are dropped by its input guard.

Checkpoints: every ``checkpoint_s``, and when stopping, the state of the
partitions' devices (`vagus.nats.checkpoint`: baselines, last beat times,
rule state, and the stream sequence it covers) is put into the key-value
bucket under ``<consumer>.p<N>``. At start the intake restores its partitions'
checkpoints into the pipeline before it consumes: a replacement worker
resumes each device's rules and baselines and continues from its
consumer's position; the beats taken between the checkpoint and the crash
are a hole its guard flags as a gap (the windows restart after it).

Start: the stream (subjects ``<prefix>.beats.*.*``) and the bucket are
created when missing, with ``replicas`` and ``max_age_s``; an existing
stream is used as it is. A first connection that fails (server away, login
refused) is logged with the server's reason and retried with
`ingest.backoff.backoff_delay`; once connected, nats-py reconnects by
itself, and a failing fetch is retried after a pause (logged once per kind).

Stopping (``stopping`` set): no new message is fetched; the intake waits up
to ``stop_timeout_s`` for the deliveries in the inbox to be acked, sends
the acks, writes the last checkpoints and closes. Unacked messages stay
with the consumers.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StorageType, StreamConfig
from nats.js.kv import KeyValue

from hrv import Baseline
from ingest.backoff import backoff_delay
from ingest.beats_message import decode_beat_lists
from ingest.device_topics import TopicError
from ingest.errors import BeatsMessageError, BeatsRejection
from ingest.nats_subjects import (
    device_of_subject,
    partition_subject,
    partitions_head,
    stream_subject,
)
from recommender import RuleStateError
from vagus.daemon._notices import RateLimit
from vagus.events import BeatColumns, Delivery, InboxItem
from vagus.nats.checkpoint import key_of, merge, split
from vagus.nats.settings import NatsSettings

log = logging.getLogger(__name__)

STOP_TIMEOUT_S = 2.0
"""How long a stopping intake waits for the deliveries in the inbox to be acked."""

FETCH_BATCH = 256
"""Messages asked for per fetch and partition."""

FETCH_WAIT_S = 1.0
"""How long one fetch waits for messages (also the delay before a stop is noticed)."""

MAX_ACK_PENDING = 2048
"""Unacked messages per consumer before JetStream stops delivering (backpressure)."""

RETRY_S = 1.0
"""Pause after a failed fetch or checkpoint before the next try."""

LOG_INTERVAL_S = 60.0
"""At most one log line per rejection reason or error kind in this time."""

StateSnapshot = Callable[[], tuple[dict[str, Baseline], dict[str, Any]]]
"""The pipeline's baselines and `Pipeline.snapshot`, taken between two steps."""

StateRestore = Callable[[Mapping[str, Any] | None, Mapping[str, Baseline]], None]
"""`Pipeline.restore`."""


@dataclass(slots=True, kw_only=True)
class NatsIntakeCounters:
    """What the intake did, for tests and the closing log line (mutated while it runs)."""

    received: int = 0
    """Messages fetched, good or not, duplicates included."""
    delivered: int = 0
    """Good messages put into the inbox as a `Delivery`."""
    acked: int = 0
    """Acks sent to JetStream (processed, refused or already-processed duplicates)."""
    duplicates: int = 0
    """Redeliveries not fed again (see the module docs)."""
    rejected: collections.Counter[BeatsRejection] = field(default_factory=collections.Counter)
    """Refused messages by reason (acked at once: they never become valid)."""
    restored_devices: int = 0
    """Devices whose state came from checkpoints at start."""
    checkpoints: int = 0
    """Checkpoints written (one per partition and round)."""
    errors: collections.Counter[str] = field(default_factory=collections.Counter)
    """Failed fetches, acks and checkpoints by error type."""


@dataclass(slots=True)
class _Partition:
    number: int
    sub: JetStreamContext.PullSubscription
    acked_seq: int = 0
    """The last stream sequence the pipeline took (or that was refused) here."""
    in_inbox: set[int] = field(default_factory=set)


async def receive_nats_beats(
    settings: NatsSettings,
    password: str | None,
    inbox: asyncio.Queue[InboxItem | None],
    stopping: asyncio.Event,
    *,
    snapshot: StateSnapshot,
    restore: StateRestore,
    counters: NatsIntakeCounters | None = None,
    stop_timeout_s: float = STOP_TIMEOUT_S,
    alias: Callable[[str], str] | None = None,
    rng: random.Random | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Put the beats of this worker's partitions into ``inbox`` as deliveries until
    ``stopping`` (see the module docs); ``alias`` renames each device as it enters."""
    counters = counters if counters is not None else NatsIntakeCounters()
    rng = rng if rng is not None else random.Random()
    client = await _connect(settings, password, stopping, counters, rng)
    if client is None:
        return
    try:
        intake = _Intake(settings, inbox, counters, RateLimit(clock, LOG_INTERVAL_S), alias)
        await intake.serve(client, stopping, snapshot, restore, stop_timeout_s)
    finally:
        with contextlib.suppress(nats.errors.Error, OSError):
            await client.close()
    log.info(
        "nats intake stopped: %d received, %d delivered, %d acked, %d duplicates, "
        "%d rejected, %d checkpoints",
        counters.received,
        counters.delivered,
        counters.acked,
        counters.duplicates,
        sum(counters.rejected.values()),
        counters.checkpoints,
    )


async def _connect(
    settings: NatsSettings,
    password: str | None,
    stopping: asyncio.Event,
    counters: NatsIntakeCounters,
    rng: random.Random,
) -> NatsClient | None:
    """A connection (retried with backoff until ``stopping``: then None)."""
    errors = RateLimit(time.monotonic, LOG_INTERVAL_S)

    async def on_error(exc: Exception) -> None:
        counters.errors[type(exc).__name__] += 1
        if errors.due(type(exc).__name__):
            log.warning("nats intake: %s: %s", type(exc).__name__, exc)

    attempt = 0
    while not stopping.is_set():
        try:
            client = await nats.connect(
                servers=[settings.url],
                user=settings.username,
                password=password,
                tls=settings.ssl_context(),
                name=f"vagus-{settings.consumer}",
                # Give up the first connection after 2 tries (nats-py would otherwise retry it
                # forever, never returning): the retries are ours, stoppable and logged.
                allow_reconnect=False,
                max_reconnect_attempts=1,
                connect_timeout=5,
                error_cb=on_error,
            )
        except (nats.errors.Error, OSError, TimeoutError) as exc:
            delay_s = backoff_delay(attempt, rng, base_s=1.0, cap_s=30.0)
            attempt += 1
            log.warning(
                "nats intake: cannot connect to %s: %s; retry in %.1f s",
                settings.url,
                str(exc) or type(exc).__name__,  # nats-py's texts, e.g. 'Authorization Violation'
                delay_s,
            )
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay_s):
                    await stopping.wait()
            continue
        # Connected: from now on nats-py reconnects by itself (the option is read on each loss).
        client.options["allow_reconnect"] = True
        client.options["max_reconnect_attempts"] = -1
        return client
    return None


class _Intake:
    """Consumes the owned partitions of one connection into the inbox."""

    def __init__(
        self,
        settings: NatsSettings,
        inbox: asyncio.Queue[InboxItem | None],
        counters: NatsIntakeCounters,
        notices: RateLimit,
        alias: Callable[[str], str] | None,
    ) -> None:
        self._settings = settings
        self._inbox = inbox
        self._counters = counters
        self._notices = notices
        self._alias = alias
        self._partitions: dict[int, _Partition] = {}
        self._partition_of: dict[str, int] = {}
        self._acks: collections.deque[Msg] = collections.deque()
        self._acks_ready = asyncio.Event()
        self._settled = asyncio.Event()
        self._settled.set()
        self._restored_seq: dict[int, int] = {}
        self._head = partitions_head(settings.prefix)
        self._in_inbox = 0

    async def serve(
        self,
        client: NatsClient,
        stopping: asyncio.Event,
        snapshot: StateSnapshot,
        restore: StateRestore,
        stop_timeout_s: float,
    ) -> None:
        js = client.jetstream()
        await self._ensure_stream(js)
        kv = await self._bucket(js)
        await self._restore(kv, snapshot, restore)
        settings = self._settings
        for number in settings.owned():
            durable = f"{settings.consumer}-p{number}"
            await self._take_over(js, number, durable)
            sub = await js.pull_subscribe_bind(durable=durable, stream=settings.stream)
            self._partitions[number] = _Partition(
                number, sub, acked_seq=self._restored_seq.get(number, 0)
            )
        log.info(
            "nats intake: consuming partitions %s of %d from stream %s",
            _ranges(settings.owned()),
            settings.partition_count,
            settings.stream,
        )
        async with asyncio.TaskGroup() as group:
            acker = group.create_task(self._send_acks(), name="nats[acks]")
            saver = group.create_task(self._checkpoints(kv, snapshot), name="nats[checkpoints]")
            fetchers = [
                group.create_task(self._consume(part), name=f"nats[p{part.number}]")
                for part in self._partitions.values()
            ]
            await stopping.wait()
            for task in fetchers:
                task.cancel()
            saver.cancel()
            await asyncio.wait([*fetchers, saver])
            unacked = await self._settle(stop_timeout_s)
            if unacked:
                log.info(
                    "nats intake: %d deliveries not acked within %.1f s stay with the consumers",
                    unacked,
                    stop_timeout_s,
                )
            await self._checkpoint(kv, snapshot)
            self._acks_ready.set()
            acker.cancel()
        await self._flush_acks()
        with contextlib.suppress(nats.errors.Error, OSError, TimeoutError):
            await client.flush(timeout=2)

    async def _take_over(self, js: JetStreamContext, number: int, durable: str) -> None:
        """Make partition ``number``'s durable consumer, or take it over in stream order.

        Messages the last worker left unacked (it died) would come back only after
        ``ack_wait_s``, behind newer ones, and a device's beats would arrive out of
        order: the consumer is made again from its ack floor, so they come first.
        """
        settings = self._settings
        config = ConsumerConfig(
            durable_name=durable,
            filter_subject=partition_subject(settings.prefix, number),
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=settings.ack_wait_s,
            max_ack_pending=MAX_ACK_PENDING,
        )
        try:
            info = await js.consumer_info(settings.stream, durable)
        except nats.js.errors.NotFoundError:
            await js.add_consumer(settings.stream, config)
            return
        if not info.num_ack_pending:
            return
        start = (0 if info.ack_floor is None else info.ack_floor.stream_seq) + 1
        await js.delete_consumer(settings.stream, durable)
        await js.add_consumer(
            settings.stream,
            config.evolve(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=start),
        )
        log.info(
            "nats intake: partition %d: %d messages left unacked by its last worker are taken "
            "again in stream order (from sequence %d)",
            number,
            info.num_ack_pending,
            start,
        )

    async def _ensure_stream(self, js: JetStreamContext) -> None:
        settings = self._settings
        try:
            await js.stream_info(settings.stream)
        except nats.js.errors.NotFoundError:
            await js.add_stream(
                StreamConfig(
                    name=settings.stream,
                    subjects=[stream_subject(settings.prefix)],
                    storage=StorageType.FILE,
                    num_replicas=settings.replicas,
                    max_age=settings.max_age_s,
                )
            )
            log.info("nats intake: created stream %s", settings.stream)

    async def _bucket(self, js: JetStreamContext) -> KeyValue:
        settings = self._settings
        try:
            return await js.key_value(settings.bucket)
        except nats.js.errors.BucketNotFoundError:
            return await js.create_key_value(
                bucket=settings.bucket, history=1, replicas=settings.replicas
            )

    async def _restore(self, kv: KeyValue, snapshot: StateSnapshot, restore: StateRestore) -> None:
        """Restore the owned partitions' checkpoints into the pipeline (before consuming)."""
        found: list[tuple[int, bytes]] = []
        for number in self._settings.owned():
            try:
                entry = await kv.get(key_of(self._settings.consumer, number))
            except nats.js.errors.KeyNotFoundError:
                continue
            if entry.value is not None:
                found.append((number, entry.value))
        if not found:
            return
        baselines, current = snapshot()
        restored, errors = merge(current, found)
        for error in errors:
            log.warning("nats intake: %s; its devices start afresh", error)
        try:
            restore(restored.pipeline, {**baselines, **restored.baselines})
        except RuleStateError as exc:  # baselines and beat times are in; the rules stay as were
            log.warning(
                "nats intake: checkpointed rule state refused at %s: %s; rules start idle",
                exc.where,
                exc.reason,
            )
        self._partition_of.update(restored.partition_of)
        self._restored_seq.update(restored.stream_seq)
        self._counters.restored_devices = len(restored.partition_of)
        log.info(
            "nats intake: restored %d devices from %d checkpoints",
            len(restored.partition_of),
            len(restored.stream_seq),
        )

    async def _consume(self, part: _Partition) -> None:
        while True:
            try:
                messages = await part.sub.fetch(FETCH_BATCH, timeout=FETCH_WAIT_S)
            except TimeoutError:  # nats-py raises its own subclass, or asyncio's, when idle
                continue
            except nats.errors.Error as exc:
                self._error("fetch", exc)
                await asyncio.sleep(RETRY_S)
                continue
            await self._take(part, messages)

    async def _take(self, part: _Partition, messages: list[Msg]) -> None:
        """Put one fetch's new, good messages into the inbox as one delivery of columns."""
        taken = _Taken()
        for message in messages:
            self._counters.received += 1
            seq = message.metadata.sequence.stream
            if seq in part.in_inbox:  # redelivered while its first delivery waits
                self._counters.duplicates += 1
            elif seq <= part.acked_seq:  # processed: its ack was lost, or it is checkpointed
                self._counters.duplicates += 1
                self._ack(message)
            elif not self._decode_into(taken, message, seq):
                part.acked_seq = max(part.acked_seq, seq)
                self._ack(message)
        if not taken.seqs:
            return
        self._partition_of.update(dict.fromkeys(taken.devices, part.number))
        part.in_inbox.update(taken.seqs)
        self._in_inbox += len(taken.seqs)
        self._settled.clear()
        columns = BeatColumns.of_lists(
            taken.devices, taken.t_s, taken.rr_ms, taken.gap, taken.counts
        )
        await self._inbox.put(Delivery(event=columns, ack=_Ack(self, part, taken)))
        self._counters.delivered += len(taken.seqs)

    def processed(self, part: _Partition, taken: _Taken) -> None:
        """The pipeline took the messages (called once per delivery, by `_Ack`)."""
        part.in_inbox.difference_update(taken.seqs)
        part.acked_seq = max(part.acked_seq, *taken.seqs)
        for message in taken.messages:
            self._ack(message)
        self._in_inbox -= len(taken.seqs)
        if not self._in_inbox:
            self._settled.set()

    def _decode_into(self, taken: _Taken, message: Msg, seq: int) -> bool:
        """Add the beats of ``message`` to ``taken``; False after counting (and maybe
        logging) its refusal."""
        try:
            _, device = device_of_subject(self._head, message.subject)
            t_s, rr_ms, gap = decode_beat_lists(message.data, device=device)
        except TopicError as exc:
            self._reject(BeatsRejection(exc.reason))
            return False
        except BeatsMessageError as exc:
            self._reject(exc.reason)
            return False
        taken.devices.append(device if self._alias is None else self._alias(device))
        taken.t_s += t_s
        taken.rr_ms += rr_ms
        taken.gap += gap
        taken.counts.append(len(t_s))
        taken.messages.append(message)
        taken.seqs.append(seq)
        return True

    def _reject(self, reason: BeatsRejection) -> None:
        self._counters.rejected[reason] += 1
        if self._notices.due(reason):
            log.warning(
                "nats intake: refused a message: %s (%d so far; logged once a minute)",
                reason,
                self._counters.rejected[reason],
            )

    def _ack(self, message: Msg) -> None:
        self._acks.append(message)
        self._acks_ready.set()

    async def _send_acks(self) -> None:
        while True:
            await self._acks_ready.wait()
            self._acks_ready.clear()
            await self._flush_acks()

    async def _flush_acks(self) -> None:
        while self._acks:
            message = self._acks[0]  # left in place until sent: a cancelled send is retried
            try:
                await message.ack()
                self._counters.acked += 1
            except nats.errors.MsgAlreadyAckdError:
                pass
            except nats.errors.Error as exc:  # redelivered later; dropped then as a duplicate
                self._error("ack", exc)
            self._acks.popleft()

    async def _settle(self, timeout_s: float) -> int:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                await self._settled.wait()
        return self._in_inbox

    async def _checkpoints(self, kv: KeyValue, snapshot: StateSnapshot) -> None:
        while True:
            await asyncio.sleep(self._settings.checkpoint_s)
            await self._checkpoint(kv, snapshot)

    async def _checkpoint(self, kv: KeyValue, snapshot: StateSnapshot) -> None:
        """Put every owned partition's state (one consistent snapshot) into the bucket."""
        baselines, state = snapshot()
        seqs = {number: part.acked_seq for number, part in self._partitions.items()}
        for number, data in split(baselines, state, self._partition_of, seqs).items():
            try:
                await kv.put(key_of(self._settings.consumer, number), data)
                self._counters.checkpoints += 1
            except nats.errors.Error as exc:
                self._error("checkpoint", exc)

    def _error(self, what: str, exc: Exception) -> None:
        kind = f"{what}:{type(exc).__name__}"
        self._counters.errors[kind] += 1
        if self._notices.due(kind):
            log.warning(
                "nats intake: %s failed: %s (%d so far; logged once a minute)",
                what,
                type(exc).__name__,
                self._counters.errors[kind],
            )


@dataclass(slots=True)
class _Taken:
    """The good messages of one fetch, gathered into the lists of one `BeatColumns`."""

    devices: list[str] = field(default_factory=list)
    t_s: list[float | None] = field(default_factory=list)
    rr_ms: list[float | None] = field(default_factory=list)
    gap: list[bool] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    messages: list[Msg] = field(default_factory=list)
    seqs: list[int] = field(default_factory=list)


class _Ack:
    """Acknowledges one delivery's messages, once; the engine calls it on the event loop."""

    __slots__ = ("_intake", "_part", "_taken", "done")

    def __init__(self, intake: _Intake, part: _Partition, taken: _Taken) -> None:
        self._intake = intake
        self._part = part
        self._taken = taken
        self.done = False

    def __call__(self) -> None:
        if not self.done:
            self.done = True
            self._intake.processed(self._part, self._taken)


def _ranges(numbers: tuple[int, ...]) -> str:
    """``(0, 1, 2, 5)`` as ``0-2,5``."""
    out: list[str] = []
    for n in numbers:
        if out and int(out[-1].rsplit("-", 1)[-1]) == n - 1:
            out[-1] = f"{out[-1].split('-')[0]}-{n}"
        else:
            out.append(str(n))
    return ",".join(out)
