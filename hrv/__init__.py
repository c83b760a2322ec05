"""Vectorized HRV engine: sliding-window time-domain, Poincaré, spectral and stress metrics."""

from hrv._artifacts import correct as correct_artifacts
from hrv._batch import check_settings, sliding_windows
from hrv._metrics import RR_MAX_MS, RR_MIN_MS
from hrv._records import (
    WINDOW_FIGURES,
    BeatBatch,
    BoolArray,
    FloatArray,
    Quality,
    WindowMetrics,
)
from hrv._spectral import (
    GRID_HZ,
    SPECTRAL_FIGURES,
    Spectral,
    rr_grid,
    rr_spectrum,
    spectral_figures,
)
from hrv._stream import StreamEngine
from hrv._stress import Baseline, BaselineRule
from hrv._table import METRIC_COLUMNS, WindowTable
from hrv._windows import QualityRule
from hrv.errors import HrvError, InputError, UnknownDeviceError

__all__ = [
    "GRID_HZ",
    "METRIC_COLUMNS",
    "RR_MAX_MS",
    "RR_MIN_MS",
    "SPECTRAL_FIGURES",
    "WINDOW_FIGURES",
    "Baseline",
    "BaselineRule",
    "BeatBatch",
    "BoolArray",
    "FloatArray",
    "HrvError",
    "InputError",
    "Quality",
    "QualityRule",
    "Spectral",
    "StreamEngine",
    "UnknownDeviceError",
    "WindowMetrics",
    "WindowTable",
    "check_settings",
    "correct_artifacts",
    "rr_grid",
    "rr_spectrum",
    "sliding_windows",
    "spectral_figures",
]
