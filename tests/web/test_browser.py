"""The live page in a real headless Chromium (Debian's chromium + chromium-driver, Selenium).

One daemon plays the demo scenario at 20x with ``--web`` on a free port, in a
thread of this process (so the test sees what reaches its inbox): the first
suggestion comes about 20 s in and its exercise (5 simulated minutes) stays
on the page for about 15 s. The tests run in file order against that one
session; each waits for what it needs. The screenshot goes to the test's
temporary directory and to ``docs/web-screenshot.png``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.servers import free_port, require_binary
from vagus.app import build_daemon
from vagus.config import parse_config
from vagus.daemon import Daemon, Summary
from vagus.events import Feedback, SourceEvent
from vagus.pipeline import Emissions

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SPEED = 20.0
DEVICE = "demo-strap"
DOCS_SCREENSHOT = Path(__file__).parents[2] / "docs" / "web-screenshot.png"
T = TypeVar("T")


@dataclass
class Session:
    """The daemon under test, its page's URL and the feedback its engine took."""

    daemon: Daemon
    url: str
    feedback: list[Feedback] = field(default_factory=list)
    loop: asyncio.AbstractEventLoop | None = None
    summary: Summary | None = None


def _record_feedback(daemon: Daemon, seen: list[Feedback]) -> None:
    """Note each `Feedback` the engine takes from the inbox, then let the pipeline have it
    (`Pipeline.take_many` hands every event but beats to `Pipeline.take`)."""
    take = daemon.pipeline.take

    def recording(event: SourceEvent, *, now: float) -> Emissions:
        if isinstance(event, Feedback):
            seen.append(event)
        return take(event, now=now)

    daemon.pipeline.take = recording  # type: ignore[method-assign]


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    """The demo at 20x with the page on a free loopback port, in a thread of its own."""
    require_binary("chromium")
    require_binary("chromedriver")
    root = tmp_path_factory.mktemp("web-session")
    port = free_port()
    config = parse_config(
        {
            "state_dir": str(root / "state"),
            "sources": {"simulated": {"scenario": "demo", "speed": SPEED}},
            "files": {"dir": str(root / "session")},
            "console": {"enabled": False},
            "web": {"listen": f"127.0.0.1:{port}"},
        }
    )
    daemon = build_daemon(config, console=None, title="vagus test", environ={})
    running = Session(daemon=daemon, url=f"http://127.0.0.1:{port}/")
    _record_feedback(daemon, running.feedback)

    async def main() -> None:
        running.loop = asyncio.get_running_loop()
        running.summary = await daemon.run()

    thread = threading.Thread(target=asyncio.run, args=(main(),), name="daemon")
    thread.start()
    try:
        yield running
    finally:
        if running.loop is not None and thread.is_alive():
            running.loop.call_soon_threadsafe(daemon.stop)
        thread.join(timeout=15)
    assert not thread.is_alive(), "the daemon did not stop"


@pytest.fixture(scope="module")
def browser(session: Session) -> Iterator[Any]:
    """Headless Chromium from Debian driven by chromium-driver; nothing is downloaded."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must never fetch a browser or driver

    options = webdriver.ChromeOptions()
    options.binary_location = require_binary("chromium")
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1100,1000",
        "--force-device-scale-factor=1",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=require_binary("chromedriver"))
    driver = webdriver.Chrome(options=options, service=service)
    try:
        _wait(lambda: _page_up(session.url), what="the page", timeout_s=20)
        driver.get(session.url)
        yield driver
    finally:
        driver.quit()


def _page_up(url: str) -> bool:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _wait(check: Callable[[], T | None], *, what: str, timeout_s: float) -> T:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after the time."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)
    pytest.fail(f"{what} did not happen within {timeout_s} s")


def _js(browser: Any, script: str) -> Any:
    return browser.execute_script(script)


def _card_text(browser: Any, name: str) -> str:
    return str(
        _js(
            browser,
            f'const el = document.querySelector(\'[data-device="{DEVICE}"] '
            f"[data-field=\"{name}\"]'); return el ? el.textContent : '';",
        )
    )


def _pacer_visible(browser: Any) -> bool:
    return bool(
        _js(
            browser,
            f"const s = document.querySelector('[data-device=\"{DEVICE}\"] .suggestion');"
            "return s !== null && !s.hidden;",
        )
    )


def _ball_transform(browser: Any) -> str:
    return str(
        _js(
            browser,
            "return getComputedStyle(document.querySelector('.pacer-ball')).transform;",
        )
    )


def test_device_card_appears_and_its_heart_rate_changes(browser: Any) -> None:
    """The demo strap's card shows up with an HR figure, which then changes live (SSE)."""
    first = _wait(
        lambda: (hr := _card_text(browser, "hr")) not in ("", "–") and hr,
        what="a heart rate on the card",
        timeout_s=30,
    )
    changed = _wait(
        lambda: (hr := _card_text(browser, "hr")) not in ("", "–", first) and hr,
        what="the heart rate changing",
        timeout_s=30,
    )
    assert 30 <= int(changed) <= 220
    assert _card_text(browser, "link") == "streaming"
    assert _card_text(browser, "battery").endswith("%")
    assert _js(browser, "return document.getElementById('connection').dataset.state") == "live"


def test_pacer_animates_after_a_suggestion(browser: Any) -> None:
    """A suggestion shows its exercise and a pacer whose circle grows and shrinks; with
    reduced motion asked for, the circle stands still and only the words change."""
    _wait(lambda: _pacer_visible(browser), what="a suggestion", timeout_s=60)
    assert "Resonance" in _card_text(browser, "exercise")
    assert "inhale 5.5 s" in _card_text(browser, "pattern")
    sizes = set()
    for _ in range(6):
        sizes.add(_ball_transform(browser))
        time.sleep(0.25)
    assert len(sizes) >= 4, sizes
    assert _card_text(browser, "phase").split(" · ")[0] in ("Breathe in", "Breathe out", "Hold")
    browser.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-reduced-motion", "value": "reduce"}]},
    )
    try:
        time.sleep(0.3)
        still = {_ball_transform(browser) for _ in range(4) if not time.sleep(0.25)}
        assert len(still) == 1, still
        assert _card_text(browser, "phase")
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})


def test_screenshot_of_the_page(browser: Any, tmp_path: Path) -> None:
    """A PNG of the live page (card, chart, suggestion and pacer) for the docs."""
    _wait(lambda: _pacer_visible(browser), what="a suggestion", timeout_s=60)
    time.sleep(1.0)  # let the chart catch up with the last windows
    shot = tmp_path / "web-screenshot.png"
    assert browser.save_screenshot(str(shot))
    png = shot.read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) > 20_000
    shutil.copyfile(shot, DOCS_SCREENSHOT)
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == [], severe


def test_feedback_click_reaches_the_daemon(browser: Any, session: Session) -> None:
    """Tabbing to "Helpful" and pressing Enter puts a `Feedback` for the shown suggestion
    into the daemon's inbox, which the engine takes; the page says thanks."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    _wait(lambda: _pacer_visible(browser), what="a suggestion", timeout_s=60)
    _js(browser, "document.activeElement && document.activeElement.blur(); window.focus();")
    browser.find_element("tag name", "body").click()
    for _ in range(40):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        if _js(browser, "return document.activeElement.dataset.verdict || ''") == "helpful":
            break
    else:
        pytest.fail("the Helpful button cannot be reached with the keyboard")
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    _wait(lambda: session.feedback, what="feedback reaching the engine", timeout_s=10)
    (feedback,) = session.feedback
    triggers = session.daemon.summary.triggers
    assert feedback.device == DEVICE
    assert feedback.verdict == "helpful"
    assert feedback.trigger_id == triggers[0].id
    _wait(lambda: "Thanks" in _card_text(browser, "answer"), what="the thanks", timeout_s=5)
