"""Pseudonyms of device ids: a keyed hash, stable for one key, useless without it.

``pseudonym(device, key)`` is ``p-`` followed by the first 16 hex digits
(64 bits) of HMAC-SHA256(key, device): the same device always gets the same
pseudonym under one key, nobody without the key can compute it from a
Bluetooth address or a name (a plain hash of the 2^48 addresses would be
brute-forced in hours), and it is a valid device id
(`ingest.device_ids.device_id_problem`). With 64 bits a collision among
10,000 devices has a chance of about 3 in a trillion.
"""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "p-"
"""Every pseudonym starts with this."""

HEX_DIGITS = 16
"""Hex digits of the HMAC kept (64 bits)."""

MIN_KEY_BYTES = 16
"""Shortest key accepted (128 bits); `vagus config example` shows how to make a 32-byte one."""


def pseudonym(device: str, key: bytes) -> str:
    """The pseudonym of ``device`` under ``key``: ``p-`` + 16 hex digits of HMAC-SHA256."""
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"a pseudonym key needs at least {MIN_KEY_BYTES} bytes, not {len(key)}")
    digest = hmac.new(key, device.encode("utf-8"), hashlib.sha256).hexdigest()
    return PREFIX + digest[:HEX_DIGITS]
