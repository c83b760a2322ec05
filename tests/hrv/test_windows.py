"""Which windows are emitted, which beats they hold, and the quality verdicts."""

from __future__ import annotations

import numpy as np
import pytest

import hrv


def test_window_ends_are_step_multiples_from_first_to_last_beat() -> None:
    """Ends are k * step_s for every k with first beat <= k * step_s <= last beat."""
    t = np.array([3.2, 4.0, 10.0, 17.5, 25.0])
    table = hrv.sliding_windows(np.full(5, 800.0), t_s=t, step_s=5.0, window_s=10.0)
    assert table.t_end_s.tolist() == [5.0, 10.0, 15.0, 20.0, 25.0]


def test_window_holds_beats_in_half_open_interval() -> None:
    """A beat exactly at t_end - window_s is out, one exactly at t_end is in."""
    t = np.arange(1.0, 31.0)
    table = hrv.sliding_windows(np.full(30, 1000.0), t_s=t, step_s=10.0, window_s=10.0)
    assert table.t_end_s.tolist() == [10.0, 20.0, 30.0]
    assert table.n_beats.tolist() == [10, 10, 10]


def test_default_times_are_cumulative_rr() -> None:
    """Without t_s, beat k sits at the sum of the first k RR intervals (s)."""
    table = hrv.sliding_windows(np.full(20, 500.0), step_s=2.0, window_s=2.0)
    assert table.t_end_s.tolist() == [2.0, 4.0, 6.0, 8.0, 10.0]
    assert table.n_beats.tolist() == [4, 4, 4, 4, 4]


def _quality(table: hrv.WindowTable) -> list[str]:
    return [str(q) for q in table.quality]


def test_too_few_beats_and_low_coverage_at_the_start() -> None:
    """Early windows: too few beats first, then low coverage, then ok once full."""
    rr = np.full(200, 1000.0)
    table = hrv.sliding_windows(rr, window_s=60.0, step_s=10.0)
    q = _quality(table)
    assert q[:2] == ["too_few_beats"] * 2  # 10, 20 beats: below 30 per minute
    assert q[2:5] == ["low_coverage"] * 3  # 30, 40, 50 s of a 60 s window
    assert set(q[5:]) == {"ok"}


def test_gap_flag_invalidates_windows_that_hold_it() -> None:
    """Windows holding a beat flagged as after-a-gap say ``gap``; the others do not."""
    rr = np.full(300, 1000.0)
    gap = np.zeros(300, np.bool_)
    gap[150] = True  # beat at t = 151 s
    table = hrv.sliding_windows(rr, window_s=60.0, step_s=10.0, gap=gap)
    holding = (table.t_end_s >= 151) & (table.t_end_s - 60 < 151)
    assert set(table.quality[holding]) == {"gap"}
    assert "gap" not in set(table.quality[~holding])


def test_missing_stretch_lowers_coverage() -> None:
    """Beats missing for 20 s without a gap flag make the windows spanning it low coverage."""
    t = np.concatenate([np.arange(1.0, 101.0), np.arange(121.0, 240.0)])
    rr = np.full(t.size, 1000.0)
    table = hrv.sliding_windows(rr, t_s=t, window_s=60.0, step_s=10.0)
    spanning = (table.t_end_s > 100) & (table.t_end_s < 180)
    assert set(table.quality[spanning]) == {"low_coverage"}


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"window_s": 0.0}, "window_s"),
        ({"window_s": 600.0}, "window_s"),
        ({"step_s": -1.0}, "step_s"),
        ({"t_s": np.array([1.0, 1.0, 2.0])}, "t_s"),
    ],
)
def test_bad_settings_raise_input_error(kwargs: dict[str, object], name: str) -> None:
    """Out-of-range settings and non-rising times raise `InputError` naming the argument."""
    with pytest.raises(hrv.InputError) as info:
        hrv.sliding_windows(np.full(3, 800.0), **kwargs)  # type: ignore[arg-type]
    assert info.value.name == name


def test_rows_become_records() -> None:
    """``row`` and ``records`` give `WindowMetrics` equal to the columns."""
    table = hrv.sliding_windows(np.full(200, 900.0) + np.tile([0.0, 30.0], 100))
    rows = list(table.records("strap"))
    assert len(rows) == len(table)
    assert rows[-1].device == "strap"
    assert rows[-1].quality is hrv.Quality.OK
    assert rows[-1].rmssd_ms == table.rmssd_ms[-1] == pytest.approx(30.0)
