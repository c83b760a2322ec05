"""The bounded hand-off between bleak's notification callback and the beat pipeline.

Overflow policy: `NotificationQueue.put` never blocks (it runs inside
bleak's callback). When ``maxsize`` notifications are waiting, the arriving
one is dropped and counted in ``dropped``, and a `LinkDown` marker goes in
front of the next accepted one, so beat timing flags the hole as a gap.
Markers (disconnects, drops) do not count against ``maxsize``: there is at
most one per accepted notification, so the queue stays bounded.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

__all__ = ["Closed", "LinkDown", "Notification", "NotificationQueue"]

Notification = tuple[float, bytes]
"""(arrival_s, payload) of one 0x2A37 notification."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkDown:
    """Data stopped at ``t_s``: the link was lost, or notifications were dropped."""

    t_s: float
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Closed:
    """The link ended for good; nothing follows."""


class NotificationQueue:
    """FIFO of notifications and `LinkDown` markers; see the module docstring for overflow."""

    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError(f"NotificationQueue maxsize={maxsize} must be >= 1")
        self.maxsize = maxsize
        self.dropped = 0
        """Notifications dropped because the queue was full."""
        self._items: asyncio.Queue[Notification | LinkDown | Closed] = asyncio.Queue()
        self._waiting = 0
        self._drop_t_s: float | None = None

    def put(self, arrival_s: float, payload: bytes) -> None:
        """Enqueue one notification, or drop and count it when full; never blocks."""
        if self._waiting >= self.maxsize:
            self.dropped += 1
            if self._drop_t_s is None:
                self._drop_t_s = arrival_s
            return
        if self._drop_t_s is not None:
            self._items.put_nowait(LinkDown(t_s=self._drop_t_s, reason="queue full"))
            self._drop_t_s = None
        self._waiting += 1
        self._items.put_nowait((arrival_s, payload))

    def link_down(self, t_s: float, reason: str) -> None:
        """Mark that data stopped at ``t_s`` (e.g. a disconnect)."""
        self._items.put_nowait(LinkDown(t_s=t_s, reason=reason))

    def close(self) -> None:
        """Mark the end: `get` returns `Closed` once everything before it is taken."""
        self._items.put_nowait(Closed())

    async def get(self) -> Notification | LinkDown | Closed:
        """The next item, waiting for one."""
        item = await self._items.get()
        if isinstance(item, tuple):
            self._waiting -= 1
        return item

    def __len__(self) -> int:
        return self._waiting
