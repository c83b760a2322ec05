"""HTML reports: self-contained, well-formed, with the sections, charts and numbers of the data."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from hrv import Quality
from recommender import StressLevel, stress_level
from tests.offline.factories import calm_stress_session
from tests.offline.html_check import outline
from vagus.report import STRESS_HIGH, render_report, summarize
from vagus.report._svg import Chart, Line, _thin, nice_ticks, render_chart


@pytest.fixture(scope="module")
def page() -> str:
    """A report of two devices of the calm-stress-calm session."""
    sessions = [calm_stress_session("strap-a"), calm_stress_session("strap-b")]
    return render_report(sessions, title="Tuesday", version="9.9")


def test_page_is_well_formed_and_self_contained(page: str) -> None:
    """Every tag closes in order; no src/href and no URL other than the SVG namespace."""
    found = outline(page)
    assert found.errors == []
    assert found.open == []
    assert found.urls == []
    assert set(re.findall(r"https?://[^\"' )]+", page)) == {"http://www.w3.org/2000/svg"}
    assert page.startswith("<!DOCTYPE html>")


def test_page_has_a_section_with_four_charts_per_device(page: str) -> None:
    """Each device gets a section with the RR tachogram, HR, RMSSD and stress charts."""
    found = outline(page)
    assert found.devices == ["strap-a", "strap-b"]
    assert found.charts == ["RR tachogram", "Heart rate", "RMSSD", "Stress"] * 2
    assert found.svgs == 8
    for heading in ("Summary", "Charts", "Triggers and outcomes", "Windows by quality"):
        assert page.count(f"<h3>{heading}</h3>") == 2


def test_summary_figures_match_the_data() -> None:
    """Duration, beats, mean HR, time in stress, artifacts and quality counts follow the session."""
    session = calm_stress_session()
    summary = summarize(session)
    rr = session.beats.rr_ms
    assert summary.n_beats == rr.size
    assert summary.duration_s == pytest.approx(rr.sum() / 1000.0)
    assert summary.mean_hr_bpm == pytest.approx(60000.0 / rr.mean())
    stressed = [w for w in session.windows if w.stress >= 70 and w.quality is Quality.OK]
    assert summary.step_s == 5.0
    assert summary.stress_time_s == pytest.approx(5.0 * len(stressed))
    assert summary.windows_by_quality[Quality.GAP] == 4
    assert summary.windows_by_quality[Quality.OK] == len(session.windows) - 4
    assert summary.n_triggers == 1
    assert summary.outcomes_by_verdict == {"improved": 1}
    assert summary.median_rmssd_ms == pytest.approx(41.2)


def test_page_shows_the_summary_numbers(page: str) -> None:
    """The cards and tables carry the summary's figures as text."""
    summary = summarize(calm_stress_session("strap-a"))
    text = " ".join(outline(page).text)
    assert f"{summary.n_beats:,}" in text
    assert f"{summary.mean_hr_bpm:.1f}" in text
    assert f"{summary.stress_time_s / 60:.1f} min" in text
    assert "Box breathing 4-4-4-4" in text
    assert "11:40" in text  # the trigger at t = 700 s
    assert "+0.60" in text  # its outcome: ln RMSSD up
    assert "-17.0" in text  # and HR down
    assert "improved" in text


def test_stress_line_is_where_high_starts() -> None:
    """The stress chart's line sits where recommender.stress_level starts saying high."""
    assert stress_level(STRESS_HIGH) is StressLevel.HIGH
    assert stress_level(math.nextafter(STRESS_HIGH, 0.0)) is not StressLevel.HIGH


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (0, 100, [0, 25, 50, 75, 100]),
        (61.3, 93.8, [70, 80, 90]),
        (0.2, 0.9, [0.2, 0.4, 0.6, 0.8]),
    ],
)
def test_nice_ticks(low: float, high: float, expected: list[float]) -> None:
    """Axis ticks are round numbers inside the range."""
    assert nice_ticks(low, high) == expected


def test_thinning_keeps_extremes() -> None:
    """Thinning a long series to pixel columns keeps its minimum and maximum."""
    x = np.arange(100_000, dtype=np.float64)
    y = np.sin(x / 500.0)
    y[31_337] = 9.0
    xs, ys = _thin(x, y, 500)
    assert xs.size <= 1000
    assert np.nanmax(ys) == 9.0
    assert np.nanmin(ys) == y.min()


def test_nan_breaks_the_line() -> None:
    """A NaN in a series lifts the pen: the path has a second move-to."""
    y = np.array([1.0, 2.0, np.nan, 3.0, 4.0])
    svg = render_chart(
        Chart(title="t", x_range_s=(0.0, 4.0), lines=[Line(x_s=np.arange(5.0), y=y, color="#000")])
    )
    (path,) = re.findall(r'<path d="([^"]*)"', svg)
    assert path.count("M") == 2
    assert path.count("L") == 2
