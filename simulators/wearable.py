"""A virtual heart-rate strap: a simulated person's beats as 0x2A37 notification payloads.

It behaves like common chest straps (e.g. Polar H10, Garmin HRM): a
notification about once per second carrying the RR intervals completed
since the previous one (0-3 at rest, more at high heart rates), the strap's
running heart rate, an Energy Expended field on every n-th notification,
contact bits when supported, and a slowly falling battery level. Beat times
are quantised to the strap's 1/1024 s clock, so each RR is exact in 0x2A37
units and the RR sum never drifts from the beat times. During a
``contact_lost`` segment the notifications say "no contact" and carry no RR;
during a ``disconnect`` segment there are none, and the link events say so.

Pure: a `Simulation` and a seeded generator in, columns of bytes out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from hrv import BoolArray, FloatArray
from ingest.hrm import RR_UNIT_MS, HeartRateMeasurement, encode
from simulators.scenario import DeviceDefaults, State
from simulators.simulation import Simulation

PERIOD_S = 1.0
"""Nominal notification interval of a strap."""
LATENCY_JITTER_S = 0.02
"""Standard deviation of the notification instants around the 1 s grid."""
HR_AVERAGE_BEATS = 5
"""The strap's displayed heart rate averages this many RR intervals."""
TICKS_PER_S = 1024
"""Resolution of the strap's beat clock (the 0x2A37 RR unit)."""
KJ_PER_KCAL = 4.184
ENERGY_MAX_KJ = 0xFFFF
"""Energy Expended saturates at its uint16 maximum (Heart Rate Service 1.0, 3.1.1.3)."""


def energy_rate_kj_per_min(hr_bpm: FloatArray) -> FloatArray:
    """Energy expenditure from heart rate (Keytel et al. 2005, J Sports Sci 23(3):289-297).

    Their equation for men without VO2max, ``EE (kJ/min) = -55.0969 +
    0.6309 HR + 0.1988 weight + 0.2017 age``, here for 75 kg, 35 years, and
    never below a resting 1 kcal/min.
    """
    rate = -55.0969 + 0.6309 * hr_bpm + 0.1988 * 75.0 + 0.2017 * 35.0
    return np.asarray(np.maximum(rate, KJ_PER_KCAL))


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class WearableTrace:
    """What a strap sends, as columns; times in seconds from the scenario start.

    Iterating yields ``(t_s, payload)`` pairs, oldest first. ``rr_count``
    says how many RR each payload carries, ``beat_index`` which simulated
    beats they are (in order, into `Simulation.t_s`). Battery levels and
    link changes are events of their own.
    """

    t_s: FloatArray
    payload: tuple[bytes, ...]
    rr_count: NDArray[np.int64]
    beat_index: NDArray[np.int64]
    battery_t_s: FloatArray
    battery_pct: NDArray[np.int64]
    link_t_s: FloatArray
    link_up: BoolArray

    def __len__(self) -> int:
        return len(self.payload)

    def __iter__(self) -> Iterator[tuple[float, bytes]]:
        return zip(self.t_s.tolist(), self.payload, strict=True)


def _battery(device: DeviceDefaults, end_s: float) -> tuple[FloatArray, NDArray[np.int64]]:
    """Battery level events: the start level at 0, then each 1 % drop until ``end_s``."""
    levels = np.arange(device.battery_start_pct, -1, -1, dtype=np.int64)
    if device.battery_drain_pct_per_h <= 0:
        levels = levels[:1]
    times = (device.battery_start_pct - levels) * 3600.0 / max(device.battery_drain_pct_per_h, 1e-9)
    keep = times <= end_s
    return np.asarray(times[keep], dtype=np.float64), levels[keep]


def wearable_trace(
    sim: Simulation, device: DeviceDefaults, rng: np.random.Generator
) -> WearableTrace:
    """The notifications a strap described by ``device`` sends for ``sim``."""
    end_s = float(sim.segments.end_s[-1]) if len(sim.segments) else 0.0
    ticks = np.round(sim.t_s * TICKS_PER_S).astype(np.int64)
    rr_units = np.diff(ticks, prepend=ticks[:1] - np.round(sim.rr_ms[:1] * 1.024).astype(np.int64))

    n = int(np.floor(end_s / PERIOD_S))
    t_k = np.arange(1, n + 1) * PERIOD_S + rng.normal(0.0, LATENCY_JITTER_S, n)
    t_k = np.clip(t_k, 0.0, end_s)
    state = sim.segments.state_at(t_k)
    sent = state != State.DISCONNECT.value
    contact = state != State.CONTACT_LOST.value

    # Beats completed in (t_{k-1}, t_k], reported only when that notification is sent with contact.
    bounds = np.searchsorted(sim.t_s, t_k, side="right")
    starts = np.concatenate(([0], bounds[:-1]))
    counts = np.where(sent & contact, bounds - starts, 0)
    beat_index = np.concatenate(
        [np.arange(s, s + c) for s, c in zip(starts, counts, strict=True)] or [np.zeros(0)]
    ).astype(np.int64)

    rolling = np.convolve(sim.rr_ms, np.ones(HR_AVERAGE_BEATS) / HR_AVERAGE_BEATS, mode="full")
    rolling = rolling[: sim.rr_ms.size]
    rolling[: HR_AVERAGE_BEATS - 1] = sim.rr_ms[: HR_AVERAGE_BEATS - 1]
    last_beat = np.clip(bounds - 1, 0, max(sim.rr_ms.size - 1, 0))
    hr_bpm = np.where(contact, np.round(60000.0 / rolling[last_beat]), 0).astype(np.int64)
    energy = np.minimum(
        np.cumsum(energy_rate_kj_per_min(hr_bpm.astype(np.float64)) * PERIOD_S / 60.0),
        ENERGY_MAX_KJ,
    ).astype(np.int64)
    with_energy = (
        (np.arange(n) % device.energy_every == 0) if device.energy_every else np.zeros(n, bool)
    )

    payloads: list[bytes] = []
    cursor = 0
    for k in np.flatnonzero(sent).tolist():
        rr = rr_units[beat_index[cursor : cursor + counts[k]]] * RR_UNIT_MS
        cursor += int(counts[k])
        m = HeartRateMeasurement(
            hr_bpm=int(hr_bpm[k]),
            sensor_contact=bool(contact[k]) if device.contact_supported else None,
            energy_kj=int(energy[k]) if with_energy[k] else None,
            rr_ms=tuple(rr.tolist()),
        )
        payloads.append(encode(m, hr_uint16=device.hr_uint16))

    disconnect = sim.segments.state == State.DISCONNECT.value
    link_t = np.concatenate(
        ([0.0], np.ravel(np.column_stack([sim.segments.onset_s, sim.segments.end_s])[disconnect]))
    )
    link_up = np.concatenate(([True], np.tile([False, True], int(disconnect.sum()))))
    battery_t, battery_pct = _battery(device, end_s)
    return WearableTrace(
        t_s=t_k[sent],
        payload=tuple(payloads),
        rr_count=counts[sent].astype(np.int64),
        beat_index=beat_index,
        battery_t_s=battery_t,
        battery_pct=battery_pct,
        link_t_s=link_t,
        link_up=link_up.astype(np.bool_),
    )
