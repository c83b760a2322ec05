"""The beats wire format: ``<prefix>/<device>/beats`` messages (``vagus/schemas/beats.json``).

The one place that knows it: the fleet simulator encodes with `encode_beats`
and `beats_topic`, the daemon's MQTT intake decodes with `device_of_topic`
and `decode_beats`. Sans-IO: bytes and strings in, a `hrv.BeatBatch` or
bytes out; no logging, no asyncio.

A message is one JSON object, columns of equal length, oldest beat first::

    {"schema":1,"device":"phone-1","t_s":[1.5,2.3],"rr_ms":[800.0,812.5],"gap":[true,false]}

**The topic is the identity.** The device comes from the topic (checked
with `ingest.device_ids.device_id_problem`); a payload whose ``device``
says otherwise is refused, so one sender cannot write into another's
stream by naming it in the payload.

**Decoding is total.** For any bytes, `decode_beats` returns a batch or
raises `BeatsMessageError` whose ``reason`` is one `BeatsRejection`;
nothing else escapes (no RecursionError, UnicodeDecodeError, ...). Checks
run cheapest first: size, UTF-8, nesting depth, JSON, schema, device,
column sizes and types. Beat values are not judged: NaN, negative or
out-of-order values and duplicates are the pipeline's to count and drop.
So JSON ``NaN``/``Infinity``/``-Infinity`` literals, numbers beyond the
float range and ``null`` in ``t_s`` or ``rr_ms`` decode to NaN (every value
of a decoded column is finite or NaN); only the lengths and the JSON types
must be right.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np
import orjson

from hrv import BeatBatch, FloatArray
from ingest.device_topics import (
    DuplicateKeyError,
    TopicError,
    check_device,
    device_of,
    device_topic,
    strict_object,
    subscription,
)
from ingest.errors import BeatsMessageError, BeatsRejection

__all__ = [
    "MAX_BEATS_PER_MESSAGE",
    "MAX_JSON_DEPTH",
    "MAX_PAYLOAD_BYTES",
    "SCHEMA_VERSION",
    "beats_subscription",
    "beats_topic",
    "decode_beat_lists",
    "decode_beats",
    "device_of_topic",
    "encode_beat_slices",
    "encode_beats",
]

SCHEMA_VERSION = 1
"""Value of the ``schema`` field."""

MAX_PAYLOAD_BYTES = 256 * 1024
"""Largest payload decoded (a full message of `MAX_BEATS_PER_MESSAGE` beats is ~150 KiB)."""

MAX_BEATS_PER_MESSAGE = 4096
"""Most beats in one message: over an hour of one heart (the fleet sends about one second's)."""

MAX_JSON_DEPTH = 16
"""Deepest JSON nesting parsed (a beats message has 2); deeper is refused before parsing."""

_T = TypeVar("_T")
_LEVEL = "beats"
_FIELDS = frozenset({"schema", "device", "t_s", "rr_ms", "gap"})
_NUMBER_TYPES = frozenset({int, float, type(None)})
_QUOTES = 2 * len(_FIELDS) + 2
_PLAIN_DEVICE = re.compile(r"[A-Za-z0-9._:-]*")  # written alike by json.dumps and orjson

# Strips JSON strings (an unterminated one runs to the end, as for the parser) and every
# character but brackets, scanning left to right without backtracking: what remains are the
# brackets outside strings, whose running balance is the nesting depth.
_NOT_A_BRACKET = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[^"\[\]{}]+', re.DOTALL)
_SHORT = 64  # up to this many brackets, a Python loop beats numpy's call overhead


def encode_beats(
    batch: BeatBatch, lo: int = 0, hi: int | None = None, *, t_offset_s: float = 0.0
) -> bytes:
    """The message of beats ``lo:hi`` of ``batch``: times ``t_offset_s + batch.t_s`` rounded to
    the millisecond, RR to the microsecond; non-finite values go out as ``NaN``/``Infinity``."""
    part = slice(lo, hi)
    t_s, rr_ms, plain = _rounded(batch.t_s[part] + t_offset_s, batch.rr_ms[part])
    return _message(batch.device, t_s, rr_ms, batch.gap[part].tolist(), plain)


def encode_beat_slices(
    batch: BeatBatch, cuts: Sequence[int], *, t_offset_s: float = 0.0
) -> list[bytes]:
    """The messages of beats ``cuts[k]:cuts[k + 1]`` of ``batch``, each byte for byte
    `encode_beats` of that slice, with the rounding done once for all (a fleet's stream)."""
    t_all, rr_all, plain = _rounded(batch.t_s + t_offset_s, batch.rr_ms)
    gap_all = batch.gap.tolist()
    return [
        _message(batch.device, t_all[lo:hi], rr_all[lo:hi], gap_all[lo:hi], plain)
        for lo, hi in itertools.pairwise(cuts)
    ]


def _rounded(t_s: FloatArray, rr_ms: FloatArray) -> tuple[list[float], list[float], bool]:
    """Times to the ms, RR to the µs, as lists; and whether every value is "plain": finite,
    0 or of magnitude in [1e-4, 1e15), where orjson writes the same digits as `json.dumps`."""
    with np.errstate(over="ignore", invalid="ignore"):  # rounding |x| > ~1e305 gives inf
        both = np.round(np.concatenate([t_s, rr_ms]), 3)
    size = np.abs(both)
    plain = bool(((size < 1e15) & ((size >= 1e-4) | (both == 0.0))).all())  # False for NaN
    values = both.tolist()
    return values[: t_s.size], values[t_s.size :], plain


def _message(
    device: str, t_s: list[float], rr_ms: list[float], gap: list[bool], plain: bool
) -> bytes:
    """One message's bytes: orjson where its output equals `json.dumps`'s, else json."""
    doc = {"schema": SCHEMA_VERSION, "device": device, "t_s": t_s, "rr_ms": rr_ms, "gap": gap}
    if plain and _PLAIN_DEVICE.fullmatch(device):
        return orjson.dumps(doc)
    return json.dumps(doc, separators=(",", ":")).encode()


def decode_beats(payload: bytes, *, device: str) -> BeatBatch:
    """The beats of ``payload``, received on the topic of ``device`` (see the module docs).

    Raises `BeatsMessageError` (and nothing else) when the message is refused;
    ``bad_device`` when ``device`` itself is not a valid device id.
    """
    _check_device(device)
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise BeatsMessageError(
            BeatsRejection.TOO_LARGE, f"{len(payload)} bytes, at most {MAX_PAYLOAD_BYTES}"
        )
    fast = _fast_lists(payload, device)
    if fast is not None:
        t_s, rr_ms, gap = fast
        return BeatBatch(
            device=device, t_s=_numbers(t_s), rr_ms=_numbers(rr_ms), gap=np.array(gap, np.bool_)
        )
    return _decode_full(payload, device)


def _decode_full(payload: bytes, device: str) -> BeatBatch:
    """Every check in turn, cheapest first (the path that names each refusal)."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BeatsMessageError(BeatsRejection.NOT_UTF8) from exc
    depth = _nesting_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise BeatsMessageError(
            BeatsRejection.TOO_DEEP, f"nested {depth} deep, at most {MAX_JSON_DEPTH}"
        )
    try:
        data = json.loads(text, object_pairs_hook=strict_object)
    except DuplicateKeyError as exc:
        raise BeatsMessageError(BeatsRejection.WRONG_SCHEMA, "duplicate key") from exc
    except RecursionError as exc:  # unreachable after the depth check; kept as a backstop
        raise BeatsMessageError(BeatsRejection.TOO_DEEP) from exc
    except (ValueError, TypeError, OverflowError) as exc:
        # JSONDecodeError, and ValueError for an integer of more than 4300 digits.
        raise BeatsMessageError(BeatsRejection.NOT_JSON) from exc
    return _beats(data, device)


def decode_beat_lists(
    payload: bytes, *, device: str
) -> tuple[list[float | None], list[float | None], list[bool]]:
    """`decode_beats` without numpy: the columns as lists, ``None`` or NaN where it has NaN.

    For intakes that gather many messages into one set of columns
    (`vagus.events.BeatColumns.of_lists`); same checks, same refusals.
    """
    _check_device(device)
    fast = _fast_lists(payload, device) if len(payload) <= MAX_PAYLOAD_BYTES else None
    if fast is not None:
        return fast
    batch = decode_beats(payload, device=device)
    return batch.t_s.tolist(), batch.rr_ms.tolist(), batch.gap.tolist()


def _fast_lists(payload: bytes, device: str) -> tuple[list[Any], list[Any], list[Any]] | None:
    """The columns of a well-formed message parsed by orjson, or None to take the full path.

    Equal to the full path for every message it accepts: those pass the same checks
    (`_lists`), nest 2 deep, hold no number beyond the float range (orjson refuses those)
    and exactly `_QUOTES` quote characters (five keys and the device's string; no other
    strings pass the checks), so no key is repeated (orjson keeps the last of repeated
    keys, the full path refuses them). Anything else, refusals included, goes the full
    path, which gives the reason.
    """
    if payload.count(b'"') != _QUOTES:
        return None
    try:
        return _lists(orjson.loads(payload), device)
    except (orjson.JSONDecodeError, BeatsMessageError):
        return None


def beats_topic(prefix: str, device: str) -> str:
    """``<prefix>/<device>/beats``; `BeatsMessageError` (``bad_device``) for an invalid id."""
    return _topic_call(device_topic, prefix, device, _LEVEL)


def beats_subscription(prefix: str) -> str:
    """``<prefix>/+/beats``: the beats of every device."""
    return subscription(prefix, _LEVEL)


def device_of_topic(prefix: str, topic: str) -> str:
    """The device of a beats ``topic`` under ``prefix``.

    `BeatsMessageError` with ``bad_topic`` when ``topic`` is not
    ``<prefix>/<one level>/beats``, ``bad_device`` when that level is not a
    valid device id (empty, too long, a character other than letters,
    digits, ``. _ : -``).
    """
    return _topic_call(device_of, prefix, topic, _LEVEL)


def _nesting_depth(text: str) -> int:
    """How deep arrays and objects nest in ``text``: exact for JSON, and for any other text
    never less than the depth a JSON parser reaches before it fails."""
    brackets = _NOT_A_BRACKET.sub("", text)
    if len(brackets) <= _SHORT:  # a beats message has 8
        depth = level = 0
        for char in brackets:
            level += 1 if char in "[{" else -1
            depth = max(depth, level)
        return depth
    codes = np.frombuffer(brackets.encode("ascii"), dtype=np.uint8)
    steps = np.where((codes == ord("[")) | (codes == ord("{")), 1, -1)
    return int(np.cumsum(steps).max())


def _beats(data: object, device: str) -> BeatBatch:
    t_s, rr_ms, gap = _lists(data, device)
    return BeatBatch(
        device=device, t_s=_numbers(t_s), rr_ms=_numbers(rr_ms), gap=np.array(gap, np.bool_)
    )


def _lists(data: object, device: str) -> tuple[list[Any], list[Any], list[Any]]:
    """The columns of a parsed message, checked (schema, device, sizes, JSON types)."""
    if not isinstance(data, dict) or data.keys() != _FIELDS:
        raise BeatsMessageError(
            BeatsRejection.WRONG_SCHEMA, f"an object with keys {', '.join(sorted(_FIELDS))}"
        )
    version, sender = data["schema"], data["device"]
    if isinstance(version, bool) or not isinstance(version, int | float) or version != 1:
        raise BeatsMessageError(BeatsRejection.WRONG_SCHEMA, f"schema must be {SCHEMA_VERSION}")
    if not isinstance(sender, str):
        raise BeatsMessageError(BeatsRejection.WRONG_SCHEMA, "device must be a string")
    t_s, rr_ms, gap = data["t_s"], data["rr_ms"], data["gap"]
    if not (isinstance(t_s, list) and isinstance(rr_ms, list) and isinstance(gap, list)):
        raise BeatsMessageError(BeatsRejection.WRONG_SCHEMA, "t_s, rr_ms and gap must be arrays")
    if sender != device:
        raise BeatsMessageError(BeatsRejection.DEVICE_MISMATCH)
    sizes = (len(t_s), len(rr_ms), len(gap))
    if max(sizes) > MAX_BEATS_PER_MESSAGE:
        raise BeatsMessageError(
            BeatsRejection.TOO_MANY_BEATS, f"{max(sizes)} values, at most {MAX_BEATS_PER_MESSAGE}"
        )
    if len(set(sizes)) != 1:
        raise BeatsMessageError(
            BeatsRejection.BAD_COLUMNS, "t_s={}, rr_ms={}, gap={} values".format(*sizes)
        )
    if not all(type(v) in _NUMBER_TYPES for v in t_s) or not all(
        type(v) in _NUMBER_TYPES for v in rr_ms
    ):
        raise BeatsMessageError(BeatsRejection.BAD_COLUMNS, "t_s and rr_ms hold numbers or null")
    if not all(type(v) is bool for v in gap):
        raise BeatsMessageError(BeatsRejection.BAD_COLUMNS, "gap holds true or false")
    return t_s, rr_ms, gap


def _numbers(values: list[Any]) -> FloatArray:
    """A float column: numbers as they are, null and non-finite values as NaN."""
    try:
        column = np.array(values, dtype=np.float64)  # None -> NaN
    except OverflowError:  # an integer beyond the float range, like 1e400 (which parses as inf)
        column = np.array([_float_or_inf(v) for v in values], dtype=np.float64)
    column[~np.isfinite(column)] = np.nan
    return column


def _float_or_inf(value: int | float | None) -> float:
    if value is None:
        return np.nan
    try:
        return float(value)
    except OverflowError:
        return np.inf


def _check_device(device: str) -> None:
    _topic_call(check_device, device)


def _topic_call(fn: Callable[..., _T], *args: str) -> _T:
    """``fn(*args)`` with a `TopicError` turned into this codec's typed error."""
    try:
        return fn(*args)
    except TopicError as exc:
        raise BeatsMessageError(BeatsRejection(exc.reason), exc.detail) from exc
