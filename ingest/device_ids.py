"""Device ids: what a wearable may be called in topics, payloads, storage and logs.

A device id becomes an MQTT topic level, an InfluxDB tag and a file name, so
it is checked once, where it enters (config labels, MQTT topics), and
trusted after that.
"""

from __future__ import annotations

import re

MAX_DEVICE_ID_LEN = 64
"""Longest device id accepted (Bluetooth addresses are 17 characters)."""

_DEVICE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]*")


def device_id_problem(device: str) -> str | None:
    """Why ``device`` cannot be a device id, or None when it can.

    Allowed: 1 to `MAX_DEVICE_ID_LEN` ASCII letters, digits, ``.``, ``_``,
    ``:`` and ``-``, starting with a letter or digit (no ``/``, ``+``, ``#``,
    spaces or control characters: each would change an MQTT topic's meaning).
    """
    if not device:
        return "empty"
    if len(device) > MAX_DEVICE_ID_LEN:
        return f"longer than {MAX_DEVICE_ID_LEN} characters"
    if _DEVICE_ID.fullmatch(device) is None:
        return "only letters, digits and . _ : - are allowed, starting with a letter or digit"
    return None
