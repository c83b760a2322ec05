"""One strap (real or virtual) for a paced session: its beats, the session clock, the pacer line.

Shared by ``vagus breathe`` and ``vagus resonance``. ``--device sim`` (or
``sim:SCENARIO``) plays a virtual strap of `simulators` through the daemon's
own source code (`vagus.daemon.play_virtual_strap`), sped up with
``--speed``; anything else is a BLE strap's address or name
(`vagus.daemon.run_strap_link`). The session clock is wall time, or for a
virtual strap the simulated time its beats are stamped with, so a pacer
and its analysis run in the strap's time at any speed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
from rich.console import Console
from rich.live import Live
from rich.text import Text

from hrv import BeatBatch, FloatArray
from ingest import BluetoothUnavailableError
from ingest.ble_backend import BleakBackend, Target
from ingest.ble_link import LinkChange, StrapLink
from simulators import ScenarioError, VirtualStrap, load_scenario
from vagus.biofeedback import PacerState
from vagus.daemon import INBOX_SIZE, Inbox, link_status, play_virtual_strap, run_strap_link
from vagus.errors import UserError
from vagus.events import DeviceStatus

log = logging.getLogger(__name__)

T = TypeVar("T")

TICK_S = 0.1
"""Wall seconds between redraws of the pacer on a terminal."""
BAR_WIDTH = 24


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveStrap:
    """A source of one device's beats and the clock its beat times are on."""

    device: str
    run: Callable[[Inbox, asyncio.Event], Coroutine[Any, Any, None]]
    start_t_s: float
    clock: Callable[[], float]


def open_strap(
    spec: str, *, speed: float | None, default_scenario: str, alias: Callable[[str], str]
) -> LiveStrap:
    """The strap ``spec`` names (``sim[:SCENARIO]`` or a BLE address/name); nothing runs yet.

    Its device id is ``alias`` of its name, as the daemon names it (`vagus.app.device_alias`:
    a pseudonym with ``[privacy] pseudonymise``)."""
    start = time.time()
    if spec == "sim" or spec.startswith("sim:"):
        name = spec.removeprefix("sim").removeprefix(":") or default_scenario
        try:
            scenario = load_scenario(name)
        except ScenarioError as exc:
            raise UserError(str(exc)) from exc
        pace = 1.0 if speed is None else speed
        if not 0 < pace <= 1000:
            raise UserError(f"--speed {pace}: must be within (0, 1000]")
        strap = VirtualStrap.from_scenario(
            scenario, start_t_s=start, speed=pace, device=alias(scenario.device.name)
        )
        origin = time.monotonic()
        return LiveStrap(
            device=strap.device,
            run=functools.partial(play_virtual_strap, strap),
            start_t_s=start,
            clock=lambda: start + (time.monotonic() - origin) * pace,
        )
    if speed is not None:
        raise UserError("--speed applies to a virtual strap (--device sim) only")
    try:
        target = Target.parse(spec)
    except ValueError as exc:
        raise UserError(f"--device {spec!r}: {exc}") from exc
    device = alias(target.label)

    async def run(inbox: Inbox, stopping: asyncio.Event) -> None:
        to_status = link_status(device)

        def on_change(change: LinkChange) -> None:
            with contextlib.suppress(asyncio.QueueFull):
                inbox.put_nowait(to_status(change))

        link = StrapLink(target, BleakBackend(), on_change=on_change)
        await run_strap_link(link, device, inbox, stopping)

    return LiveStrap(device=device, run=run, start_t_s=start, clock=time.time)


@dataclass(slots=True)
class Beats:
    """The beats received so far, kept as growing columns."""

    device: str
    _t: list[FloatArray] = field(default_factory=list)
    _rr: list[FloatArray] = field(default_factory=list)
    _gap: list[np.ndarray] = field(default_factory=list)

    def add(self, batch: BeatBatch) -> None:
        """Append a batch (beats arrive in time order)."""
        self._t.append(batch.t_s)
        self._rr.append(batch.rr_ms)
        self._gap.append(batch.gap)

    def batch(self) -> BeatBatch:
        """Everything so far as one `BeatBatch`."""
        if not self._t:
            empty = np.zeros(0)
            return BeatBatch(device=self.device, t_s=empty, rr_ms=empty)
        return BeatBatch(
            device=self.device,
            t_s=np.concatenate(self._t),
            rr_ms=np.concatenate(self._rr),
            gap=np.concatenate(self._gap),
        )


async def run_paced(
    strap: LiveStrap,
    *,
    end_s: float,
    update_s: float,
    on_update: Callable[[float, Beats], None],
    on_tick: Callable[[float, Beats], None],
) -> Beats:
    """Collect the strap's beats until session time ``end_s``, calling ``on_update`` every
    ``update_s`` of session time and ``on_tick`` every `TICK_S` of wall time; then stop it."""
    inbox: Inbox = asyncio.Queue(INBOX_SIZE)
    stopping = asyncio.Event()
    beats = Beats(strap.device)
    ended = False

    def take(item: object) -> None:
        nonlocal ended
        if isinstance(item, BeatBatch) and item.device == strap.device:
            beats.add(item)
        elif isinstance(item, DeviceStatus) and item.link == "ended":
            ended = True

    async with asyncio.TaskGroup() as group:
        source = group.create_task(strap.run(inbox, stopping), name=f"strap[{strap.device}]")
        next_update = strap.start_t_s + update_s
        while (now := strap.clock()) < end_s and not ended and not source.done():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(TICK_S):
                    take(await inbox.get())
            while not inbox.empty():
                take(inbox.get_nowait())
            now = strap.clock()
            while now >= next_update and next_update <= end_s:
                on_update(next_update, beats)
                next_update += update_s
            on_tick(now, beats)
        while next_update <= min(strap.clock(), end_s):  # the update due at the very end
            on_update(next_update, beats)
            next_update += update_s
        stopping.set()
        while not source.done() or not inbox.empty():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(TICK_S):
                    take(await inbox.get())
    if ended and strap.clock() < end_s:
        log.warning("%s: the strap stopped before the session's end", strap.device)
    return beats


def run_session(session: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(session)``; Bluetooth being unavailable is one line (`UserError`)."""
    try:
        return asyncio.run(session)
    except ExceptionGroup as group:
        found = group.subgroup(BluetoothUnavailableError)
        if found is None:
            raise
        first: BaseException = found
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        raise UserError(str(first)) from group


def pacer_line(label: str, state: PacerState, remaining_s: float) -> str:
    """``label  inhale  [█████░░░]  3:12 left``: the pacer for a terminal, in one line."""
    filled = round(state.volume * BAR_WIDTH)
    bar = "█" * filled + "░" * (BAR_WIDTH - filled)
    left = max(remaining_s, 0.0)
    return f"{label}  {state.kind.value:<7} [{bar}]  {int(left // 60)}:{int(left % 60):02d} left"


def figure(value: float, spec: str) -> str:
    """``value`` formatted, or ``-`` when it is not known yet (NaN)."""
    return "-" if not math.isfinite(value) else format(value, spec)


class PacerScreen:
    """The pacer on screen: redrawn in place on a terminal, one line per update otherwise."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._live: Live | None = None
        self._figures = ""

    def __enter__(self) -> PacerScreen:
        if self.console.is_terminal:
            self._live = Live(Text(""), console=self.console, auto_refresh=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)

    def tick(self, pacer: str) -> None:
        """Redraw the pacer (terminal only)."""
        if self._live is not None:
            self._live.update(Text(f"{pacer}\n{self._figures}"), refresh=True)

    def update(self, pacer: str, figures: str) -> None:
        """New figures: kept under the pacer on a terminal, printed as a line otherwise."""
        self._figures = figures
        if self._live is None:
            self.console.print(f"{pacer}  {figures}", markup=False)
        else:
            self.tick(pacer)
