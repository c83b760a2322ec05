"""The page's HTTP face (Starlette): the page, its assets, the JSON API and the event stream.

Routes: ``/`` (the page), ``/static/*`` (its assets, shipped in the
package), ``GET /api/devices``, ``GET /api/devices/{id}/windows?since=``,
``GET /api/events`` (server-sent events), ``POST /api/feedback``, and
``/report`` (the session report, when CSV session files are written).

Every request passes `_Guard`: with a token, it must carry it (``Authorization:
Bearer`` or ``?token=``, compared in constant time); on a loopback address,
the ``Host`` header must name a loopback host (a web site cannot reach the
page by pointing its own name at 127.0.0.1). Feedback must be sent as
``application/json``, which a page of another origin cannot do without the
CORS consent this server never gives.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import math
import urllib.parse
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from starlette.applications import Starlette
from starlette.datastructures import Headers, MutableHeaders, QueryParams
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vagus import __version__
from vagus.events import Feedback
from vagus.web._broadcast import Broadcast, event_stream, sse_event
from vagus.web._payloads import (
    MAX_FEEDBACK_BYTES,
    device_json,
    devices_json,
    feedback_json,
    parse_feedback,
    windows_json,
)
from vagus.web._state import WebState
from vagus.web.errors import FeedbackRequestError

log = logging.getLogger(__name__)

FeedbackSink = Callable[[Feedback], bool]
"""Hands a `Feedback` to the daemon's inbox; False when it cannot take it now."""

_PACKAGE = "vagus.web"

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
"""``Host`` header names the page answers to on a loopback address."""

PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def _host_name(host_header: str) -> str:
    """The host of a ``Host`` header, without port or IPv6 brackets."""
    if host_header.startswith("["):
        return host_header[1 : host_header.find("]")]
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


class _Guard:
    """Token and ``Host`` checks on every request, and safety headers on every answer."""

    def __init__(self, app: ASGIApp, *, token: str | None, loopback: bool) -> None:
        self.app = app
        self._token = None if token is None else token.encode()
        self._loopback = loopback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            await refusal(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("referrer-policy", "no-referrer")
                headers.setdefault("x-content-type-options", "nosniff")
                headers.setdefault("x-frame-options", "DENY")
                headers.setdefault("cache-control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _refusal(self, scope: Scope) -> Response | None:
        headers = Headers(scope=scope)
        if self._loopback and _host_name(headers.get("host", "")) not in LOOPBACK_HOSTS:
            return PlainTextResponse("unknown host", status_code=421)
        if self._token is None:
            return None
        auth = headers.get("authorization", "")
        scheme, _, presented = auth.partition(" ")
        if scheme.lower() != "bearer":
            presented = QueryParams(scope["query_string"]).get("token", "")
        if presented and hmac.compare_digest(presented.encode(), self._token):
            return None
        return PlainTextResponse(
            "this page needs its access token (?token=... or Authorization: Bearer)",
            status_code=401,
            headers={"www-authenticate": "Bearer"},
        )


def create_app(
    *,
    state: WebState,
    broadcast: Broadcast,
    submit: FeedbackSink,
    clock: Callable[[], float],
    token: str | None,
    loopback: bool,
    report_dir: Path | None,
) -> ASGIApp:
    """The page's ASGI app over ``state`` and ``broadcast`` (see the module docstring)."""
    static = resources.files(_PACKAGE).joinpath("static")
    index_html = static.joinpath("index.html").read_text(encoding="utf-8")
    report = None if report_dir is None else "report"

    async def index(request: Request) -> Response:
        # The assets must carry the token too: a page opened with ?token= passes it on.
        presented = request.query_params.get("token")
        query = "" if not presented else "?" + urllib.parse.urlencode({"token": presented})
        page = index_html.replace("__QUERY__", query).replace("__VERSION__", __version__)
        return HTMLResponse(page, headers={"content-security-policy": PAGE_CSP})

    async def devices(request: Request) -> Response:
        return JSONResponse(devices_json(state, report=report))

    async def windows(request: Request) -> Response:
        device = request.path_params["device"]
        live = state.devices.get(device)
        if live is None:
            return JSONResponse({"error": f"no device {device!r} here"}, status_code=404)
        since: float | None = None
        if (text := request.query_params.get("since")) is not None:
            try:
                since = float(text)
            except ValueError:
                since = math.nan
            if not math.isfinite(since):
                return JSONResponse({"error": "since must be a number"}, status_code=400)
        return JSONResponse(windows_json(device, live.ring.since(since)))

    async def events(request: Request) -> Response:
        stream = broadcast.subscribe()
        first = sse_event("devices", devices_json(state, report=report))
        return StreamingResponse(
            event_stream(broadcast, stream, first),
            media_type="text/event-stream",
            headers={"x-accel-buffering": "no"},
        )

    async def feedback(request: Request) -> Response:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            return JSONResponse({"error": "send application/json"}, status_code=415)
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_FEEDBACK_BYTES:
                break
        try:
            event = parse_feedback(body, known=state, t_s=clock())
        except FeedbackRequestError as exc:
            return JSONResponse({"error": exc.reason}, status_code=exc.status)
        if not submit(event):
            return JSONResponse({"error": "the daemon is busy; try again"}, status_code=503)
        live = state.devices[event.device]
        trigger_id = event.trigger_id or (None if live.trigger is None else live.trigger.id)
        if trigger_id is not None and state.answered(event.device, trigger_id, event.verdict):
            broadcast.publish("device", device_json(live))
        return JSONResponse(feedback_json(event), status_code=202)

    async def session_report(request: Request) -> Response:
        if report_dir is None:
            return PlainTextResponse("no session files are written", status_code=404)
        try:
            page = await asyncio.to_thread(_render_report, report_dir)
        except Exception as exc:  # a session still empty, or being written: say so, not 500
            return PlainTextResponse(f"no report yet: {exc}", status_code=503)
        return HTMLResponse(page)

    routes = [
        Route("/", index),
        Route("/api/devices", devices),
        Route("/api/devices/{device}/windows", windows),
        Route("/api/events", events),
        Route("/api/feedback", feedback, methods=["POST"]),
        Route("/report", session_report),
        Mount("/static", StaticFiles(packages=[(_PACKAGE, "static")]), name="static"),
    ]
    app = Starlette(routes=routes)
    return _Guard(app, token=token, loopback=loopback)


def _render_report(directory: Path) -> str:
    """The HTML report of the session directory (as `vagus report DIR` writes it)."""
    from vagus.report import render_report  # imported when asked: the page works without it
    from vagus.session import read_session

    sessions = read_session(directory)
    if not sessions:
        raise ValueError("the session holds no devices yet")
    return render_report(sessions, title=directory.resolve().name, version=__version__)
