"""Playing a source of ``(t_s, payload)`` notifications in (scaled) real time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable

NotificationSource = Iterable[tuple[float, bytes]] | AsyncIterable[tuple[float, bytes]]
"""Notification payloads with their times in seconds (any origin), oldest first."""


async def _pairs(source: NotificationSource) -> AsyncIterator[tuple[float, bytes]]:
    if isinstance(source, AsyncIterable):
        async for pair in source:
            yield pair
    else:
        for pair in source:
            yield pair


async def play(
    source: NotificationSource,
    *,
    speed: float,
    emit: Callable[[bytes], None],
    clock: Callable[[], float],
) -> int:
    """Call ``emit(payload)`` for each pair at ``(t_s - first t_s) / speed`` after the first one.

    Each due time is computed from the first pair, not from the previous
    emission, so scheduling delays never accumulate into drift. Returns the
    number of payloads emitted.
    """
    origin: tuple[float, float] | None = None
    count = 0
    async for t_s, payload in _pairs(source):
        if origin is None:
            origin = (t_s, clock())
        delay = origin[1] + (t_s - origin[0]) / speed - clock()
        if delay > 0:
            await asyncio.sleep(delay)
        emit(payload)
        count += 1
    return count
