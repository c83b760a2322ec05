"""Window metrics against NeuroKit2 and a per-window numpy reference, on real recordings."""

from __future__ import annotations

import neurokit2 as nk
import numpy as np
import pytest

import hrv
from tests.hrv.references import load_rr, reference_metrics, window_beats

RECORDINGS = ["pyhrv_short_5min", "pyhrv_long_60min"]
COMPARED = ["mean_rr_ms", "sdnn_ms", "rmssd_ms", "pnn50_pct", "sd1_ms", "sd2_ms", "stress_index"]


def _table(name: str, window_s: float = 60.0) -> tuple[np.ndarray, hrv.WindowTable]:
    rr = load_rr(name)
    return rr, hrv.sliding_windows(rr, window_s=window_s, step_s=5.0, correct_artifacts=False)


@pytest.mark.parametrize("name", RECORDINGS)
@pytest.mark.parametrize("window_s", [60.0, 300.0])
def test_every_window_matches_numpy_reference(name: str, window_s: float) -> None:
    """Every window with 3+ beats equals the textbook per-window numpy formulas to 1e-9."""
    rr, table = _table(name, window_s)
    t = np.cumsum(rr) / 1000
    checked = 0
    for i in np.flatnonzero(table.n_beats >= 3):
        in_window = rr[window_beats(t, float(table.t_end_s[i]), window_s)]
        assert table.n_beats[i] == in_window.size
        ref = reference_metrics(in_window)
        for key in COMPARED:
            assert getattr(table, key)[i] == pytest.approx(ref[key], rel=1e-9), (i, key)
        checked += 1
    assert checked > 0.9 * len(table)


@pytest.mark.parametrize("name", RECORDINGS)
def test_time_domain_matches_neurokit2(name: str) -> None:
    """Mean RR, SDNN, RMSSD and pNN50 equal NeuroKit2 ``hrv_time`` (n denominator) to 1e-9."""
    rr, table = _table(name)
    t = np.cumsum(rr) / 1000
    rows = np.flatnonzero(table.n_beats >= 3)
    for i in rows[:: max(1, rows.size // 60)]:
        ref = nk.hrv_time({"RRI": rr[window_beats(t, float(table.t_end_s[i]), 60.0)]})
        assert table.mean_rr_ms[i] == pytest.approx(ref["HRV_MeanNN"][0], rel=1e-9)
        assert table.sdnn_ms[i] == pytest.approx(ref["HRV_SDNN"][0], rel=1e-9)
        assert table.rmssd_ms[i] == pytest.approx(ref["HRV_RMSSD"][0], rel=1e-9)
        assert table.pnn50_pct[i] == pytest.approx(ref["HRV_pNN50"][0], rel=1e-9)


@pytest.mark.filterwarnings("ignore:DFA_alpha2")  # short windows: NeuroKit2's DFA complains
@pytest.mark.parametrize("name", RECORDINGS)
def test_poincare_matches_neurokit2(name: str) -> None:
    """SD1 and SD2 equal NeuroKit2 ``hrv_nonlinear`` to 1e-9 on a sample of windows."""
    rr, table = _table(name)
    t = np.cumsum(rr) / 1000
    rows = np.flatnonzero(table.quality == "ok")
    for i in rows[:: max(1, rows.size // 6)]:
        ref = nk.hrv_nonlinear({"RRI": rr[window_beats(t, float(table.t_end_s[i]), 60.0)]})
        assert table.sd1_ms[i] == pytest.approx(ref["HRV_SD1"][0], rel=1e-9)
        assert table.sd2_ms[i] == pytest.approx(ref["HRV_SD2"][0], rel=1e-9)


def test_derived_columns_follow_their_definitions() -> None:
    """HR is 60000 / mean RR and ln_rmssd is log(RMSSD), window by window."""
    _, table = _table("pyhrv_long_60min")
    assert np.allclose(table.hr_bpm, 60000 / table.mean_rr_ms, rtol=1e-12)
    assert np.allclose(table.ln_rmssd, np.log(table.rmssd_ms), rtol=1e-12)


def test_pnn50_uses_rr_count_not_difference_count() -> None:
    """Three successive differences above 50 ms among 4 intervals give 75 %, not 100 %."""
    rr = np.array([800.0, 900.0, 800.0, 900.0] + [800.0] * 96)
    table = hrv.sliding_windows(rr, window_s=3.4, step_s=0.1, correct_artifacts=False)
    i = int(np.argmin(np.abs(table.t_end_s - 3.4)))
    assert table.n_beats[i] == 4
    assert table.pnn50_pct[i] == pytest.approx(75.0)


def test_baevsky_by_hand() -> None:
    """SI of 5 beats 800,810,820,830,900 ms: AMo 80 %, Mo 0.825 s, MxDMn 0.1 s."""
    rr = np.array([800.0, 810.0, 820.0, 830.0, 900.0])
    table = hrv.sliding_windows(rr, window_s=10.0, step_s=4.16, correct_artifacts=False)
    assert table.n_beats[-1] == 5
    assert table.stress_index[-1] == pytest.approx(np.sqrt(80 / (2 * 0.825 * 0.1)))


def test_short_windows_give_nan_not_errors() -> None:
    """One beat in a window: mean RR is its RR; SDNN, RMSSD, SD1/2 and SI are NaN."""
    table = hrv.sliding_windows(np.array([1000.0, 1000.0, 1000.0]), window_s=1.0, step_s=1.0)
    assert table.n_beats.tolist() == [1, 1, 1]
    assert table.mean_rr_ms[0] == 1000.0
    for name in ("sdnn_ms", "rmssd_ms", "sd1_ms", "sd2_ms", "stress_index", "stress"):
        assert np.isnan(getattr(table, name)).all(), name
