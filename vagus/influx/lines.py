"""InfluxDB line protocol for beats, windows, triggers, outcomes, feedback and device status.

One point per beat (``beats``), per window (``hrv``), per trigger or outcome
(``triggers``), per answer to a suggestion (``feedback``) and per status
reading (``device``), every one tagged
``device`` and stamped with the beat clock in nanoseconds, so sending the
same point twice overwrites it instead of adding a duplicate.

Syntax and escaping follow the InfluxDB line protocol reference
(https://docs.influxdata.com/influxdb/v2/reference/syntax/line-protocol/):
commas, spaces and ``=`` escaped in tags, ``"`` and ``\\`` in string fields,
``i`` suffix on integers; floats in their shortest exact form (``repr``),
so InfluxDB stores the very float64 computed. NaN and infinities have no line-protocol form:
such fields are left out of the point (absent = "not computable").
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Protocol

import numpy as np

from hrv import WINDOW_FIGURES, BeatBatch, WindowMetrics
from recommender import FeedbackResult, Outcome, Trigger

FieldValue = float | int | bool | str | None


class DeviceStatusLike(Protocol):
    """One status reading of a wearable: battery and link."""

    @property
    def device(self) -> str: ...
    @property
    def t_s(self) -> float: ...
    @property
    def battery_pct(self) -> int | None: ...
    @property
    def connected(self) -> bool: ...


def to_ns(t_s: float) -> int:
    """Seconds since the epoch to integer nanoseconds, rounded to the microsecond.

    Rounding to whole microseconds makes the stamp of a given ``t_s`` exact and
    stable (float64 seconds carry ~0.2 µs of noise today), so a re-sent point
    lands on the same timestamp and overwrites.
    """
    return round(t_s * 1e6) * 1000


def escape_key(text: str) -> str:
    """Escape a measurement, tag key, tag value or field key (commas, spaces, ``=``)."""
    return text.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")


def format_value(value: FieldValue) -> str | None:
    """A field value in line protocol, or None when it cannot be written (None, NaN, ±inf)."""
    if value is None:
        return None
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return f"{int(value)}i"
    if isinstance(value, float | np.floating):
        number = float(value)
        return repr(number) if math.isfinite(number) else None
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def point(
    measurement: str,
    tags: Mapping[str, str],
    fields: Mapping[str, FieldValue],
    t_ns: int,
) -> str | None:
    """One line of line protocol; None when no field has a writable value."""
    field_text = ",".join(
        f"{escape_key(key)}={text}"
        for key, value in fields.items()
        if (text := format_value(value)) is not None
    )
    if not field_text:
        return None
    tag_text = "".join(f",{escape_key(k)}={escape_key(v)}" for k, v in sorted(tags.items()) if v)
    return f"{escape_key(measurement)}{tag_text} {field_text} {t_ns}"


def beat_lines(batch: BeatBatch) -> list[str]:
    """One ``beats`` point per beat: ``rr_ms``, ``hr_bpm`` (60000 / RR) and ``gap``.

    Instantaneous heart rate is 60000 / RR in ms (Task Force of the ESC and
    NASPE, Circulation 1996;93:1043-65, definition of the NN interval).
    """
    prefix = f"beats,device={escape_key(batch.device)} "
    t_us = np.round(batch.t_s * 1e6).astype(np.int64)
    with np.errstate(divide="ignore"):
        hr_bpm = 60_000.0 / batch.rr_ms
    lines = []
    for t, rr, hr, gap in zip(
        t_us.tolist(), batch.rr_ms.tolist(), hr_bpm.tolist(), batch.gap.tolist(), strict=True
    ):
        fields = [f"gap={'true' if gap else 'false'}"]
        if math.isfinite(rr):
            fields.insert(0, f"rr_ms={rr!r}")
        if math.isfinite(hr):
            fields.insert(1, f"hr_bpm={hr!r}")
        lines.append(f"{prefix}{','.join(fields)} {t * 1000}")
    return lines


def window_line(window: WindowMetrics) -> str:
    """One ``hrv`` point: the fields `hrv.WINDOW_FIGURES`, tags ``device`` and ``quality``.

    ``quality`` is a tag so dashboards can keep to trustworthy windows
    (``WHERE quality = 'ok'``) and count windows per verdict (``GROUP BY quality``).
    """
    fields: dict[str, FieldValue] = {name: getattr(window, name) for name in WINDOW_FIGURES}
    line = point(
        "hrv",
        {"device": window.device, "quality": str(window.quality)},
        fields,
        to_ns(window.t_end_s),
    )
    assert line is not None  # n_beats is always written
    return line


def window_lines(windows: Iterable[WindowMetrics]) -> list[str]:
    """``hrv`` points for several windows."""
    return [window_line(window) for window in windows]


def trigger_line(trigger: Trigger) -> str:
    """One ``triggers`` point, tags device, rule, exercise and ``kind=trigger``.

    Fields: ``fired`` (1, to count with ``sum``), ``id``, ``severity``,
    ``escalation``, the exercise's ``breaths_per_min`` and ``duration_s``, and
    each figure of the reason as ``reason_<name>``.
    """
    fields: dict[str, FieldValue] = {
        "fired": 1,
        "id": trigger.id,
        "severity": str(trigger.severity),
        "escalation": int(trigger.escalation),
        "breaths_per_min": float(trigger.exercise.breaths_per_min),
        "duration_s": float(trigger.exercise.duration_s),
    }
    fields.update({f"reason_{k}": float(v) for k, v in sorted(trigger.reason.items())})
    tags = {
        "device": trigger.device,
        "rule": trigger.rule,
        "exercise": trigger.exercise.id,
        "kind": "trigger",
    }
    line = point("triggers", tags, fields, to_ns(trigger.t_s))
    assert line is not None  # fired is always written
    return line


def outcome_line(outcome: Outcome) -> str:
    """One ``triggers`` point at the outcome's time: tags as its trigger's, ``kind=outcome``
    and ``verdict``; before/after means, their differences, counts and the trigger id.
    """
    fields: dict[str, FieldValue] = {
        "judged": 1,
        "trigger_id": outcome.trigger_id,
        "trigger_t_s": float(outcome.trigger_t_s),
        "before_ln_rmssd": float(outcome.before_ln_rmssd),
        "after_ln_rmssd": float(outcome.after_ln_rmssd),
        "delta_ln_rmssd": outcome.delta_ln_rmssd,
        "before_hr_bpm": float(outcome.before_hr_bpm),
        "after_hr_bpm": float(outcome.after_hr_bpm),
        "delta_hr_bpm": outcome.delta_hr_bpm,
        "n_before": int(outcome.n_before),
        "n_after": int(outcome.n_after),
    }
    tags = {
        "device": outcome.device,
        "rule": outcome.rule,
        "exercise": outcome.exercise_id,
        "kind": "outcome",
        "verdict": str(outcome.verdict),
    }
    line = point("triggers", tags, fields, to_ns(outcome.t_s))
    assert line is not None  # judged is always written
    return line


def feedback_line(result: FeedbackResult, t_s: float) -> str:
    """One ``feedback`` point at ``t_s`` (when it was taken): tags device, verdict and status;
    fields ``answered`` (1, to count with ``sum``), ``accepted``, ``trigger_id``, and each
    change as ``change_<name>`` (``<rule>.level`` -> ``change_<rule>.level``, the new raise).
    """
    fields: dict[str, FieldValue] = {
        "answered": 1,
        "accepted": result.accepted,
        "trigger_id": result.trigger_id,
    }
    fields.update({f"change_{k}": float(v) for k, v in sorted(result.changes.items())})
    tags = {
        "device": result.device,
        "verdict": str(result.verdict),
        "status": str(result.status),
    }
    line = point("feedback", tags, fields, to_ns(t_s))
    assert line is not None  # answered is always written
    return line


def device_status_line(status: DeviceStatusLike) -> str:
    """One ``device`` point: ``battery_pct`` (integer) and ``connected`` (boolean).

    ``battery_pct`` is left out when the wearable does not report it.
    """
    fields: dict[str, FieldValue] = {
        "battery_pct": status.battery_pct,
        "connected": status.connected,
    }
    line = point("device", {"device": status.device}, fields, to_ns(status.t_s))
    assert line is not None  # connected is always written
    return line
