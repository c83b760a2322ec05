"""Wearables misbehaving: disconnect storms, HR-only payloads, contact lost and found, RR in ms.

The daemon is the one `vagus run` builds (`vagus.app.build_daemon`: pipeline, state, session
files), run in this process, its source a virtual strap (`play_virtual_strap`: the same
notification bytes, `ingest` decoder, RR-unit check and beat clock as a BLE strap). The strap
plays a scenario at high speed; where a fault is in the bytes (no RR, RR in ms, RR while the
strap says "no contact") the test rewrites the strap's payloads. What the strap sent (its
trace) is the ledger; the session files are what the daemon kept.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import re
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from hrv import BeatBatch
from ingest.hrm import RR_UNIT_MS, HeartRateMeasurement, decode, encode
from simulators import VirtualStrap, load_scenario, simulate
from simulators.scenario import Scenario, State
from simulators.simulation import Simulation
from simulators.wearable import WearableTrace, wearable_trace
from tests.faults._report import report
from vagus.app import build_daemon
from vagus.config import Config
from vagus.daemon import play_virtual_strap
from vagus.session import DeviceSession, read_session

pytestmark = [pytest.mark.faults, pytest.mark.slow]

SPEED = 200.0
"""Simulated seconds per second: the scenarios below (7-17 min) play in 2-5 s."""
DEVICE = "strap-1"


@dataclasses.dataclass(frozen=True)
class Played:
    """A strap's scenario played through the daemon: what was sent, kept and logged."""

    sim: Simulation
    clean: WearableTrace
    trace: WearableTrace
    start_t_s: float
    session: DeviceSession
    messages: list[str]

    def sent_rr_ms(self) -> np.ndarray:
        """The RR the strap measured and reported with skin contact, as 0x2A37 carries them
        when nothing is wrong (the payloads before the test rewrote them)."""
        return np.array(
            [
                rr
                for p in self.clean.payload
                if (m := decode(p)).sensor_contact is not False
                for rr in m.rr_ms
            ]
        )

    def segments_of(self, state: State) -> list[tuple[float, float]]:
        """(start, end) epoch seconds of the scenario's segments in ``state``."""
        segs = self.sim.segments
        pick = segs.state == state.value
        return [
            (self.start_t_s + a, self.start_t_s + b)
            for a, b in zip(segs.onset_s[pick].tolist(), segs.end_s[pick].tolist(), strict=True)
        ]

    def said(self, text: str) -> list[str]:
        """The log messages containing ``text``."""
        return [m for m in self.messages if text in m]


def scenario(tmp_path: Path, segments: str) -> Scenario:
    """A scenario of ``segments`` (TOML ``[[segments]]`` tables) for a strap named `DEVICE`."""
    path = tmp_path / "scenario.toml"
    path.write_text(f'name = "faults"\nseed = 11\n[device]\nname = "{DEVICE}"\n{segments}')
    return load_scenario(path)


def rewritten(
    trace: WearableTrace, change: Callable[[float, HeartRateMeasurement], bytes]
) -> WearableTrace:
    """``trace`` with each payload replaced by ``change(t_s, decoded payload)``."""
    payload = tuple(
        change(t, decode(p)) for t, p in zip(trace.t_s.tolist(), trace.payload, strict=True)
    )
    return dataclasses.replace(trace, payload=payload)


async def play(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    scene: Scenario,
    change: Callable[[float, HeartRateMeasurement], bytes] | None = None,
) -> Played:
    """Run the daemon with one virtual strap playing ``scene`` (payloads rewritten by
    ``change``) until the scenario ends; the daemon stops by itself then."""
    session_dir = tmp_path / "session"
    config = Config.model_validate(
        {
            "state_dir": str(tmp_path / "state"),
            "sources": {"simulated": {"scenario": str(tmp_path / "scenario.toml"), "speed": SPEED}},
            "files": {"dir": str(session_dir)},
            "console": {"enabled": False},
        }
    )
    start_t_s = float(np.floor(time.time()))
    sim = simulate(scene, seed=scene.seed)
    rng = np.random.default_rng(np.random.SeedSequence(scene.seed).spawn(1)[0])
    clean = wearable_trace(sim, scene.device, rng)
    trace = clean if change is None else rewritten(clean, change)
    strap = VirtualStrap(device=DEVICE, trace=trace, start_t_s=start_t_s, speed=SPEED)
    daemon = build_daemon(config, console=None, title="faults", environ={}, start_t_s=start_t_s)
    # [sources.simulated] set the daemon's clock to SPEED; its own strap gives way to this one.
    daemon.sources = {DEVICE: functools.partial(play_virtual_strap, strap)}
    caplog.set_level(logging.INFO)
    tasks_before = len(asyncio.all_tasks())
    async with asyncio.timeout(60):
        summary = await daemon.run()
    assert len(asyncio.all_tasks()) == tasks_before, "the daemon left tasks behind"
    assert not summary.source_failures, summary.source_failures
    bad = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not bad, bad
    sessions = [s for s in read_session(session_dir) if s.device == DEVICE]
    session = (
        sessions[0]
        if sessions
        else DeviceSession(device=DEVICE, beats=_no_beats(), windows=(), triggers=(), outcomes=())
    )
    return Played(sim, clean, trace, start_t_s, session, [r.getMessage() for r in caplog.records])


def _no_beats() -> BeatBatch:
    return BeatBatch(device=DEVICE, t_s=np.zeros(0), rr_ms=np.zeros(0), gap=np.zeros(0, bool))


def closing_count(played: Played, what: str) -> int:
    """A figure of the source's closing line (``<n> <what>``), 0 without one."""
    for message in played.said(f"{DEVICE}: "):
        found = re.search(rf"(\d+) {re.escape(what)}", message)
        if found:
            return int(found.group(1))
    return 0


def first_valid_after(played: Played, t_s: float) -> float:
    """Seconds from ``t_s`` to the end of the first valid window that starts after it."""
    ends = [w.t_end_s for w in played.session.windows if w.quality == "ok"]
    later = [e for e in ends if e - WINDOW_S >= t_s - 1.0]
    assert later, f"no valid window after {t_s - played.start_t_s:.0f} s"
    return min(later) - t_s


WINDOW_S = 60.0
"""The engine's default window."""
QUANTUM_MS = RR_UNIT_MS
"""One 0x2A37 RR unit."""


# -- disconnect storm ------------------------------------------------------------------------

STORM = 40
DOWN_S = 4
UP_S = 15


async def test_a_disconnect_storm_loses_only_what_the_strap_never_sent(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """40 disconnects (4 s down, 15 s up) between calm stretches: every beat the strap
    sent is stored once with its RR, each reconnection starts a new segment (its first beat
    flagged as a gap), no window spanning a disconnect is valid, the daemon ends cleanly
    with no task left behind, and valid windows resume one window length after the storm."""
    storm = f"""[[segments]]
state = "disconnect"
duration_s = {DOWN_S}
[[segments]]
state = "calm"
duration_s = {UP_S}
"""
    scene = scenario(
        tmp_path,
        '[[segments]]\nstate = "calm"\nduration_s = 120\n'
        + storm * STORM
        + '[[segments]]\nstate = "calm"\nduration_s = 150\n',
    )
    played = await play(tmp_path, caplog, scene)
    beats = played.session.beats
    sent = played.sent_rr_ms()
    downs = played.segments_of(State.DISCONNECT)
    never_sent = len(played.sim.rr_ms) - len(played.clean.beat_index)
    gaps = beats.t_s[beats.gap]
    storm_end = downs[-1][1]
    recovery_s = first_valid_after(played, storm_end)
    spanning = [
        w
        for w in played.session.windows
        if w.quality == "ok" and any(w.t_end_s - WINDOW_S < b < w.t_end_s for _, b in downs)
    ]
    report(
        f"wearable disconnect storm ({DOWN_S} s down, {UP_S} s up), virtual strap at {SPEED:g}x",
        injected=STORM,
        lost=f"{len(sent) - len(beats)}/{len(sent)} beats sent; {never_sent} beats while "
        f"disconnected never sent (the strap does not buffer); {len(gaps)} gaps flagged",
        recovery=f"first valid window {recovery_s:.0f} s (simulated) after the storm "
        f"(window {WINDOW_S:g} s)",
    )
    assert len(beats) == len(sent)
    np.testing.assert_array_equal(beats.rr_ms, sent)
    for _, back in downs:  # the first beat after each reconnection opens a segment
        after = beats.gap[(beats.t_s > back - 1.5) & (beats.t_s < back + UP_S)]
        assert after.size, back - played.start_t_s
        assert after[0], back - played.start_t_s
    assert len(gaps) == STORM  # the first beat of all is not a gap: nothing came before
    assert not spanning
    assert recovery_s < WINDOW_S + 30


# -- HR-only payloads ------------------------------------------------------------------------

HR_ONLY = (180.0, 360.0)
"""Scenario seconds during which the strap's notifications carry no RR."""


async def test_hr_only_payloads_give_no_hrv_and_are_said_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """For three minutes of a ten-minute session the notifications carry a heart rate but no
    RR: that is logged once as a warning (not per notification) and counted in the closing
    line, no beat is invented and no valid window covers the stretch; when RR come back
    the first beat is flagged as a gap and valid windows resume one window later."""
    scene = scenario(tmp_path, '[[segments]]\nstate = "calm"\nduration_min = 10\n')

    def strip(t_s: float, m: HeartRateMeasurement) -> bytes:
        inside = HR_ONLY[0] <= t_s < HR_ONLY[1]
        return encode(dataclasses.replace(m, rr_ms=()) if inside else m)

    played = await play(tmp_path, caplog, scene, strip)
    beats = played.session.beats
    start, end = (played.start_t_s + t for t in HR_ONLY)
    stripped = sum(1 for t in played.trace.t_s if HR_ONLY[0] <= t < HR_ONLY[1])
    counted = closing_count(played, "notifications without RR")
    said = played.said("notifications without RR intervals")
    inside = beats.t_s[(beats.t_s > start + 1.5) & (beats.t_s < end - 1.5)]
    covered = [
        w
        for w in played.session.windows
        if w.quality == "ok" and start < w.t_end_s - WINDOW_S / 2 < end
    ]
    resumed = beats.gap[beats.t_s >= end - 1.5]
    recovery_s = first_valid_after(played, end)
    report(
        "wearable HR-only payloads (0x2A37 without RR) for 3 min",
        injected=stripped,
        lost=f"no HRV for the stretch ({len(inside)} beats, {len(covered)} valid windows in it); "
        f"{counted} notifications counted, said {len(said)}x; HR samples not stored "
        "(no output takes them; the status note says HRV unavailable)",
        recovery=f"first valid window {recovery_s:.0f} s (simulated) after RR return",
    )
    assert len(said) == 1, said
    assert stripped - 5 <= counted <= stripped
    assert len(inside) == 0
    assert not covered
    assert resumed.size
    assert resumed[0]
    assert recovery_s < WINDOW_S + 30


# -- contact lost and found ------------------------------------------------------------------

CONTACT_LOST = 5
JUNK_RR = (400.0, 1700.0)
"""What a strap without skin contact may still send as RR: noise, not heartbeats."""


async def test_contact_lost_and_found(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Five 20-s spells of "no skin contact" whose notifications still carry (junk) RR: the
    daemon drops those RR (counted in the closing line), stores no beat inside a spell,
    flags the first beat after each as a gap, and places beats again within 3 s of contact
    coming back; every RR sent with contact is stored."""
    spell = """[[segments]]
state = "contact_lost"
duration_s = 20
[[segments]]
state = "calm"
duration_s = 60
"""
    scene = scenario(
        tmp_path, '[[segments]]\nstate = "calm"\nduration_s = 120\n' + spell * CONTACT_LOST
    )

    def junk(t_s: float, m: HeartRateMeasurement) -> bytes:
        rr = JUNK_RR if m.sensor_contact is False else m.rr_ms
        return encode(
            dataclasses.replace(m, rr_ms=tuple(round(r / QUANTUM_MS) * QUANTUM_MS for r in rr))
        )

    played = await play(tmp_path, caplog, scene, junk)
    beats = played.session.beats
    spells = played.segments_of(State.CONTACT_LOST)
    sent_junk = sum(1 for p in played.trace.payload if decode(p).sensor_contact is False) * len(
        JUNK_RR
    )
    dropped = closing_count(played, "RR without skin contact")
    with_contact = played.sent_rr_ms()
    delays = []
    for a, b in spells:
        assert not np.any((beats.t_s > a + 1.5) & (beats.t_s < b - 1.5)), (a, b)
        after = beats.t_s > b - 1.5
        assert beats.gap[after][0], b - played.start_t_s
        delays.append(float(beats.t_s[after][0] - b))
    report(
        "wearable skin contact lost and found (20 s each), junk RR while lost",
        injected=CONTACT_LOST,
        lost=f"{dropped}/{sent_junk} junk RR dropped (counted, in the closing line); "
        f"{len(with_contact) - len(beats)}/{len(with_contact)} beats sent with contact; "
        f"{int(beats.gap.sum())} gaps flagged",
        recovery=f"first beat {max(delays):.1f} s (simulated) after contact at most",
    )
    assert dropped == sent_junk
    assert len(beats) == len(with_contact)
    np.testing.assert_array_equal(beats.rr_ms, with_contact)
    assert max(delays) < 3.0


# -- RR in ms --------------------------------------------------------------------------------


async def test_rr_in_milliseconds_is_detected_said_once_and_corrected(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A strap writing RR in ms where 0x2A37 wants 1/1024 s (calm, stress, calm at 72-92
    bpm): the daemon says so once, and from its decision on stores the true RR (within
    0.5 ms, the strap's rounding to ms); the beats before pass as decoded (2.3 % short)
    and a new segment starts at the decision; nothing is dropped; valid windows after it
    have the true mean RR."""
    scene = scenario(
        tmp_path,
        """[[segments]]
state = "calm"
duration_min = 4
hr_bpm = 72
[[segments]]
state = "stress"
duration_min = 3
[[segments]]
state = "calm"
duration_min = 2
hr_bpm = 72
""",
    )

    def in_ms(t_s: float, m: HeartRateMeasurement) -> bytes:
        as_ms = tuple(round(r) * QUANTUM_MS for r in m.rr_ms)  # the ms value, on the wire as is
        return encode(dataclasses.replace(m, rr_ms=as_ms))

    played = await play(tmp_path, caplog, scene, in_ms)
    beats = played.session.beats
    truth = played.sent_rr_ms()  # what the strap measured, sent rounded to whole ms
    said = played.said("RR intervals arrive in ms")
    corrected = closing_count(played, "RR corrected from ms")
    assert len(beats) == len(truth)
    right = np.abs(beats.rr_ms - truth) <= 0.5
    first_right = int(np.flatnonzero(right)[0])
    decided_s = float(beats.t_s[first_right] - played.start_t_s)
    windows = [w for w in played.session.windows if w.quality == "ok"]
    after = [w for w in windows if w.t_end_s - WINDOW_S > beats.t_s[first_right]]
    errors = []
    for w in after:
        pick = (beats.t_s > w.t_end_s - WINDOW_S) & (beats.t_s <= w.t_end_s)
        errors.append(abs(w.mean_rr_ms / truth[pick].mean() - 1))
    before_valid = [w for w in windows if w.t_end_s <= beats.t_s[first_right]]
    report(
        "wearable RR in ms instead of 1/1024 s",
        injected=len(truth),
        lost=f"0 beats dropped; the first {first_right} RR (before the decision) stored as "
        f"sent, 2.3 % short ({len(before_valid)} valid windows from them); {corrected} RR "
        f"corrected; said {len(said)}x",
        recovery=f"decided {decided_s:.0f} s (simulated) after the start",
    )
    assert len(said) == 1, said
    assert right[first_right:].all()
    np.testing.assert_allclose(
        beats.rr_ms[:first_right], truth[:first_right] * RR_UNIT_MS, atol=1.0
    )
    assert corrected == len(truth) - first_right
    assert beats.gap[first_right]
    assert after
    assert max(errors) < 0.005, errors
    assert decided_s < 150
