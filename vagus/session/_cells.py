"""Text of one CSV cell: numbers written so that reading them back gives the same value.

Floats are written with Python's ``repr``, the shortest text that parses back
to the identical double (Steele & White / Gay's algorithm, Python >= 3.1), so
NaN, infinities and every finite value survive a write and a read exactly.
Booleans are ``0``/``1``.
"""

from __future__ import annotations


def float_cell(value: float) -> str:
    """The shortest round-trip text of a float (``nan``, ``inf`` and ``-inf`` included)."""
    return float.__repr__(float(value))


def bool_cell(value: bool) -> str:
    """``1`` for True, ``0`` for False."""
    return "1" if value else "0"


def parse_float(text: str) -> float:
    """Parse a float cell; raises ValueError naming the text when it is not a number."""
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None


def parse_int(text: str) -> int:
    """Parse an integer cell; raises ValueError naming the text when it is not an integer."""
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an integer") from None


def parse_bool(text: str) -> bool:
    """Parse a ``0``/``1`` cell (``true``/``false`` accepted too)."""
    lowered = text.strip().lower()
    if lowered in ("1", "true"):
        return True
    if lowered in ("0", "false"):
        return False
    raise ValueError(f"{text!r} is not 0 or 1")


def parse_text(text: str) -> str:
    """A name (device, rule, id): any non-empty text."""
    if not text:
        raise ValueError("empty text")
    return text
