"""Pure pieces of the BLE adapter: state table, retry policy, queue, targets."""

from __future__ import annotations

import asyncio

import pytest

from ingest.ble_backend import FoundDevice, Target
from ingest.ble_queue import Closed, LinkDown, NotificationQueue
from ingest.ble_retry import is_retryable
from ingest.ble_state import TRANSITIONS, LinkEvent, LinkState, transition
from ingest.errors import (
    BluetoothUnavailableError,
    ConnectError,
    DecodeError,
    DeviceNotFoundError,
    MissingCharacteristicError,
    StateError,
)


def test_happy_path_through_the_state_table() -> None:
    """start, found, subscribed, link lost, retry walk the documented cycle."""
    state = LinkState.IDLE
    seen = []
    for event in (
        LinkEvent.START,
        LinkEvent.FOUND,
        LinkEvent.SUBSCRIBED,
        LinkEvent.LINK_LOST,
        LinkEvent.RETRY,
    ):
        state = transition(state, event)
        seen.append(state)
    assert seen == [
        LinkState.SCANNING,
        LinkState.CONNECTING,
        LinkState.STREAMING,
        LinkState.BACKING_OFF,
        LinkState.SCANNING,
    ]


def test_final_states_accept_nothing_and_bad_events_raise() -> None:
    """stopped/failed are final; an event the table lacks raises StateError with both names."""
    for state in (LinkState.STOPPED, LinkState.FAILED):
        assert not [key for key in TRANSITIONS if key[0] is state]
    with pytest.raises(StateError, match=r"link_lost.*idle") as info:
        transition(LinkState.IDLE, LinkEvent.LINK_LOST)
    assert (info.value.state, info.value.event) == ("idle", "link_lost")


def test_every_live_state_can_stop_and_fail() -> None:
    """Shutdown and fatal errors are allowed from every state that is not final."""
    for state in LinkState:
        if state not in (LinkState.STOPPED, LinkState.FAILED):
            assert transition(state, LinkEvent.STOP) is LinkState.STOPPED
            assert transition(state, LinkEvent.FATAL) is LinkState.FAILED


@pytest.mark.parametrize(
    ("exc", "retry"),
    [
        (TimeoutError(), True),
        (ConnectError("C0:FF:EE:00:00:01", "abort"), True),
        (DeviceNotFoundError("H10", 10), True),
        (BluetoothUnavailableError("no adapter"), False),
        (MissingCharacteristicError("C0:FF:EE:00:00:01", "2a37"), False),
        (DecodeError("empty", b""), False),
        (KeyError("bug"), False),
    ],
)
def test_is_retryable(exc: BaseException, retry: bool) -> None:
    """Timeouts, connect failures and absent straps are retried; missing Bluetooth and bugs not."""
    assert is_retryable(exc) is retry


async def test_full_queue_drops_newest_counts_and_marks_a_gap() -> None:
    """Overflow never blocks: drops are counted and a LinkDown precedes the next accepted item."""
    queue = NotificationQueue(2)
    for i in range(5):
        queue.put(float(i), bytes([i]))
    assert queue.dropped == 3
    assert len(queue) == 2
    assert await queue.get() == (0.0, b"\x00")
    queue.put(9.0, b"\x09")
    queue.close()
    rest = [await queue.get() for _ in range(4)]
    assert rest[0] == (1.0, b"\x01")
    assert rest[1] == LinkDown(t_s=2.0, reason="queue full")
    assert rest[2] == (9.0, b"\x09")
    assert isinstance(rest[3], Closed)


async def test_get_waits_for_an_item() -> None:
    """get() waits until the callback puts something."""
    queue = NotificationQueue(4)
    waiter = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    assert not waiter.done()
    queue.put(1.5, b"\x10")
    assert await asyncio.wait_for(waiter, 1) == (1.5, b"\x10")


def test_target_parses_addresses_and_names() -> None:
    """MAC-looking text is an address (upper-cased); anything else is an advertised name."""
    assert Target.parse("c0:ff:ee:00:00:01") == Target(address="C0:FF:EE:00:00:01")
    assert Target.parse("Polar H10 5A3C1B2D") == Target(name="Polar H10 5A3C1B2D")
    device = FoundDevice(name="Polar H10 5A3C1B2D", address="C0:FF:EE:00:00:01", rssi_dbm=-60)
    assert Target.parse("c0:ff:ee:00:00:01").matches(device)
    assert Target.parse("Polar H10 5A3C1B2D").matches(device)
    assert not Target.parse("Polar H9").matches(device)
    with pytest.raises(ValueError, match="exactly one"):
        Target(address="A", name="B")
