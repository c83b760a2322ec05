"""Vectorized HRV engine: sliding-window time-domain, Poincaré and stress metrics."""

from hrv._records import BeatBatch, BoolArray, FloatArray, Quality, WindowMetrics

__all__ = ["BeatBatch", "BoolArray", "FloatArray", "Quality", "WindowMetrics"]
