"""The HTML page of a session report: summary table, charts and trigger list, all inline."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from html import escape

import numpy as np

from hrv import Quality
from recommender import Outcome, Trigger
from vagus.biofeedback import HIGH_COHERENCE, LiveFigures
from vagus.biofeedback import summarize as summarize_breathing
from vagus.report._summary import STRESS_HIGH, Summary, summarize
from vagus.report._svg import Band, Chart, Line, Marker, clock_label, render_chart
from vagus.session import DeviceSession, FeedbackRecord

TRIGGER_COLOR = "#e8590c"
VERDICT_COLORS = {
    "improved": "#2b8a3e",
    "no_change": "#868e96",
    "worse": "#c92a2a",
    "insufficient_data": "#adb5bd",
}
INVALID_COLOR = "#e9ecef"

_CSS = """
:root { color-scheme: light; --ink: #212529; --muted: #6c757d; --line: #dee2e6; }
* { box-sizing: border-box; }
body { margin: 0; background: #f8f9fa; color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 1040px; margin: 0 auto; padding: 28px 24px 48px; }
h1 { font-size: 26px; margin: 0 0 2px; }
h2 { font-size: 20px; margin: 36px 0 12px; padding-top: 12px; border-top: 1px solid var(--line); }
h3 { font-size: 15px; margin: 18px 0 6px; color: var(--muted); font-weight: 600; }
.sub { color: var(--muted); margin: 0 0 8px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.card .k { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .v { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
.card .v small { font-size: 13px; font-weight: 400; color: var(--muted); }
figure { margin: 6px 0 0; background: #fff; border: 1px solid var(--line); border-radius: 8px;
  padding: 6px 8px 2px; }
figcaption { font-weight: 600; font-size: 14px; padding: 2px 4px; }
figcaption span { font-weight: 400; color: var(--muted); }
svg.chart { width: 100%; height: auto; display: block; font-size: 11px; }
svg .plot { fill: #fff; }
svg .grid { stroke: #e9ecef; stroke-width: 1; }
svg .threshold { stroke: #c92a2a; stroke-width: 1; stroke-dasharray: 6 4; }
svg .ytick { text-anchor: end; fill: var(--muted); }
svg .xtick { text-anchor: middle; fill: var(--muted); }
table { border-collapse: collapse; width: 100%; background: #fff;
  font-variant-numeric: tabular-nums; border: 1px solid var(--line); border-radius: 8px; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); }
th { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
td.num { text-align: right; }
.legend { display: flex; gap: 16px; flex-wrap: wrap; color: var(--muted); font-size: 13px;
  margin: 10px 0 0; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 3px;
  vertical-align: -1px; margin-right: 5px; border: 1px solid var(--line); }
.pill { display: inline-block; padding: 0 8px; border-radius: 10px; color: #fff; font-size: 12px; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
"""


def _fmt(value: float, digits: int = 1) -> str:
    return "–" if math.isnan(value) else f"{value:.{digits}f}"


def _duration(seconds: float) -> str:
    if math.isnan(seconds):
        return "–"
    minutes = seconds / 60.0
    return f"{minutes:.1f} min" if minutes < 120 else f"{minutes / 60.0:.2f} h"


def _card(key: str, value: str, unit: str = "") -> str:
    unit_html = f" <small>{escape(unit)}</small>" if unit else ""
    return (
        f'<div class="card"><div class="k">{escape(key)}</div>'
        f'<div class="v">{value}{unit_html}</div></div>'
    )


def _summary_cards(summary: Summary) -> str:
    verdicts = ", ".join(
        f"{n} {v.replace('_', ' ')}" for v, n in summary.outcomes_by_verdict.items()
    )
    cards = [
        _card("Duration", _duration(summary.duration_s)),
        _card("Beats", f"{summary.n_beats:,}"),
        _card("Mean HR", _fmt(summary.mean_hr_bpm), "bpm"),
        _card("Median RMSSD", _fmt(summary.median_rmssd_ms), "ms"),
        _card("Time in stress", _duration(summary.stress_time_s), f"{_fmt(summary.stress_pct)}%"),
        _card("Triggers", str(summary.n_triggers), verdicts),
        _card("Artifacts", _fmt(summary.artifact_pct, 2), "%"),
        _card("Windows", f"{summary.n_windows:,}", f"step {_fmt(summary.step_s, 0)} s"),
    ]
    return f'<div class="cards">{"".join(cards)}</div>'


def _quality_table(summary: Summary) -> str:
    total = max(summary.n_windows, 1)
    rows = "".join(
        f'<tr><td>{escape(quality.value.replace("_", " "))}</td><td class="num">{count:,}</td>'
        f'<td class="num">{100.0 * count / total:.1f} %</td></tr>'
        for quality, count in summary.windows_by_quality.items()
    )
    return (
        '<table class="quality"><thead><tr><th>Window quality</th><th>Windows</th>'
        f"<th>Share</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _trigger_table(triggers: Sequence[Trigger], outcomes: Sequence[Outcome], t0_s: float) -> str:
    if not triggers:
        return '<p class="sub">No triggers in this session.</p>'
    by_trigger = {outcome.trigger_id: outcome for outcome in outcomes}
    rows = []
    for trigger in triggers:
        outcome = by_trigger.get(trigger.id)
        if outcome is None:
            verdict = "<td>pending</td><td></td><td></td>"
        else:
            color = VERDICT_COLORS.get(str(outcome.verdict), "#868e96")
            verdict = (
                f'<td><span class="pill" style="background:{color}">'
                f"{escape(str(outcome.verdict).replace('_', ' '))}</span></td>"
                f'<td class="num">{outcome.delta_ln_rmssd:+.2f}</td>'
                f'<td class="num">{outcome.delta_hr_bpm:+.1f}</td>'
            )
        rows.append(
            f"<tr><td>{clock_label(trigger.t_s - t0_s)}</td><td>{escape(trigger.rule)}</td>"
            f"<td>{escape(trigger.exercise.name)}</td><td>{escape(str(trigger.severity))}</td>"
            f"{verdict}</tr>"
        )
    return (
        "<table><thead><tr><th>Time</th><th>Rule</th><th>Exercise</th><th>Severity</th>"
        "<th>Outcome</th><th>Δ ln RMSSD</th><th>Δ HR (bpm)</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _feedback_table(
    feedback: Sequence[FeedbackRecord], triggers: Sequence[Trigger], t0_s: float
) -> str:
    """The person's answers: when, to which suggestion, what they said, and what it moved."""
    if not feedback:
        return '<p class="sub">No feedback in this session.</p>'
    fired = {trigger.id: trigger for trigger in triggers}
    rows = []
    for record in feedback:
        trigger = fired.get(record.trigger_id)
        about = (
            f"{clock_label(trigger.t_s - t0_s)} {trigger.exercise.name}"
            if trigger is not None
            else record.trigger_id[:8]
        )
        moved = ", ".join(f"{k} → {v:.2f}" for k, v in sorted(record.changed().items()))
        rows.append(
            f"<tr><td>{clock_label(record.t_s - t0_s)}</td><td>{escape(about)}</td>"
            f"<td>{escape(str(record.verdict).replace('_', ' '))}</td>"
            f"<td>{escape(str(record.status).replace('_', ' '))}</td>"
            f"<td>{escape(moved)}</td></tr>"
        )
    return (
        '<table class="feedback"><thead><tr><th>Time</th><th>Suggestion</th><th>Verdict</th>'
        "<th>Taken</th><th>What it moved</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _invalid_bands(t_end_s: np.ndarray, ok: np.ndarray, step_s: float, t0_s: float) -> list[Band]:
    """Shaded stretches where windows are not valid, one band per run of invalid windows."""
    bad = np.r_[False, ~ok, False]
    starts = np.flatnonzero(~bad[:-1] & bad[1:])
    ends = np.flatnonzero(bad[:-1] & ~bad[1:]) - 1
    step = 0.0 if math.isnan(step_s) else step_s
    return [
        Band(
            x0_s=float(t_end_s[a]) - step - t0_s, x1_s=float(t_end_s[b]) - t0_s, color=INVALID_COLOR
        )
        for a, b in zip(starts, ends, strict=True)
    ]


def _charts(session: DeviceSession, summary: Summary) -> str:
    beats, windows = session.beats, session.windows
    t0_s = summary.start_s
    x_range = (0.0, max(summary.duration_s, 1.0))
    t_end = np.array([w.t_end_s for w in windows], dtype=np.float64)
    ok = np.array([w.quality is Quality.OK for w in windows], dtype=np.bool_)
    column = {
        name: np.array([getattr(w, name) for w in windows], dtype=np.float64)
        for name in ("hr_bpm", "rmssd_ms", "stress")
    }
    markers = [
        Marker(
            x_s=t.t_s - t0_s,
            label=f"{clock_label(t.t_s - t0_s)} trigger: {t.rule} → {t.exercise.name}",
            color=TRIGGER_COLOR,
        )
        for t in session.triggers
    ] + [
        Marker(
            x_s=o.t_s - t0_s,
            label=f"{clock_label(o.t_s - t0_s)} outcome: {str(o.verdict).replace('_', ' ')}",
            color=VERDICT_COLORS.get(str(o.verdict), "#868e96"),
            dashed=True,
        )
        for o in session.outcomes
    ]
    bands = _invalid_bands(t_end, ok, summary.step_s, t0_s)
    x_win = t_end - t0_s
    specs = [
        (
            "RR tachogram",
            "ms per beat",
            Line(x_s=beats.t_s - t0_s, y=beats.rr_ms, color="#1c7ed6", width_px=1.0),
            None,
            None,
            [],
        ),
        (
            "Heart rate",
            "bpm, per window",
            Line(x_s=x_win, y=column["hr_bpm"], color="#e03131"),
            None,
            None,
            bands,
        ),
        (
            "RMSSD",
            "ms, per window",
            Line(x_s=x_win, y=column["rmssd_ms"], color="#0ca678"),
            None,
            None,
            bands,
        ),
        (
            "Stress",
            f"0–100, dashed line at {STRESS_HIGH:g}",
            Line(x_s=x_win, y=column["stress"], color="#7048e8", width_px=2.0),
            (0.0, 100.0),
            STRESS_HIGH,
            bands,
        ),
    ]
    figures = []
    for title, unit, line, y_range, threshold, chart_bands in specs:
        chart = Chart(
            title=title,
            x_range_s=x_range,
            lines=[line],
            y_range=y_range,
            markers=markers,
            bands=chart_bands,
            threshold=threshold,
        )
        figures.append(
            f'<figure data-chart="{escape(title)}"><figcaption>{escape(title)} '
            f"<span>{escape(unit)}</span></figcaption>{render_chart(chart)}</figure>"
        )
    return "".join(figures)


_LEGEND = (
    '<div class="legend">'
    f'<span><span class="swatch" style="background:{TRIGGER_COLOR}"></span>trigger</span>'
    + "".join(
        f'<span><span class="swatch" style="background:{color}"></span>outcome: '
        f"{verdict.replace('_', ' ')}</span>"
        for verdict, color in VERDICT_COLORS.items()
    )
    + f'<span><span class="swatch" style="background:{INVALID_COLOR}"></span>'
    "window not valid</span></div>"
)


EPOCH_FROM_S = 1e9
"""Times above this (2001-09-09) are seconds since the epoch; below, since the recording began."""


def _started(start_s: float) -> str:
    if start_s < EPOCH_FROM_S:
        return "Recording without wall-clock times (t = 0 at its first beat)."
    when = dt.datetime.fromtimestamp(start_s, tz=dt.UTC)
    return f"Started {when:%Y-%m-%d %H:%M:%S} UTC."


def _breathing_section(updates: Sequence[LiveFigures], t0_s: float) -> str:
    """Cards and a chart of a ``vagus breathe`` session (its ``breathing.csv``); empty without."""
    if not updates:
        return ""
    times = np.array([u.t_s for u in updates], dtype=np.float64)
    interval = float(np.median(np.diff(times))) if times.size > 1 else 0.0
    record = summarize_breathing(updates, interval_s=interval)
    cards = [
        _card("Pacer", _fmt(record.rate_bpm), "breaths/min"),
        _card("Length", _duration(record.minutes * 60.0)),
        _card("Mean coherence", _fmt(record.mean_coherence, 2)),
        _card("Mean RSA", _fmt(record.rsa_bpm), "bpm"),
        _card("High coherence", _duration(record.high_coherence_s), f"ratio ≥ {HIGH_COHERENCE:g}"),
        _card("Coherence peak", _fmt(record.peak_bpm), "/min"),
    ]
    x_s = times - t0_s
    x_range = (min(0.0, float(x_s[0])), max(float(x_s[-1]), 1.0))
    figures = []
    for title, unit, values, color, threshold in (
        ("Coherence", f"ratio, dashed line at {HIGH_COHERENCE:g}", "coherence", "#7048e8", 1.0),
        ("RSA", "bpm, peak-to-trough per breath", "rsa_bpm", "#e03131", None),
    ):
        y = np.array([getattr(u, values) for u in updates], dtype=np.float64)
        chart = Chart(
            title=title,
            x_range_s=x_range,
            lines=[Line(x_s=x_s, y=y, color=color, width_px=2.0)],
            threshold=threshold,
        )
        figures.append(
            f'<figure data-chart="{escape(title)}"><figcaption>{escape(title)} '
            f"<span>{escape(unit)}</span></figcaption>{render_chart(chart)}</figure>"
        )
    return f'<h3>Breathing session</h3><div class="cards">{"".join(cards)}</div>{"".join(figures)}'


def _device_section(session: DeviceSession) -> str:
    summary = summarize(session)
    t0_s = summary.start_s
    return (
        f'<section class="device" data-device="{escape(session.device)}">'
        f"<h2>{escape(session.device)}</h2>"
        f'<p class="sub">{_started(t0_s)}</p>'
        f"<h3>Summary</h3>{_summary_cards(summary)}"
        f"<h3>Charts</h3>{_charts(session, summary)}{_LEGEND}"
        f"{_breathing_section(session.breathing, t0_s)}"
        f"<h3>Triggers and outcomes</h3>{_trigger_table(session.triggers, session.outcomes, t0_s)}"
        f"<h3>Feedback</h3>{_feedback_table(session.feedback, session.triggers, t0_s)}"
        f"<h3>Windows by quality</h3>{_quality_table(summary)}"
        "</section>"
    )


def render_report(sessions: Sequence[DeviceSession], *, title: str, version: str) -> str:
    """A self-contained HTML page (inline CSS and SVG, no external URLs) for the sessions."""
    sections = "".join(_device_section(session) for session in sessions)
    devices = ", ".join(session.device for session in sessions)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} – Vagus report</title><style>{_CSS}</style></head>"
        f"<body><main><h1>{escape(title)}</h1>"
        f'<p class="sub">Vagus session report · {len(sessions)} device(s): {escape(devices)}. '
        "Times are elapsed since the first beat.</p>"
        f"{sections}<footer>Made by vagus {escape(version)}. "
        "Stress is the engine's 0–100 score.</footer></main></body></html>"
    )
