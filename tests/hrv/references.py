"""Slow, obviously-correct per-window references for the engine's metrics (tests only)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hrv import FloatArray

DATA_DIR = Path(__file__).parent.parent / "data"


def load_rr(name: str) -> FloatArray:
    """RR intervals (ms) of a recording in tests/data."""
    return np.loadtxt(DATA_DIR / f"{name}.csv", skiprows=1, dtype=np.float64)


def window_beats(t_s: FloatArray, t_end_s: float, window_s: float) -> np.ndarray:
    """Boolean mask of the beats in (t_end - window, t_end], by direct comparison."""
    return (t_s > t_end_s - window_s) & (t_s <= t_end_s)


def reference_metrics(rr: FloatArray) -> dict[str, float]:
    """Textbook formulas on one window's RR (ms), straight numpy."""
    d = np.diff(rr)
    n = rr.size
    out = {
        "n_beats": float(n),
        "mean_rr_ms": float(np.mean(rr)),
        "sdnn_ms": float(np.std(rr, ddof=1)),
        "rmssd_ms": float(np.sqrt(np.mean(d**2))),
        "pnn50_pct": float(np.sum(np.abs(d) > 50) / n * 100),
        "sd1_ms": float(np.std(d / np.sqrt(2), ddof=1)),
        "sd2_ms": float(np.std((rr[:-1] + rr[1:]) / np.sqrt(2), ddof=1)),
    }
    counts, edges = np.histogram(rr, bins=np.arange(0.0, 3050.0, 50.0))
    k = int(np.argmax(counts))
    amo = counts[k] / n * 100
    mo_s = (edges[k] + 25.0) / 1000
    mxdmn_s = (rr.max() - rr.min()) / 1000
    out["stress_index"] = float(np.sqrt(amo / (2 * mo_s * mxdmn_s)))
    return out
