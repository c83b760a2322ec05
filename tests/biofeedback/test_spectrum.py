"""The stretch adapter over the engine's spectral functions: lattice times, peaks, coherence."""

from __future__ import annotations

import numpy as np
import pytest

from hrv import GRID_HZ, rr_grid
from vagus.biofeedback._spectrum import LF_BAND, peak, stretch


def _beats(seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """Beats whose RR swings ±60 ms at 0.1 Hz around 900 ms."""
    t, times = 0.0, []
    while t < seconds:
        t += (900 + 60 * np.sin(2 * np.pi * 0.1 * t)) / 1000
        times.append(t)
    t_s = np.array(times)
    return t_s, np.diff(t_s, prepend=0.0) * 1000


def test_stretch_is_the_engines_grid_on_its_lattice() -> None:
    """The samples are `hrv.rr_grid`'s, at lattice times k/4 s inside (start, end]."""
    t_s, rr_ms = _beats(130)
    got = stretch(t_s, rr_ms, 10.3, 110.6)
    assert got is not None
    np.testing.assert_array_equal(got.rr_ms, rr_grid(t_s, rr_ms, 110.6, 100.3))
    assert got.t_s[-1] == 110.5
    assert np.all(np.diff(got.t_s) == 1 / GRID_HZ)
    assert got.t_s[0] > 10.3
    assert stretch(t_s[:4], rr_ms[:4], 0.0, 10.0) is None


def test_peak_and_coherence_of_an_oscillation() -> None:
    """RR swinging ±60 ms at 0.1 Hz: LF peak at 0.1 Hz holding about 60²/2 ms², coherent."""
    t_s, rr_ms = _beats(130)
    got = stretch(t_s, rr_ms, 2.0, 130.0)
    assert got is not None
    top = peak(got.freqs_hz, got.psd, LF_BAND)
    assert top.peak_hz == pytest.approx(0.1, abs=0.004)
    assert top.peak_ms2 == pytest.approx(60**2 / 2, rel=0.1)
    assert got.coherence() > 10
