"""The life of one strap's link as an explicit state table, fed events by `ingest.ble_link`.

```
idle --start--> scanning --found--> connecting --subscribed--> streaming
                   |                     |                         |
               not_found          connect_failed               link_lost
                   v                     v                         v
                   +-----------------> backing_off <---------------+
                                           |
                                         retry --> scanning
any live state --stop--> stopped;  any live state --fatal--> failed
```
"""

from __future__ import annotations

import enum
from types import MappingProxyType
from typing import Final

from ingest.errors import StateError

__all__ = ["TRANSITIONS", "LinkEvent", "LinkState", "transition"]


class LinkState(enum.StrEnum):
    """Where a strap's link is."""

    IDLE = "idle"
    SCANNING = "scanning"
    CONNECTING = "connecting"
    STREAMING = "streaming"
    BACKING_OFF = "backing_off"
    STOPPED = "stopped"
    FAILED = "failed"


class LinkEvent(enum.StrEnum):
    """What happened to a strap's link."""

    START = "start"
    FOUND = "found"
    NOT_FOUND = "not_found"
    SUBSCRIBED = "subscribed"
    CONNECT_FAILED = "connect_failed"
    LINK_LOST = "link_lost"
    RETRY = "retry"
    STOP = "stop"
    FATAL = "fatal"


_LIVE: Final = (
    LinkState.IDLE,
    LinkState.SCANNING,
    LinkState.CONNECTING,
    LinkState.STREAMING,
    LinkState.BACKING_OFF,
)

TRANSITIONS: Final = MappingProxyType(
    {
        (LinkState.IDLE, LinkEvent.START): LinkState.SCANNING,
        (LinkState.SCANNING, LinkEvent.FOUND): LinkState.CONNECTING,
        (LinkState.SCANNING, LinkEvent.NOT_FOUND): LinkState.BACKING_OFF,
        (LinkState.CONNECTING, LinkEvent.SUBSCRIBED): LinkState.STREAMING,
        (LinkState.CONNECTING, LinkEvent.CONNECT_FAILED): LinkState.BACKING_OFF,
        (LinkState.STREAMING, LinkEvent.LINK_LOST): LinkState.BACKING_OFF,
        (LinkState.BACKING_OFF, LinkEvent.RETRY): LinkState.SCANNING,
        **{(state, LinkEvent.STOP): LinkState.STOPPED for state in _LIVE},
        **{(state, LinkEvent.FATAL): LinkState.FAILED for state in _LIVE},
    }
)
"""Every allowed (state, event) pair and the state it leads to."""


def transition(state: LinkState, event: LinkEvent) -> LinkState:
    """The state after ``event`` in ``state``; `StateError` if the table does not allow it."""
    try:
        return TRANSITIONS[state, event]
    except KeyError:
        raise StateError(state.value, event.value) from None
