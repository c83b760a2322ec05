"""Time-series charts drawn as inline SVG text (no plotting library, no external resources)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import numpy as np

from hrv import FloatArray

_PAD_LEFT, _PAD_RIGHT, _PAD_TOP, _PAD_BOTTOM = 56.0, 16.0, 14.0, 26.0


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Line:
    """A series drawn as a line; NaN values break it."""

    x_s: FloatArray
    y: FloatArray
    color: str
    width_px: float = 1.5


@dataclass(frozen=True, slots=True, kw_only=True)
class Marker:
    """A vertical mark at one time (a trigger, an outcome), with a short label."""

    x_s: float
    label: str
    color: str
    dashed: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Band:
    """A shaded stretch of time (e.g. windows that are not valid)."""

    x0_s: float
    x1_s: float
    color: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Chart:
    """One chart: lines over a shared time axis (seconds from the session start)."""

    title: str
    x_range_s: tuple[float, float]
    lines: Sequence[Line]
    y_range: tuple[float, float] | None = None
    markers: Sequence[Marker] = ()
    bands: Sequence[Band] = ()
    threshold: float | None = None
    width_px: int = 960
    height_px: int = 200


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high]: steps of 1, 2 or 5 times a power of ten.

    The "nice numbers for graph labels" method of Heckbert (Graphics Gems, 1990).
    """
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low]
    raw = (high - low) / max(count - 1, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * power >= raw)
    first = math.ceil(low / step - 1e-9) * step
    ticks = np.arange(first, high + step * 1e-9, step)
    return [round(float(t), 10) for t in ticks]


def time_ticks(low_s: float, high_s: float) -> list[float]:
    """Tick times in seconds at round minute (or second) steps."""
    span = high_s - low_s
    steps = (10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600)
    step = next((s for s in steps if span / s <= 8), 43200)
    first = math.ceil(low_s / step) * step
    return [float(t) for t in np.arange(first, high_s + 1e-9, step)]


def clock_label(t_s: float) -> str:
    """Elapsed time as ``m:ss`` or ``h:mm:ss``."""
    whole = round(t_s)
    hours, rest = divmod(whole, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def _number_label(value: float) -> str:
    return f"{value:g}"


def _thin(x: FloatArray, y: FloatArray, columns: int) -> tuple[FloatArray, FloatArray]:
    """At most two points (min and max) per pixel column, so long series stay small."""
    if x.size <= 2 * columns:
        return x, y
    edges = np.linspace(x[0], x[-1], columns + 1)
    column = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, columns - 1)
    starts = np.flatnonzero(np.r_[True, column[1:] != column[:-1]])
    finite = np.where(np.isnan(y), np.inf, y)
    low = np.minimum.reduceat(finite, starts)
    high = np.maximum.reduceat(np.where(np.isnan(y), -np.inf, y), starts)
    mid = (edges[column[starts]] + edges[column[starts] + 1]) / 2
    xs = np.repeat(mid, 2)
    ys = np.column_stack([low, high]).ravel()
    ys[~np.isfinite(ys)] = np.nan
    return xs, ys


def _path(px: FloatArray, py: FloatArray) -> str:
    """An SVG path through the points, lifting the pen at NaN."""
    parts: list[str] = []
    pen_down = False
    for x, y in zip(px.tolist(), py.tolist(), strict=True):
        if math.isnan(y):
            pen_down = False
            continue
        parts.append(f"{'L' if pen_down else 'M'}{x:.1f} {y:.1f}")
        pen_down = True
    return "".join(parts)


def _y_range(chart: Chart) -> tuple[float, float]:
    if chart.y_range is not None:
        return chart.y_range
    values = np.concatenate([line.y for line in chart.lines]) if chart.lines else np.zeros(0)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return 0.0, 1.0
    # Robust limits for long series, so a few artifacts do not flatten the rest.
    quantiles = (0.5, 99.5) if values.size > 200 else (0.0, 100.0)
    low, high = (float(q) for q in np.percentile(values, quantiles))
    pad = (high - low) * 0.08 or max(abs(high) * 0.1, 1.0)
    return low - pad, high + pad


def render_chart(chart: Chart) -> str:
    """The chart as a standalone ``<svg>`` element (sized by viewBox, so it scales)."""
    width, height = float(chart.width_px), float(chart.height_px)
    plot_w = width - _PAD_LEFT - _PAD_RIGHT
    plot_h = height - _PAD_TOP - _PAD_BOTTOM
    x0, x1 = chart.x_range_s
    x_span = (x1 - x0) or 1.0
    y0, y1 = _y_range(chart)
    y_span = (y1 - y0) or 1.0

    def sx(x: float | FloatArray) -> float | FloatArray:
        return _PAD_LEFT + (x - x0) / x_span * plot_w

    def sy(y: float | FloatArray) -> float | FloatArray:
        return _PAD_TOP + (1.0 - (y - y0) / y_span) * plot_h

    out = [
        f'<svg class="chart" viewBox="0 0 {width:g} {height:g}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(chart.title)}</title>',
        f'<rect x="{_PAD_LEFT}" y="{_PAD_TOP}" width="{plot_w:.1f}" height="{plot_h:.1f}" '
        'class="plot"/>',
    ]
    for band in chart.bands:
        left, right = max(sx(band.x0_s), _PAD_LEFT), min(sx(band.x1_s), _PAD_LEFT + plot_w)
        if right > left:
            out.append(
                f'<rect x="{left:.1f}" y="{_PAD_TOP}" width="{right - left:.1f}" '
                f'height="{plot_h:.1f}" fill="{band.color}"/>'
            )
    for tick in nice_ticks(y0, y1):
        if y0 <= tick <= y1:
            y = sy(tick)
            out.append(
                f'<line x1="{_PAD_LEFT}" x2="{_PAD_LEFT + plot_w:.1f}" y1="{y:.1f}" '
                f'y2="{y:.1f}" class="grid"/><text x="{_PAD_LEFT - 6}" y="{y + 4:.1f}" '
                f'class="ytick">{_number_label(tick)}</text>'
            )
    for tick in time_ticks(x0, x1):
        x = sx(tick)
        out.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{_PAD_TOP}" y2="{_PAD_TOP + plot_h:.1f}" '
            f'class="grid"/><text x="{x:.1f}" y="{height - 8:.1f}" class="xtick">'
            f"{clock_label(tick)}</text>"
        )
    if chart.threshold is not None and y0 <= chart.threshold <= y1:
        y = sy(chart.threshold)
        out.append(
            f'<line x1="{_PAD_LEFT}" x2="{_PAD_LEFT + plot_w:.1f}" y1="{y:.1f}" y2="{y:.1f}" '
            'class="threshold"/>'
        )
    for line in chart.lines:
        xs, ys = _thin(line.x_s, line.y, int(plot_w))
        path = _path(np.asarray(sx(xs)), np.asarray(sy(np.clip(ys, y0, y1))))
        out.append(
            f'<path d="{path}" fill="none" stroke="{line.color}" '
            f'stroke-width="{line.width_px:g}" stroke-linejoin="round"/>'
        )
    for marker in chart.markers:
        x = sx(marker.x_s)
        dash = ' stroke-dasharray="4 3"' if marker.dashed else ""
        out.append(
            f'<g class="marker"><title>{escape(marker.label)}</title>'
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{_PAD_TOP}" y2="{_PAD_TOP + plot_h:.1f}" '
            f'stroke="{marker.color}" stroke-width="1.5"{dash}/>'
            f'<circle cx="{x:.1f}" cy="{_PAD_TOP + 5:.1f}" r="4" fill="{marker.color}"/></g>'
        )
    out.append("</svg>")
    return "".join(out)
