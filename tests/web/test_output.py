"""`WebOutput` in an event loop: real uvicorn on a free port, the event stream, a clean stop."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import time

import httpx2
import pytest

from recommender import Evaluator, default_config
from tests.recommender.windows import episodes, series, window
from tests.servers import free_port
from tests.web.support import check
from vagus.config import WebSettings
from vagus.daemon import Inbox
from vagus.events import DeviceStatus, Feedback
from vagus.web import ListenError, WebOutput

DEVICE = "C0:FF:EE:00:00:01"


def _output() -> WebOutput:
    return WebOutput(WebSettings(listen=f"127.0.0.1:{free_port()}"), step_s=5.0, clock=lambda: 42.0)


async def _events(response: httpx2.Response, count: int) -> list[tuple[str, dict[str, object]]]:
    """The first ``count`` events of a server-sent event stream."""
    events: list[tuple[str, dict[str, object]]] = []
    kind = ""
    async for line in response.aiter_lines():
        if line.startswith("event: "):
            kind = line.removeprefix("event: ")
        elif line.startswith("data: "):
            events.append((kind, json.loads(line.removeprefix("data: "))))
            if len(events) == count:
                break
    return events


async def test_serves_streams_and_stops_on_close() -> None:
    """The page is served in the loop; the stream carries a snapshot, then the records fed
    to the output (each valid against its schema); `close` ends ``run`` within a second."""
    web = _output()
    server = asyncio.create_task(web.run())
    base = f"http://127.0.0.1:{web.port}"
    step = Evaluator(default_config()).feed_many(series(episodes((100, 400)), until_s=900))
    async with httpx2.AsyncClient(base_url=base, timeout=5) as client:
        for _ in range(50):
            try:
                assert (await client.get("/")).status_code == 200
                break
            except httpx2.ConnectError:
                await asyncio.sleep(0.05)
        async with client.stream("GET", "/api/events") as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            web.status(DeviceStatus(device=DEVICE, t_s=1.0, connected=True, link="streaming"))
            web.windows([window(100.0, 80.0)])
            web.trigger(step.triggers[0])
            web.outcome(step.outcomes[0])
            events = await _events(response, 7)
    kinds = [kind for kind, _ in events]
    assert kinds == ["devices", "device", "window", "device", "device", "outcome", "device"]
    schema_of = {"devices": "web_devices", "device": "web_device", "window": "web_windows"}
    for kind, payload in events:
        check(schema_of.get(kind, kind), payload)
    assert events[4][1]["suggestion"]["id"] == step.triggers[0].id  # type: ignore[index]
    started = time.monotonic()
    await web.close()
    await asyncio.wait_for(server, timeout=2.5)
    assert time.monotonic() - started < 2.0
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", web.port))  # the port is free again


async def test_close_ends_open_event_streams() -> None:
    """A page left open does not hold the shutdown: `close` ends its stream."""
    web = _output()
    server = asyncio.create_task(web.run())
    await asyncio.sleep(0.3)
    base = f"http://127.0.0.1:{web.port}"
    async with (
        httpx2.AsyncClient(base_url=base, timeout=5) as client,
        client.stream("GET", "/api/events") as response,
    ):
        lines = response.aiter_lines()
        while not (await anext(lines)).startswith("data: "):
            pass
        await web.close()
        rest = [line async for line in lines]
    await asyncio.wait_for(server, timeout=2.5)
    assert not any(line.startswith("data:") for line in rest)


async def test_cancellation_stops_serving_promptly() -> None:
    """Cancelled (the daemon's last resort), ``run`` ends at once and the port is released."""
    web = _output()
    server = asyncio.create_task(web.run())
    await asyncio.sleep(0.3)
    server.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(server, timeout=1.0)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", web.port))


async def test_leaves_the_signal_handlers_to_the_daemon() -> None:
    """uvicorn's own SIGTERM/SIGINT handlers are off: the daemon's stay installed."""
    loop = asyncio.get_running_loop()
    stopped: list[int] = []
    loop.add_signal_handler(signal.SIGTERM, stopped.append, 15)
    try:
        before = signal.getsignal(signal.SIGTERM)
        web = _output()
        server = asyncio.create_task(web.run())
        await asyncio.sleep(0.3)
        assert signal.getsignal(signal.SIGTERM) is before
        signal.raise_signal(signal.SIGTERM)
        await asyncio.sleep(0.1)
        assert stopped == [15]
        assert not server.done()
        await web.close()
        await asyncio.wait_for(server, timeout=2.5)
    finally:
        loop.remove_signal_handler(signal.SIGTERM)


async def test_feedback_goes_into_the_inbox() -> None:
    """A POSTed verdict lands in the attached inbox as a `Feedback` (before: 503)."""
    web = _output()
    web.windows([window(100.0, 30.0)])
    server = asyncio.create_task(web.run())
    inbox: Inbox = asyncio.Queue(1)
    body = {"device": DEVICE, "verdict": "false_alarm"}
    async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{web.port}", timeout=5) as client:
        await asyncio.sleep(0.2)
        assert (await client.post("/api/feedback", json=body)).status_code == 503
        web.attach(inbox)
        assert (await client.post("/api/feedback", json=body)).status_code == 202
        assert (await client.post("/api/feedback", json=body)).status_code == 503  # full
    assert inbox.get_nowait() == Feedback(device=DEVICE, verdict="false_alarm", t_s=42.0)
    await web.close()
    await asyncio.wait_for(server, timeout=2.5)


def test_an_address_in_use_is_a_one_line_error() -> None:
    """Binding happens when the output is made: a taken port is a `ListenError` naming it."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        listen = f"127.0.0.1:{taken.getsockname()[1]}"
        with pytest.raises(ListenError) as caught:
            WebOutput(WebSettings(listen=listen), step_s=5.0)
    assert str(caught.value).startswith(f"web.listen = {listen!r}: cannot listen there")
    assert "\n" not in str(caught.value)
