"""Server-sent events: one bounded queue per connected page, fed by `Broadcast.publish`.

Overflow policy: each stream holds `STREAM_QUEUE` events. A page that falls
that far behind (a stalled tab, a slow link) is disconnected instead of
slowing anyone: its queue is emptied and its stream ends; the browser's
`EventSource` reconnects by itself and starts again from a fresh snapshot.
Dropped streams are counted.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

STREAM_QUEUE = 256
"""Events waiting for one page; past that the page is disconnected (it reconnects)."""

KEEPALIVE_S = 15.0
"""A comment line is sent this often on a quiet stream, so dead connections are noticed."""

RETRY_MS = 2000
"""How long a browser waits before reconnecting a stream that ended."""


def sse_event(kind: str, payload: Mapping[str, Any]) -> bytes:
    """One server-sent event: ``event: kind`` and the payload as one line of JSON."""
    data = json.dumps(payload, separators=(",", ":"), allow_nan=False)
    return f"event: {kind}\ndata: {data}\n\n".encode()


class Stream:
    """One page's queue of encoded events; None ends the stream."""

    def __init__(self, size: int) -> None:
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue(size)

    def end(self) -> None:
        """Drop what waits and end the stream."""
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)


class Broadcast:
    """Fan-out of events to every connected page (see the module docstring)."""

    def __init__(self, size: int = STREAM_QUEUE) -> None:
        self.size = size
        self.dropped_streams = 0
        self.closed = False
        self._streams: set[Stream] = set()

    def __len__(self) -> int:
        return len(self._streams)

    def subscribe(self) -> Stream:
        """A new stream (already ended when the broadcast is closed)."""
        stream = Stream(self.size)
        if self.closed:
            stream.end()
        else:
            self._streams.add(stream)
        return stream

    def unsubscribe(self, stream: Stream) -> None:
        self._streams.discard(stream)

    def publish(self, kind: str, payload: Mapping[str, Any]) -> None:
        """Queue one event for every page; never blocks (a full page is disconnected)."""
        if not self._streams:
            return
        event = sse_event(kind, payload)
        for stream in list(self._streams):
            try:
                stream.queue.put_nowait(event)
            except asyncio.QueueFull:
                self.dropped_streams += 1
                self._streams.discard(stream)
                stream.end()

    def close(self) -> None:
        """End every stream, and refuse new ones (the page is shutting down)."""
        self.closed = True
        for stream in self._streams:
            stream.end()
        self._streams.clear()


async def event_stream(
    broadcast: Broadcast, stream: Stream, first: bytes, *, keepalive_s: float = KEEPALIVE_S
) -> AsyncIterator[bytes]:
    """The bytes of one page's event stream: the retry delay, ``first``, then the events."""
    try:
        yield f"retry: {RETRY_MS}\n\n".encode() + first
        while True:
            try:
                async with asyncio.timeout(keepalive_s):
                    event = await stream.queue.get()
            except TimeoutError:
                yield b": keepalive\n\n"
                continue
            if event is None:
                return
            yield event
    finally:
        broadcast.unsubscribe(stream)
