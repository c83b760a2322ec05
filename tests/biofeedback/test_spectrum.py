"""The biofeedback spectrum against scipy: periodogram bit for bit, tachogram vs a cubic spline,
and HeartMath's coherence ratio on a known signal."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.interpolate import CubicSpline
from scipy.signal import periodogram

from vagus.biofeedback._spectrum import FS_HZ, dominant_peak, psd, tachogram


@pytest.mark.parametrize("n", [256, 431, 1024, 1500])
def test_psd_is_scipys_periodogram(n: int) -> None:
    """Hann window, linear detrend, one-sided density, zero padding: scipy's numbers."""
    rng = np.random.default_rng(n)
    series = 900 + 3.0 * np.arange(n) / FS_HZ + rng.normal(0, 30, n)
    freqs, power = psd(series)
    nfft = max(1024, 1 << (n - 1).bit_length())
    ref_f, ref_p = periodogram(series, FS_HZ, window="hann", nfft=nfft, detrend="linear")
    np.testing.assert_allclose(freqs, ref_f)
    np.testing.assert_allclose(power, ref_p, rtol=1e-9, atol=1e-9 * ref_p.max())


def test_tachogram_follows_a_cubic_spline() -> None:
    """On beats of a 0.1 Hz RR oscillation the grid is within 0.5 ms of scipy's spline."""
    t, times = 0.0, []
    while t < 120:
        t += (900 + 60 * np.sin(2 * np.pi * 0.1 * t)) / 1000
        times.append(t)
    t_s = np.array(times)
    rr_ms = np.diff(t_s, prepend=0.0) * 1000
    grid = tachogram(t_s, rr_ms, 10.0, 110.0)
    assert grid.size == 400
    ref = CubicSpline(t_s, rr_ms)(10.0 + np.arange(400) / FS_HZ)
    assert np.max(np.abs(grid - ref)) < 0.5
    assert tachogram(t_s[:1], rr_ms[:1], 0.0, 10.0).size == 0


def test_coherence_of_a_pure_oscillation() -> None:
    """A sinusoid at 0.1 Hz with a little noise: peak at 0.1 Hz, coherence far above 1."""
    rng = np.random.default_rng(1)
    k = np.arange(512) / FS_HZ
    freqs, power = psd(1000 + 50 * np.sin(2 * np.pi * 0.1 * k) + rng.normal(0, 2, k.size))
    peak = dominant_peak(freqs, power)
    assert peak.peak_hz == pytest.approx(0.1, abs=0.004)
    assert peak.peak_ms2 == pytest.approx(50**2 / 2, rel=0.1)
    assert peak.coherence > 20
