"""Hypothesis strategies for the ingest tests."""

from __future__ import annotations

from hypothesis import strategies as st

from ingest.hrm import RR_UNIT_MS, HeartRateMeasurement

rr_units = st.integers(min_value=0, max_value=0xFFFF)

measurements = st.builds(
    HeartRateMeasurement,
    hr_bpm=st.integers(min_value=0, max_value=0xFFFF),
    sensor_contact=st.sampled_from([None, False, True]),
    energy_kj=st.none() | st.integers(min_value=0, max_value=0xFFFF),
    rr_ms=st.lists(rr_units, max_size=9).map(lambda units: tuple(u * RR_UNIT_MS for u in units)),
)
"""Every representable measurement: RR values are whole 1/1024 s units."""
