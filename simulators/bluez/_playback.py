"""Playing a source of ``(t_s, payload)`` notifications in (scaled) real time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable
from typing import TypeVar

T = TypeVar("T")

Timeline = Iterable[tuple[float, T]] | AsyncIterable[tuple[float, T]]
"""Items with their times in seconds, oldest first, from a plain or an async iterable."""

NotificationSource = Timeline[bytes]
"""Notification payloads with their times in seconds (any origin), oldest first."""


async def _pairs(source: Timeline[T]) -> AsyncIterator[tuple[float, T]]:
    if isinstance(source, AsyncIterable):
        async for pair in source:
            yield pair
    else:
        for pair in source:
            yield pair


async def play(
    source: Timeline[T],
    *,
    speed: float,
    emit: Callable[[T], None],
    clock: Callable[[], float],
    origin_t_s: float | None = None,
) -> int:
    """Call ``emit(item)`` for each pair ``(t_s, item)`` at ``(t_s - origin_t_s) / speed``.

    Times count from the call when ``origin_t_s`` is given, else from the
    first pair's arrival with ``origin_t_s`` its ``t_s``. Each due time is
    computed from that origin, not from the previous emission, so
    scheduling delays never accumulate into drift. Returns the number of
    items emitted.
    """
    origin = None if origin_t_s is None else (origin_t_s, clock())
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
