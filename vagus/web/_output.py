"""`WebOutput`: the daemon's output that serves the live page (uvicorn in the daemon's loop).

The feeding methods update `WebState` and publish server-sent events; ``run``
serves HTTP on a socket bound when the output is made (so an address in use
is a one-line error at start). uvicorn's own signal handlers are off: the
daemon's SIGTERM handling stays in charge, and `close` ends the event
streams and the server within the daemon's shutdown budget.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import uvicorn

from hrv import BeatBatch, Quality, WindowMetrics
from recommender import FeedbackResult, Outcome, Trigger
from vagus.config import WebSettings, is_loopback, listen_address
from vagus.daemon import Inbox
from vagus.events import DeviceStatus, Feedback
from vagus.mqtt.payloads import outcome_json
from vagus.web._app import create_app
from vagus.web._broadcast import Broadcast
from vagus.web._payloads import device_json, windows_json
from vagus.web._state import WebState, WindowColumns
from vagus.web.errors import ListenError

log = logging.getLogger(__name__)

GRACEFUL_S = 1
"""How long uvicorn waits at shutdown for open requests (the event streams end at once)."""


class _Server(uvicorn.Server):
    """uvicorn without its own signal handlers (the daemon's handle SIGTERM and SIGINT)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def bind_listener(listen: str) -> socket.socket:
    """A listening, non-blocking TCP socket on ``listen`` (HOST:PORT); `ListenError` if not."""
    host, port = listen_address(listen)
    sock: socket.socket | None = None
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
        sock.setblocking(False)
    except OSError as exc:
        if sock is not None:
            sock.close()
        raise ListenError(listen=listen, reason=exc.strerror or str(exc)) from exc
    return sock


class WebOutput:
    """The live page (`vagus.web`): device cards, the last hour, suggestions, feedback."""

    name = "web"
    blocking = False

    def __init__(
        self,
        settings: WebSettings,
        *,
        step_s: float,
        clock: Callable[[], float] = time.time,
        report_dir: Path | None = None,
    ) -> None:
        """Bind the socket now (`ListenError` when it cannot be had); serve in `run`."""
        self.settings = settings
        self.state = WebState(step_s=step_s)
        self.broadcast = Broadcast()
        self.inbox: Inbox | None = None
        self._socket: socket.socket | None = bind_listener(settings.listen)
        host, _ = listen_address(settings.listen)
        self.app = create_app(
            state=self.state,
            broadcast=self.broadcast,
            submit=self.submit,
            clock=clock,
            token=settings.read_token(),
            loopback=is_loopback(host),
            report_dir=report_dir,
        )
        self.port: int = self._socket.getsockname()[1]
        self._server: _Server | None = None
        self._closing = False

    def attach(self, inbox: Inbox) -> None:
        """Send feedback to ``inbox`` (the daemon's; it exists only once the daemon does)."""
        self.inbox = inbox

    def submit(self, feedback: Feedback) -> bool:
        """Put ``feedback`` into the daemon's inbox; False when there is none or it is full."""
        if self.inbox is None:
            return False
        try:
            self.inbox.put_nowait(feedback)
        except asyncio.QueueFull:
            return False
        return True

    def beats(self, batch: BeatBatch) -> None:
        """Beats are not shown (the page shows windows)."""

    def windows(self, windows: list[WindowMetrics]) -> None:
        for window in windows:
            live = self.state.window(window)
            self.broadcast.publish("window", windows_json(window.device, _columns(window)))
            self.broadcast.publish("device", device_json(live))

    def trigger(self, trigger: Trigger) -> None:
        self.broadcast.publish("device", device_json(self.state.trigger(trigger)))

    def outcome(self, outcome: Outcome) -> None:
        self.broadcast.publish("outcome", outcome_json(outcome))
        self.broadcast.publish("device", device_json(self.state.outcome(outcome)))

    def status(self, status: DeviceStatus) -> None:
        self.broadcast.publish("device", device_json(self.state.status(status)))

    def feedback(self, result: FeedbackResult) -> None:
        """Not shown yet (the page's own answers get their 202; MQTT and CLI ones are not)."""

    async def run(self) -> None:
        """Serve until `close` (restarted by the daemon after a failure, on a new socket)."""
        if self._closing:
            return
        sock, self._socket = self._socket or bind_listener(self.settings.listen), None
        config = uvicorn.Config(
            self.app,
            lifespan="off",
            log_config=None,
            log_level="warning",
            access_log=False,
            http="h11",
            ws="none",
            server_header=False,
            timeout_graceful_shutdown=GRACEFUL_S,
        )
        server = self._server = _Server(config)
        log.info("web page on http://%s/", self.settings.listen)
        try:
            await server.serve(sockets=[sock])
        finally:
            for listener in getattr(server, "servers", []):
                listener.close()  # cancelled mid-serve: stop listening all the same
            sock.close()
            self._server = None

    async def close(self) -> None:
        """End the event streams and ask the server to stop (``run`` then returns)."""
        self._closing = True
        self.broadcast.close()
        if self._server is not None:
            self._server.should_exit = True
        if self._socket is not None:
            self._socket.close()
            self._socket = None


def _columns(window: WindowMetrics) -> WindowColumns:
    """One window as columns of length one (the ``window`` event of the stream)."""
    return WindowColumns(
        t_end_s=np.array([window.t_end_s]),
        hr_bpm=np.array([window.hr_bpm]),
        rmssd_ms=np.array([window.rmssd_ms]),
        stress=np.array([window.stress]),
        quality=(Quality(window.quality),),
    )
