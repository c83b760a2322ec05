"""The InfluxDB output against a real v2 write-API server (VictoriaMetrics): exact read-back,
and an outage in the middle of a session that loses and duplicates nothing."""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from hrv import WINDOW_FIGURES, BeatBatch
from tests.servers import VictoriaMetrics
from tests.storage.session import Session, recent_start_s, simulated_session
from vagus.influx import InfluxSettings, InfluxWriter

pytestmark = pytest.mark.integration

OUTCOME_FIELDS = ("before_ln_rmssd", "after_ln_rmssd", "delta_ln_rmssd", "before_hr_bpm",
                  "after_hr_bpm", "delta_hr_bpm", "n_before", "n_after", "trigger_t_s")  # fmt: skip
# String fields: VictoriaMetrics keeps only numbers (it stores a string as 0), so these are
# checked against InfluxDB in test_dashboards.py instead.
STRING_FIELDS = {"triggers_id", "triggers_severity", "triggers_trigger_id"}
Series = dict[tuple[str, frozenset[tuple[str, str]]], dict[int, float]]


def settings(vm: VictoriaMetrics, spool_dir: Path, **changes: object) -> InfluxSettings:
    """Settings for the test server: small batches, quick retries."""
    values: dict[str, object] = {
        "url": vm.url, "bucket": "vagus", "spool_dir": spool_dir, "batch_size": 500,
        "flush_interval_s": 0.2, "retry_initial_s": 0.2, "retry_max_s": 1.0,
    }  # fmt: skip
    return InfluxSettings.model_validate({**values, **changes})


def stored(vm: VictoriaMetrics, device: str) -> Series:
    """Every sample of ``device`` as {(metric, labels without device): {ms: value}}.

    Fails on a timestamp stored twice in one series (a duplicate write).
    """
    series: Series = {}
    for row in vm.export(f'{{device="{device}"}}'):
        labels = dict(row["metric"])  # type: ignore[call-overload]
        name = labels.pop("__name__")
        labels.pop("device")
        if name in STRING_FIELDS:
            continue
        stamps, values = row["timestamps"], row["values"]
        assert isinstance(stamps, list)
        assert isinstance(values, list)
        assert len(set(stamps)) == len(stamps), f"duplicate samples in {name} {labels}"
        series[(name, frozenset(labels.items()))] = dict(
            zip(stamps, map(float, values), strict=True)
        )
    return series


def expected(session: Session) -> Series:
    """What the session's points should read back as, timestamps in ms."""
    out: Series = defaultdict(dict)

    def put(name: str, labels: dict[str, str], t_s: float, value: float | None) -> None:
        if value is not None and math.isfinite(value):
            out[(name, frozenset(labels.items()))][round(t_s * 1e6) // 1000] = float(
                f"{value:.12g}"
            )

    for t, rr, gap in zip(session.beats.t_s, session.beats.rr_ms, session.beats.gap, strict=True):
        put("beats_rr_ms", {}, t, rr)
        put("beats_hr_bpm", {}, t, 60_000.0 / rr)
        put("beats_gap", {}, t, float(gap))
    for w in session.windows:
        for name in WINDOW_FIGURES:
            put(f"hrv_{name}", {"quality": str(w.quality)}, w.t_end_s, getattr(w, name))
    for trig in session.triggers:
        tags = {"rule": trig.rule, "exercise": trig.exercise.id, "kind": "trigger"}
        put("triggers_fired", tags, trig.t_s, 1.0)
        put("triggers_escalation", tags, trig.t_s, trig.escalation)
        put("triggers_breaths_per_min", tags, trig.t_s, trig.exercise.breaths_per_min)
        put("triggers_duration_s", tags, trig.t_s, trig.exercise.duration_s)
        for key, value in trig.reason.items():
            put(f"triggers_reason_{key}", tags, trig.t_s, value)
    for o in session.outcomes:
        tags = {
            "rule": o.rule,
            "exercise": o.exercise_id,
            "kind": "outcome",
            "verdict": str(o.verdict),
        }
        for name in OUTCOME_FIELDS:
            put(f"triggers_{name}", tags, o.t_s, getattr(o, name))
        put("triggers_judged", tags, o.t_s, 1.0)
    for s in session.statuses:
        put("device_battery_pct", {}, s.t_s, s.battery_pct)
        put("device_connected", {}, s.t_s, float(s.connected))
    return dict(out)


def assert_same(got: Series, want: Series) -> None:
    """Same series (names and tags), same timestamps, values equal to VictoriaMetrics' precision.

    VictoriaMetrics stores values as decimals of about 12 significant digits
    (docs: "precision loss" in its FAQ), hence the relative tolerance.
    """
    assert sorted(got, key=str) == sorted(want, key=str)
    for key, samples in want.items():
        assert list(got[key]) == list(samples), key
        for stamp, value in samples.items():
            assert got[key][stamp] == pytest.approx(value, rel=1e-11, abs=1e-12), (key, stamp)


def feed(writer: InfluxWriter, session: Session) -> None:
    """Everything of ``session`` into the writer, beats in one batch."""
    writer.put_beats(session.beats)
    writer.put_windows(session.windows)
    for trig in session.triggers:
        writer.put_trigger(trig)
    for outcome in session.outcomes:
        writer.put_outcome(outcome)
    for status in session.statuses:
        writer.put_device_status(status)


async def test_points_read_back_exactly(victoria_metrics: VictoriaMetrics, tmp_path: Path) -> None:
    """Beats, windows, triggers, outcomes and device status come back with the same values,
    tags and timestamps (ms, VictoriaMetrics' resolution), each sample once."""
    session = simulated_session("readback-1", start_t_s=recent_start_s() + 0.123456, minutes=4)
    writer = InfluxWriter(settings(victoria_metrics, tmp_path / "spool"))
    task = asyncio.create_task(writer.run())
    feed(writer, session)
    writer.stop()
    await task
    assert writer.stats.points_sent > len(session.beats)
    assert writer.spool.empty
    assert_same(stored(victoria_metrics, "readback-1"), expected(session))


def chunks(beats: BeatBatch, step_s: float) -> list[BeatBatch]:
    """``beats`` cut into consecutive batches of ``step_s`` seconds of beat time."""
    edges = np.arange(beats.t_s[0], beats.t_s[-1] + step_s, step_s)
    index = np.searchsorted(beats.t_s, edges)
    return [
        BeatBatch(
            device=beats.device, t_s=beats.t_s[a:b], rr_ms=beats.rr_ms[a:b], gap=beats.gap[a:b]
        )
        for a, b in itertools.pairwise(index.tolist())
        if b > a
    ]


@pytest.mark.parametrize(
    "outage_s", [pytest.param(6.0, id="6s"), pytest.param(120.0, id="2min", marks=pytest.mark.slow)]
)
@pytest.mark.timeout(240)
async def test_outage_mid_session_loses_and_duplicates_nothing(
    victoria_metrics: VictoriaMetrics, tmp_path: Path, outage_s: float
) -> None:
    """VictoriaMetrics stopped mid-session, the daemon restarted during the outage, the server
    back later: every beat and window is stored exactly once and the spool ends empty."""
    device = f"outage-{int(outage_s)}"
    session = simulated_session(device, start_t_s=recent_start_s(), minutes=14)
    pieces = chunks(session.beats, 5.0)
    windows_at = np.array([w.t_end_s for w in session.windows])
    play_s = outage_s + 8.0
    pause_s = play_s / len(pieces)
    spool_dir = tmp_path / "spool"
    writer = InfluxWriter(settings(victoria_metrics, spool_dir))
    task = asyncio.create_task(writer.run())
    started = time.monotonic()
    down_at, restart_at, up_at = 2.0, 2.0 + outage_s / 2, 2.0 + outage_s
    state = "up"
    done = 0
    for piece in pieces:
        writer.put_beats(piece)
        upto = int(np.searchsorted(windows_at, piece.t_s[-1], side="right"))
        writer.put_windows(session.windows[done:upto])
        done = upto
        elapsed = time.monotonic() - started
        if state == "up" and elapsed >= down_at:
            await asyncio.to_thread(victoria_metrics.stop)
            state = "down"
        elif state == "down" and elapsed >= restart_at:
            task.cancel()  # the daemon restarts while the store is away
            await asyncio.gather(task, return_exceptions=True)
            assert not writer.spool.empty
            writer = InfluxWriter(settings(victoria_metrics, spool_dir))
            task = asyncio.create_task(writer.run())
            state = "restarted"
        elif state == "restarted" and elapsed >= up_at:
            await asyncio.to_thread(victoria_metrics.start)
            state = "back"
        await asyncio.sleep(pause_s)
    assert state == "back"
    writer.put_windows(session.windows[done:])
    for _ in range(300):
        if writer.spool.empty:
            break
        await asyncio.sleep(0.1)
    writer.stop()
    await task
    assert writer.spool.empty
    assert writer.stats.points_dropped == 0
    got = stored(victoria_metrics, device)
    want = expected(session)
    beat_stamps = got[("beats_rr_ms", frozenset())]
    assert len(beat_stamps) == len(session.beats)
    assert_same(
        {k: v for k, v in got.items() if k[0].startswith(("beats", "hrv"))},
        {k: v for k, v in want.items() if k[0].startswith(("beats", "hrv"))},
    )
