"""Line protocol of beats, windows, triggers, outcomes and device status (pure)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hrv import WINDOW_FIGURES, BeatBatch, Quality, WindowMetrics
from tests.storage.session import DeviceStatus, simulated_session
from vagus.influx import beat_lines, device_status_line, outcome_line, trigger_line, window_line
from vagus.influx.lines import escape_key, format_value, point, to_ns


def test_beat_lines_one_point_per_beat_with_hr_and_gap() -> None:
    """Each beat becomes one `beats` point: RR as given, HR = 60000/RR, gap flag, ns stamp."""
    batch = BeatBatch(
        device="strap 1",
        t_s=np.array([1_700_000_000.5, 1_700_000_001.25]),
        rr_ms=np.array([800.0, 750.0]),
        gap=np.array([False, True]),
    )
    assert beat_lines(batch) == [
        r"beats,device=strap\ 1 rr_ms=800.0,hr_bpm=75.0,gap=false 1700000000500000000",
        r"beats,device=strap\ 1 rr_ms=750.0,hr_bpm=80.0,gap=true 1700000001250000000",
    ]


def test_timestamps_are_stable_microseconds() -> None:
    """The same t_s always gives the same ns stamp, rounded to the µs (re-sends overwrite)."""
    assert to_ns(1_700_000_000.1234564) == 1_700_000_000_123_456_000
    assert to_ns(0.0000015) == 2000
    batch = BeatBatch(device="d", t_s=np.array([1_700_000_000.1234564]), rr_ms=np.array([1e3]))
    assert beat_lines(batch)[0].endswith(" 1700000000123456000")


def test_escaping_of_tags_and_strings() -> None:
    """Commas, spaces, '=' and backslashes are escaped in keys; quotes in string fields."""
    assert escape_key(r"a,b c=d\e") == r"a\,b\ c\=d\\e"
    assert format_value('say "hi"\\') == r'"say \"hi\"\\"'
    assert format_value(True) == "true"
    assert format_value(3) == "3i"
    assert format_value(0.1 + 0.2) == "0.30000000000000004"  # exact, not rounded


@pytest.mark.parametrize("value", [None, float("nan"), float("inf"), -math.inf])
def test_unwritable_values_are_left_out(value: float | None) -> None:
    """None, NaN and infinities are left out of the point; a point without fields is None."""
    assert format_value(value) is None
    assert point("m", {"device": "d"}, {"x": value, "y": 1.5}, 7) == "m,device=d y=1.5 7"
    assert point("m", {"device": "d"}, {"x": value}, 7) is None


def test_window_line_has_every_numeric_field_and_quality_tag() -> None:
    """A window point carries all numeric WindowMetrics fields, tags device and quality
    (a window late enough for the 2-minute spectral figures)."""
    session = simulated_session("w1", start_t_s=1_700_000_000.0, minutes=3)
    window = next(
        w for w in session.windows if w.quality is Quality.OK and math.isfinite(w.coherence)
    )
    line = window_line(window)
    head, fields, stamp = line.split(" ")
    assert head == "hrv,device=w1,quality=ok"
    assert stamp == str(to_ns(window.t_end_s))
    written = dict(part.split("=") for part in fields.split(","))
    assert set(written) == set(WINDOW_FIGURES)
    assert written["n_beats"] == f"{window.n_beats}i"
    assert float(written["rmssd_ms"]) == window.rmssd_ms


def test_window_line_of_invalid_window_keeps_the_verdict() -> None:
    """A window without figures is still written (n_beats and its quality tag), never dropped."""
    nan = float("nan")
    window = WindowMetrics(
        device="d", t_end_s=10.0, n_beats=3, mean_rr_ms=nan, hr_bpm=nan, rmssd_ms=nan,
        ln_rmssd=nan, sdnn_ms=nan, pnn50_pct=nan, sd1_ms=nan, sd2_ms=nan, stress_index=nan,
        stress=nan, artifact_pct=nan, quality=Quality.GAP,
    )  # fmt: skip
    assert window_line(window) == "hrv,device=d,quality=gap n_beats=3i 10000000000"


def test_trigger_and_outcome_lines() -> None:
    """Triggers and outcomes go to `triggers` with device/rule/exercise/kind tags and figures."""
    session = simulated_session("t1", start_t_s=1_700_000_000.0, minutes=1)
    trigger, outcome = session.triggers[0], session.outcomes[0]
    line = trigger_line(trigger)
    assert line.startswith("triggers,device=t1,exercise=box,kind=trigger,rule=sustained_stress ")
    assert f'id="{trigger.id}"' in line
    assert "reason_stress=78.5" in line
    assert "duration_s=240.0" in line
    assert 'severity="moderate"' in line
    assert line.endswith(f" {to_ns(trigger.t_s)}")
    line = outcome_line(outcome)
    assert line.startswith(
        "triggers,device=t1,exercise=box,kind=outcome,rule=sustained_stress,verdict=improved "
    )
    assert "delta_hr_bpm=-8.5" in line
    assert f'trigger_id="{trigger.id}"' in line


def test_device_status_line_leaves_out_unknowns() -> None:
    """Battery is omitted when the strap does not report it; connected never."""
    known = DeviceStatus(device="d", t_s=5.0, battery_pct=80, connected=True)
    unknown = DeviceStatus(device="d", t_s=6.0, battery_pct=None, connected=False)
    assert device_status_line(known) == "device,device=d battery_pct=80i,connected=true 5000000000"
    assert device_status_line(unknown) == "device,device=d connected=false 6000000000"
