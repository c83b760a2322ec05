"""The 0x2A37 codec: documented device payloads, round trips, and fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.hrm import RR_UNIT_MS, DecodeError, HeartRateMeasurement, decode, encode
from tests.ingest.strategies import measurements


def test_rr_unit_is_one_1024th_of_a_second() -> None:
    """RR_UNIT_MS is 1000/1024 ms, exact in binary floating point."""
    assert RR_UNIT_MS == 0.9765625


def test_polar_h10_flags_0x10_with_one_rr() -> None:
    """Polar H10 sends flags 0x10: uint8 HR, contact bits 0 (unsupported), RR present.

    Flags value as reported for the H10 in polar-ble-sdk issue discussions and
    stackoverflow.com/q/52882552 ("Getting heart rate variability from Polar H10");
    payload 10 3f f0 03: HR 63 bpm, one RR of 0x03f0 = 1008/1024 s.
    """
    m = decode(bytes.fromhex("103ff003"))
    assert m == HeartRateMeasurement(hr_bpm=63, sensor_contact=None, rr_ms=(1008 * RR_UNIT_MS,))
    assert m.rr_ms[0] == pytest.approx(984.375)


def test_polar_h7_flags_0x16_contact_and_two_rr() -> None:
    """Polar H7 sends flags 0x16: contact supported and detected, RR present.

    Flags 0x16 as logged from an H7 in the Bluetooth Heart Rate Profile chapter of
    "Getting Started with Bluetooth Low Energy" (O'Reilly, ch. 4); payload
    16 4b 28 03 1a 03: HR 75 bpm, RR 0x0328 = 808 and 0x031a = 794 units.
    """
    m = decode(bytes.fromhex("164b28031a03"))
    assert m.hr_bpm == 75
    assert m.sensor_contact is True
    assert m.energy_kj is None
    assert m.rr_ms == (808 * RR_UNIT_MS, 794 * RR_UNIT_MS)


def test_contact_supported_but_lost() -> None:
    """Flags 0x14 (contact bits 2: supported, not detected) decode as sensor_contact=False."""
    m = decode(bytes.fromhex("14480004"))
    assert m.sensor_contact is False
    assert m.rr_ms == (1024 * RR_UNIT_MS,)


def test_energy_field_precedes_rr() -> None:
    """Energy Expended (bit 3) comes before the RR values, as on every ~10th H7 notification.

    GATT Specification Supplement, Heart Rate Measurement: field order Flags,
    Heart Rate, Energy Expended, RR-Interval. Payload 1e 50 e8 03 00 03:
    flags 0x1e, HR 80, energy 0x03e8 = 1000 kJ, RR 0x0300 = 768 units.
    """
    m = decode(bytes.fromhex("1e50e8030003"))
    assert m == HeartRateMeasurement(
        hr_bpm=80, sensor_contact=True, energy_kj=1000, rr_ms=(768 * RR_UNIT_MS,)
    )


def test_uint16_heart_rate() -> None:
    """Flags bit 0 selects a little-endian uint16 HR (payload 01 2c 01 = 300 bpm, no RR)."""
    assert decode(bytes.fromhex("012c01")) == HeartRateMeasurement(hr_bpm=300)


def test_several_rr_in_one_notification() -> None:
    """Four RR values in one notification decode oldest first (flags 0x10, HR 120)."""
    m = decode(bytes.fromhex("10780002010202020302"))
    assert m.rr_ms == tuple(u * RR_UNIT_MS for u in (512, 513, 514, 515))


def test_reserved_flag_bits_are_ignored() -> None:
    """Bits 5-7 are reserved: 0xe0 | 0x10 decodes like 0x10."""
    assert decode(bytes.fromhex("f03ff003")) == decode(bytes.fromhex("103ff003"))


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        ("", "empty"),
        ("10", "truncated heart rate"),
        ("0150", "truncated heart rate"),
        ("0850e8", "truncated energy"),
        ("1050", "no RR bytes"),
        ("1050000401", "odd number of RR bytes"),
        ("0050ff", "unexpected byte"),
    ],
)
def test_malformed_payloads_say_what_is_wrong(payload: str, words: str) -> None:
    """Each malformed payload raises DecodeError naming the problem and carrying the bytes."""
    data = bytes.fromhex(payload)
    with pytest.raises(DecodeError, match=words) as info:
        decode(data)
    assert info.value.data == data
    assert isinstance(info.value, ValueError)


@given(measurements, st.booleans())
def test_every_representable_measurement_round_trips(m: HeartRateMeasurement, wide: bool) -> None:
    """decode(encode(m)) == m for every flag combination and HR width."""
    assert decode(encode(m, hr_uint16=wide)) == m


@given(st.binary(max_size=40))
def test_arbitrary_bytes_raise_only_decode_error(data: bytes) -> None:
    """Fuzzing decode yields DecodeError or a record that re-encodes to the same bytes.

    Re-encoding normalises what the record cannot hold: reserved bits 5-7 and
    the "unsupported" contact value 1 (written back as 0).
    """
    try:
        m = decode(data)
    except DecodeError:
        return
    flags = data[0] & 0x1F
    if not flags & 0x04:
        flags &= ~0x02
    assert encode(m, hr_uint16=bool(flags & 1)) == bytes([flags]) + data[1:]


@given(st.floats(min_value=0, max_value=60_000))
def test_encode_rounds_rr_to_nearest_unit(rr_ms: float) -> None:
    """An RR that is not a whole 1/1024 s unit moves by at most half a unit."""
    decoded = decode(encode(HeartRateMeasurement(hr_bpm=60, rr_ms=(rr_ms,))))
    assert abs(decoded.rr_ms[0] - rr_ms) <= RR_UNIT_MS / 2


def test_out_of_range_fields_are_rejected() -> None:
    """Values that no uint16 field can hold are refused when the record is built."""
    with pytest.raises(ValueError, match="hr_bpm"):
        HeartRateMeasurement(hr_bpm=70_000)
    with pytest.raises(ValueError, match="rr_ms"):
        HeartRateMeasurement(hr_bpm=60, rr_ms=(-1.0,))
