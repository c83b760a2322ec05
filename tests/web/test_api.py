"""The page's JSON API through Starlette's TestClient: payloads, checks, feedback, the token."""

from __future__ import annotations

import json
import math
from pathlib import Path

import jsonschema
import pytest
from starlette.testclient import TestClient

from recommender import Evaluator, Trigger, default_config
from tests.recommender.windows import episodes, series, window
from tests.web.support import check
from vagus.events import DeviceStatus, Feedback
from vagus.web import Broadcast, WebState, create_app

DEVICE = "C0:FF:EE:00:00:01"
TOKEN = "s3cret-token-0123456789"
NOW = 1_800_000_000.0


def _trigger() -> Trigger:
    step = Evaluator(default_config()).feed_many(series(episodes((100, 400)), until_s=900))
    return step.triggers[0]


class Sink:
    """A feedback sink that records what it is given (or refuses, like a full inbox)."""

    def __init__(self, accept: bool = True) -> None:
        self.accept = accept
        self.got: list[Feedback] = []

    def __call__(self, feedback: Feedback) -> bool:
        if self.accept:
            self.got.append(feedback)
        return self.accept


def _state(trigger: Trigger | None = None) -> WebState:
    state = WebState(step_s=5.0)
    for t in range(0, 300, 5):
        state.window(window(float(t), 30.0 + t / 10))
    state.status(
        DeviceStatus(device=DEVICE, t_s=10.0, connected=True, link="streaming", battery_pct=81)
    )
    if trigger is not None:
        state.trigger(trigger)
        state.window(window(trigger.t_s + 5.0, 75.0))
    return state


def _client(
    state: WebState,
    sink: Sink | None = None,
    *,
    token: str | None = None,
    loopback: bool = True,
    report_dir: Path | None = None,
    broadcast: Broadcast | None = None,
) -> TestClient:
    app = create_app(
        state=state,
        broadcast=broadcast or Broadcast(),
        submit=sink or Sink(),
        clock=lambda: NOW,
        token=token,
        loopback=loopback,
        report_dir=report_dir,
    )
    return TestClient(app, base_url="http://127.0.0.1:8765")


def test_devices_payload_validates_and_carries_the_latest_figures() -> None:
    """/api/devices: one card per device with its link, battery, level and latest window."""
    trigger = _trigger()
    body = _client(_state(trigger)).get("/api/devices").json()
    check("web_devices", body)
    (card,) = body["devices"]
    assert card["device"] == DEVICE
    assert card["link"] == "streaming"
    assert card["battery_pct"] == 81
    assert card["level"] == "high"
    assert card["window"]["stress"] == pytest.approx(75.0)
    assert card["suggestion"]["id"] == trigger.id
    assert body["report"] is None


def test_windows_since_filters_and_validates() -> None:
    """/api/devices/{id}/windows: columns of equal length; ``since`` keeps later windows only."""
    client = _client(_state())
    everything = client.get(f"/api/devices/{DEVICE}/windows").json()
    check("web_windows", everything)
    assert len(everything["t_end_s"]) == 60
    later = client.get(f"/api/devices/{DEVICE}/windows", params={"since": 250}).json()
    check("web_windows", later)
    assert later["t_end_s"] == [255.0, 260.0, 265.0, 270.0, 275.0, 280.0, 285.0, 290.0, 295.0]
    assert len(later["stress"]) == len(later["hr_bpm"]) == len(later["quality"]) == 9


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/devices/nobody/windows", 404),
        (f"/api/devices/{DEVICE}/windows?since=soon", 400),
        (f"/api/devices/{DEVICE}/windows?since=nan", 400),
    ],
)
def test_windows_refuses_unknown_devices_and_bad_since(path: str, status: int) -> None:
    """An unknown device is 404; a ``since`` that is not a finite number is 400."""
    response = _client(_state()).get(path)
    assert response.status_code == status
    assert "error" in response.json()


def test_feedback_reaches_the_sink_and_marks_the_card() -> None:
    """A valid POST gives the sink a `Feedback` at the daemon's clock; the card shows it."""
    trigger = _trigger()
    sink = Sink()
    client = _client(_state(trigger), sink)
    request = {"device": DEVICE, "verdict": "helpful", "trigger_id": trigger.id}
    check("web_feedback", request)
    response = client.post("/api/feedback", json=request)
    assert response.status_code == 202
    check("web_feedback", response.json())
    assert sink.got == [Feedback(device=DEVICE, verdict="helpful", t_s=NOW, trigger_id=trigger.id)]
    card = client.get("/api/devices").json()["devices"][0]
    assert card["answer"] == "helpful"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"device": DEVICE, "verdict": "meh"}, 400),
        ({"device": "a/b", "verdict": "helpful"}, 400),
        ({"device": DEVICE, "verdict": "helpful", "extra": 1}, 400),
        ({"device": DEVICE, "verdict": "helpful", "trigger_id": 5}, 400),
        ({"device": "someone-else", "verdict": "helpful"}, 404),
        ([DEVICE, "helpful"], 400),
    ],
)
def test_feedback_refuses_bad_requests(body: object, status: int) -> None:
    """Bad verdicts, device ids, keys, types, and unknown devices never reach the sink."""
    sink = Sink()
    response = _client(_state(), sink).post("/api/feedback", json=body)
    assert response.status_code == status
    assert sink.got == []


def test_feedback_needs_json_and_a_daemon_that_takes_it() -> None:
    """A form post (what another site's page could send) is 415; a full inbox is 503."""
    sink = Sink()
    client = _client(_state(), sink)
    form = client.post(
        "/api/feedback",
        content=json.dumps({"device": DEVICE, "verdict": "helpful"}),
        headers={"content-type": "text/plain"},
    )
    assert form.status_code == 415
    busy = _client(_state(), Sink(accept=False)).post(
        "/api/feedback", json={"device": DEVICE, "verdict": "not_now"}
    )
    assert busy.status_code == 503
    assert sink.got == []


def test_token_is_required_on_every_request() -> None:
    """With a token, page, assets and API answer 401 without it, and 200 with it either way."""
    client = _client(_state(), token=TOKEN, loopback=False)
    for path in ("/", "/static/app.js", "/api/devices", f"/api/devices/{DEVICE}/windows"):
        assert client.get(path).status_code == 401, path
        assert client.get(path, params={"token": "wrong-token-0123456789"}).status_code == 401
        assert client.get(path, params={"token": TOKEN}).status_code == 200, path
        auth = {"authorization": f"Bearer {TOKEN}"}
        assert client.get(path, headers=auth).status_code == 200, path
    page = client.get("/", params={"token": TOKEN}).text
    assert f"static/app.js?token={TOKEN}" in page
    assert f"static/style.css?token={TOKEN}" in page


def test_loopback_page_answers_only_to_loopback_host_names() -> None:
    """DNS rebinding: a Host header naming another site is refused (421) on loopback."""
    client = _client(_state())
    assert client.get("/api/devices", headers={"host": "evil.example:8765"}).status_code == 421
    assert client.get("/api/devices", headers={"host": "localhost:8765"}).status_code == 200
    assert client.get("/api/devices", headers={"host": "[::1]:8765"}).status_code == 200


def test_page_and_assets_ship_in_the_package_without_external_urls() -> None:
    """The page, its script and style are served from the package and name no other host."""
    client = _client(_state())
    page = client.get("/")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["referrer-policy"] == "no-referrer"
    for asset in ("/static/app.js", "/static/style.css"):
        response = client.get(asset)
        assert response.status_code == 200
        assert len(response.text) > 1000
    for text in (
        page.text,
        client.get("/static/app.js").text,
        client.get("/static/style.css").text,
    ):
        assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")
        assert "https://" not in text


def test_report_link_and_route(tmp_path: Path) -> None:
    """With session files the devices payload links the report; an empty session is 503."""
    client = _client(_state(), report_dir=tmp_path)
    assert client.get("/api/devices").json()["report"] == "report"
    assert client.get("/report").status_code == 503
    assert _client(_state()).get("/report").status_code == 404


def test_schemas_refuse_what_the_api_never_sends() -> None:
    """The schemas are strict enough to catch a wrong payload (a NaN figure, a bad level)."""
    body = _client(_state()).get("/api/devices").json()
    body["devices"][0]["level"] = "panic"
    with pytest.raises(jsonschema.ValidationError):
        check("web_devices", body)
    assert math.isfinite(body["devices"][0]["window"]["t_end_s"])
