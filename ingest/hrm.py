"""Heart Rate Measurement (GATT characteristic 0x2A37): a pure codec, bytes <-> record.

Layout (Bluetooth SIG, Heart Rate Service 1.0, section 3.1, and the GATT
Specification Supplement, "Heart Rate Measurement"): one flags byte, then

- bit 0: heart rate is uint8 (0) or uint16 little-endian (1), in beats/min;
- bits 1-2: sensor contact: 0 or 1 not supported, 2 supported but no contact,
  3 supported and in contact;
- bit 3: Energy Expended present, uint16 little-endian, kJ (before the RR);
- bit 4: one or more RR-Interval values present, uint16 little-endian each,
  unit 1/1024 s, oldest first, filling the rest of the payload;
- bits 5-7: reserved for future use, ignored.

No IO, no clock: bytes in, a frozen record out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ingest.errors import DecodeError

__all__ = ["RR_UNIT_MS", "DecodeError", "HeartRateMeasurement", "decode", "encode"]

RR_UNIT_MS: Final = 1000 / 1024
"""One RR-Interval unit of 0x2A37 (1/1024 s) in milliseconds; exact in binary floating point."""

_UINT16_MAX: Final = 0xFFFF
_HR_UINT16: Final = 0x01
_CONTACT_SUPPORTED: Final = 0x04
_CONTACT_DETECTED: Final = 0x02
_ENERGY: Final = 0x08
_RR: Final = 0x10


@dataclass(frozen=True, slots=True, kw_only=True)
class HeartRateMeasurement:
    """One decoded 0x2A37 notification.

    ``sensor_contact`` is None when the sensor does not report contact;
    ``energy_kj`` is None when the field is absent; ``rr_ms`` holds the
    beat-to-beat intervals completed since the previous notification, oldest
    first, in ms (multiples of `RR_UNIT_MS` when decoded).
    """

    hr_bpm: int
    sensor_contact: bool | None = None
    energy_kj: int | None = None
    rr_ms: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if not 0 <= self.hr_bpm <= _UINT16_MAX:
            raise ValueError(f"hr_bpm={self.hr_bpm} is outside 0..{_UINT16_MAX}")
        if self.energy_kj is not None and not 0 <= self.energy_kj <= _UINT16_MAX:
            raise ValueError(f"energy_kj={self.energy_kj} is outside 0..{_UINT16_MAX}")
        rr_ms = tuple(float(rr) for rr in self.rr_ms)
        for rr in rr_ms:
            if not 0.0 <= rr <= _UINT16_MAX * RR_UNIT_MS:
                raise ValueError(f"rr_ms value {rr} is outside 0..{_UINT16_MAX * RR_UNIT_MS}")
        object.__setattr__(self, "rr_ms", rr_ms)


def decode(data: bytes) -> HeartRateMeasurement:
    """Decode one 0x2A37 payload; raise `DecodeError` saying what is wrong when malformed."""
    data = bytes(data)
    if not data:
        raise DecodeError("empty payload: no flags byte", data)
    flags = data[0]
    pos = 1
    hr_size = 2 if flags & _HR_UINT16 else 1
    if len(data) < pos + hr_size:
        raise DecodeError(
            f"truncated heart rate: uint{8 * hr_size} needs {hr_size} byte(s) after the flags, "
            f"got {len(data) - pos}",
            data,
        )
    hr_bpm = int.from_bytes(data[pos : pos + hr_size], "little")
    pos += hr_size
    sensor_contact = bool(flags & _CONTACT_DETECTED) if flags & _CONTACT_SUPPORTED else None
    energy_kj = None
    if flags & _ENERGY:
        if len(data) < pos + 2:
            raise DecodeError(
                f"truncated energy expended: needs 2 bytes at offset {pos}, got {len(data) - pos}",
                data,
            )
        energy_kj = int.from_bytes(data[pos : pos + 2], "little")
        pos += 2
    rest = data[pos:]
    if not flags & _RR:
        if rest:
            raise DecodeError(f"{len(rest)} unexpected byte(s) after the last field", data)
        return HeartRateMeasurement(
            hr_bpm=hr_bpm, sensor_contact=sensor_contact, energy_kj=energy_kj
        )
    if not rest:
        raise DecodeError("RR-Interval flag set but no RR bytes follow", data)
    if len(rest) % 2:
        raise DecodeError(f"odd number of RR bytes ({len(rest)}): each RR is a uint16", data)
    rr_ms = tuple(
        int.from_bytes(rest[i : i + 2], "little") * RR_UNIT_MS for i in range(0, len(rest), 2)
    )
    return HeartRateMeasurement(
        hr_bpm=hr_bpm, sensor_contact=sensor_contact, energy_kj=energy_kj, rr_ms=rr_ms
    )


def encode(m: HeartRateMeasurement, *, hr_uint16: bool = False) -> bytes:
    """Encode ``m`` as a 0x2A37 payload, the inverse of `decode`.

    The heart rate is a uint8 unless ``hr_uint16`` is set or it exceeds 255.
    ``sensor_contact=None`` encodes as "not supported" (bits 1-2 = 0). Each
    RR is rounded to the nearest 1/1024 s unit (ties to even), so
    ``decode(encode(m)) == m`` holds exactly when every ``rr_ms`` is a
    multiple of `RR_UNIT_MS`, and otherwise each RR moves by at most half a
    unit (0.49 ms).
    """
    wide = hr_uint16 or m.hr_bpm > 0xFF
    flags = _HR_UINT16 if wide else 0
    if m.sensor_contact is not None:
        flags |= _CONTACT_SUPPORTED | (_CONTACT_DETECTED if m.sensor_contact else 0)
    out = bytearray()
    out += m.hr_bpm.to_bytes(2 if wide else 1, "little")
    if m.energy_kj is not None:
        flags |= _ENERGY
        out += m.energy_kj.to_bytes(2, "little")
    if m.rr_ms:
        flags |= _RR
        for rr in m.rr_ms:
            out += round(rr / RR_UNIT_MS).to_bytes(2, "little")
    return bytes([flags]) + bytes(out)
