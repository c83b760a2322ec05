"""The beats wire format: byte-literal round trips, every refusal, topics, and fuzzing."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hrv import BeatBatch
from ingest import (
    MAX_BEATS_PER_MESSAGE,
    MAX_PAYLOAD_BYTES,
    BeatsMessageError,
    BeatsRejection,
    IngestError,
    beats_subscription,
    beats_topic,
    decode_beats,
    device_of_topic,
    encode_beats,
)
from ingest.beats_message import (
    MAX_JSON_DEPTH,
    _decode_full,
    decode_beat_lists,
    encode_beat_slices,
)
from simulators import load_scenario
from simulators.fleet import build_fleet, run_fleet

SCHEMA = json.loads((Path(__file__).parents[2] / "vagus" / "schemas" / "beats.json").read_text())

PHONE = (
    b'{"schema":1,"device":"phone-1","t_s":[1.5,2.3,3.1],'
    b'"rr_ms":[800.0,812.5,790.25],"gap":[true,false,false]}'
)
"""The message of `PHONE_BATCH`, as the fleet encoder wrote it before `encode_beats` existed."""

PHONE_BATCH = BeatBatch(
    device="phone-1",
    t_s=np.array([1.5, 2.3, 3.1]),
    rr_ms=np.array([800.0, 812.5, 790.25]),
    gap=np.array([True, False, False]),
)


def message(**fields: Any) -> bytes:
    """A beats message of device ``x`` with one beat, ``fields`` replaced (None: left out)."""
    doc: dict[str, Any] = {
        "schema": 1,
        "device": "x",
        "t_s": [1.0],
        "rr_ms": [800.0],
        "gap": [False],
    }
    doc.update(fields)
    return json.dumps({k: v for k, v in doc.items() if v is not None}).encode()


def reason_of(payload: bytes, device: str = "x") -> BeatsRejection:
    """The refusal reason of ``payload`` (fails the test when it decodes)."""
    with pytest.raises(BeatsMessageError) as caught:
        decode_beats(payload, device=device)
    return caught.value.reason


def assert_same_batch(a: BeatBatch, b: BeatBatch) -> None:
    assert a.device == b.device
    np.testing.assert_array_equal(a.t_s, b.t_s)
    np.testing.assert_array_equal(a.rr_ms, b.rr_ms)
    np.testing.assert_array_equal(a.gap, b.gap)


def fleet_encoder_before(batch: BeatBatch, lo: int, hi: int, *, start_t_s: float) -> bytes:
    """``simulators.fleet.beats_message`` as it was before `encode_beats` replaced it."""
    return json.dumps(
        {
            "schema": 1,
            "device": batch.device,
            "t_s": np.round(batch.t_s[lo:hi] + start_t_s, 3).tolist(),
            "rr_ms": np.round(batch.rr_ms[lo:hi], 3).tolist(),
            "gap": batch.gap[lo:hi].tolist(),
        },
        separators=(",", ":"),
    ).encode()


# --- round trips -------------------------------------------------------------------------------


def test_encode_gives_the_documented_bytes() -> None:
    """`encode_beats` writes compact JSON in schema key order, exactly these bytes."""
    assert encode_beats(PHONE_BATCH) == PHONE


def test_decode_of_the_documented_bytes() -> None:
    """The documented message decodes to its beats, on the topic's device."""
    assert_same_batch(decode_beats(PHONE, device="phone-1"), PHONE_BATCH)


def test_slice_and_offset() -> None:
    """``lo:hi`` picks beats, ``t_offset_s`` shifts times; times keep ms, RR µs precision."""
    batch = BeatBatch(
        device="d1",
        t_s=np.array([0.1, 1.0004, 2.0, 3.0]),
        rr_ms=np.array([900.0, 900.12345, 1000.0, 1000.0]),
        gap=np.array([False, True, False, False]),
    )
    assert encode_beats(batch, 1, 3, t_offset_s=1_700_000_000.0) == (
        b'{"schema":1,"device":"d1","t_s":[1700000001.0,1700000002.0],'
        b'"rr_ms":[900.123,1000.0],"gap":[true,false]}'
    )
    assert encode_beats(batch, 3) == (
        b'{"schema":1,"device":"d1","t_s":[3.0],"rr_ms":[1000.0],"gap":[false]}'
    )


def test_empty_message_round_trips() -> None:
    """A message without beats is valid and decodes to an empty batch."""
    payload = b'{"schema":1,"device":"x","t_s":[],"rr_ms":[],"gap":[]}'
    assert encode_beats(BeatBatch(device="x", t_s=np.zeros(0), rr_ms=np.zeros(0))) == payload
    assert len(decode_beats(payload, device="x")) == 0


def test_non_finite_values_and_nulls_decode_to_nan() -> None:
    """NaN/Infinity literals, null and numbers beyond float range become NaN, not a refusal:
    judging beat values is the pipeline's job."""
    payload = (
        b'{"schema":1,"device":"x","t_s":[NaN,null,1e400,' + b"9" * 400 + b",2],"
        b'"rr_ms":[Infinity,-Infinity,-5,0,800],"gap":[false,false,false,false,false]}'
    )
    batch = decode_beats(payload, device="x")
    assert np.isnan(batch.t_s[:4]).all()
    assert batch.t_s[4] == 2.0
    assert np.isnan(batch.rr_ms[:2]).all()
    assert batch.rr_ms[2:].tolist() == [-5.0, 0.0, 800.0]


def test_nan_beats_survive_a_round_trip() -> None:
    """A batch holding NaN encodes as the ``NaN`` literal and decodes back to NaN."""
    batch = BeatBatch(device="x", t_s=np.array([1.0, np.nan]), rr_ms=np.array([np.nan, 800.0]))
    assert b"NaN" in encode_beats(batch)
    assert_same_batch(decode_beats(encode_beats(batch), device="x"), batch)


def test_encoded_messages_are_schema_valid() -> None:
    """What `encode_beats` writes validates against vagus/schemas/beats.json."""
    batch = build_fleet(load_scenario("demo"), 1, until_s=30)[0]
    jsonschema.validate(json.loads(encode_beats(batch, t_offset_s=1_700_000_000.0)), SCHEMA)


def test_padded_to_the_size_cap_still_decodes() -> None:
    """A message of exactly MAX_PAYLOAD_BYTES decodes; one byte more is too_large."""
    padded = PHONE + b" " * (MAX_PAYLOAD_BYTES - len(PHONE))
    assert len(decode_beats(padded, device="phone-1")) == 3
    assert reason_of(padded + b" ", "phone-1") == "too_large"


def test_a_full_message_fits_the_size_cap() -> None:
    """MAX_BEATS_PER_MESSAGE realistic beats (epoch times, µs RR) fit in MAX_PAYLOAD_BYTES."""
    n = MAX_BEATS_PER_MESSAGE
    batch = BeatBatch(
        device="C0:FF:EE:00:00:01",
        t_s=1_764_236_130.123 + np.arange(n) * 0.8123,
        rr_ms=np.full(n, 812.345),
        gap=np.zeros(n, dtype=np.bool_),
    )
    payload = encode_beats(batch)
    assert len(payload) <= MAX_PAYLOAD_BYTES
    assert len(decode_beats(payload, device=batch.device)) == n


# --- the fleet uses this encoder ---------------------------------------------------------------

FLEET = build_fleet(load_scenario("demo"), 3, until_s=120)


@given(
    lo=st.integers(0, 40),
    size=st.integers(0, 40),
    start_t_s=st.sampled_from([0.0, 1_700_000_000.0, 1_764_236_130.25]),
)
@settings(max_examples=50, deadline=None)
def test_encode_beats_equals_the_former_fleet_encoder(lo: int, size: int, start_t_s: float) -> None:
    """`encode_beats` gives the former fleet encoder's bytes for any slice and start time."""
    batch = FLEET[1]
    assert encode_beats(batch, lo, lo + size, t_offset_s=start_t_s) == fleet_encoder_before(
        batch, lo, lo + size, start_t_s=start_t_s
    )


async def test_fleet_publishes_encode_beats_on_beats_topic() -> None:
    """Every message `run_fleet` publishes is `encode_beats` of the next slice of a device's
    beats, on `beats_topic` of that device."""
    sent: list[tuple[str, bytes]] = []

    async def publish(messages: list[tuple[str, bytes]]) -> None:
        sent.extend(messages)

    now = [0.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    start_t_s = 1_700_000_000.0
    await run_fleet(
        FLEET,
        publish=publish,
        prefix="p/q",
        speed=10.0,
        duration_s=5.0,
        start_t_s=start_t_s,
        clock=lambda: now[0],
        sleep=sleep,
    )
    cursor = {batch.device: 0 for batch in FLEET}
    by_device = {batch.device: batch for batch in FLEET}
    for topic, payload in sent:
        device = device_of_topic("p/q", topic)
        assert topic == beats_topic("p/q", device)
        batch, lo = by_device[device], cursor[device]
        hi = lo + len(json.loads(payload)["t_s"])
        assert payload == encode_beats(batch, lo, hi, t_offset_s=start_t_s)
        cursor[device] = hi
    assert all(n > 0 for n in cursor.values())


# --- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        # Size first: nothing of a large payload is parsed.
        (b"[" * (MAX_PAYLOAD_BYTES + 1), "too_large"),
        # Not UTF-8: a stray byte; a UTF-16 message (json.loads(bytes) would accept it).
        (b'{"schema":1,"device":"x\xff"}', "not_utf8"),
        (message().decode().encode("utf-16"), "not_utf8"),
        # 2,000 bytes nested 1,000 deep (a RecursionError in json.loads); and one level over.
        (b"[" * 1000 + b"]" * 1000, "too_deep"),
        (b"{" + b'"a":{' * 1000 + b"}" * 1001, "too_deep"),
        (b'{"a":' + b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH + b"}", "too_deep"),
        (message(t_s=[[[[[[[[[[[[[[[[[1.0]]]]]]]]]]]]]]]]]), "too_deep"),
        # Not JSON.
        (b"", "not_json"),
        (b"{not json", "not_json"),
        (b"\xef\xbb\xbf" + message(), "not_json"),  # UTF-8 byte order mark
        (b'{"schema":1}{"schema":1}', "not_json"),
        (b"[" + b"1" * 5000 + b"]", "not_json"),  # an integer beyond Python's 4300 digits
        # JSON, but not a schema-1 beats object.
        (b"[]", "wrong_schema"),
        (b'"beats"', "wrong_schema"),
        (b"null", "wrong_schema"),
        (message(schema=2), "wrong_schema"),
        (message(schema=True), "wrong_schema"),
        (message(schema="1"), "wrong_schema"),
        (message(gap=None), "wrong_schema"),
        (message(device=None), "wrong_schema"),
        (message(extra=1), "wrong_schema"),
        (message(device=5), "wrong_schema"),
        (message(t_s={"0": 1.0}), "wrong_schema"),
        (message(rr_ms=800.0), "wrong_schema"),
        (message()[:-1] + b', "device": "x"}', "wrong_schema"),  # a key twice
        # The topic is the identity.
        (message(device="y"), "device_mismatch"),
        (message(device="x/+"), "device_mismatch"),
        (message(device="#"), "device_mismatch"),
        (message(device="X"), "device_mismatch"),
        (message(device=""), "device_mismatch"),
        # Columns.
        (
            message(t_s=[0] * (MAX_BEATS_PER_MESSAGE + 1), rr_ms=[], gap=[]),
            "too_many_beats",
        ),
        (message(t_s=[1.0, 2.0]), "bad_columns"),
        (message(gap=[]), "bad_columns"),
        (message(t_s=["1.0"]), "bad_columns"),
        (message(rr_ms=[True]), "bad_columns"),
        (message(rr_ms=[[800.0]]), "bad_columns"),
        (message(gap=[0]), "bad_columns"),
        (message(gap=[None]), "bad_columns"),
    ],
)
def test_each_refusal_has_its_reason(payload: bytes, reason: str) -> None:
    """Each malformed message is refused with a BeatsMessageError naming the right reason."""
    assert reason_of(payload) == reason


def test_refusal_is_a_typed_ingest_error_without_the_payload() -> None:
    """BeatsMessageError is an IngestError (and ValueError) carrying the reason as data; its
    text never quotes the payload."""
    with pytest.raises(BeatsMessageError) as caught:
        decode_beats(message(device="SECRET-NAME", schema=2), device="x")
    error = caught.value
    assert isinstance(error, IngestError)
    assert isinstance(error, ValueError)
    assert error.reason is BeatsRejection.WRONG_SCHEMA
    assert "SECRET" not in str(error)
    assert str(error).startswith("beats message refused: wrong_schema")


def test_invalid_device_argument_is_bad_device() -> None:
    """decode_beats refuses to attribute beats to an invalid device id."""
    assert reason_of(message(device="a b"), "a b") == "bad_device"
    assert reason_of(message(device=""), "") == "bad_device"


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    """Only structure counts towards MAX_JSON_DEPTH (nesting up to it is parsed): brackets in
    strings, with escaped quotes and backslashes, do not count."""
    text = "[" * 20 + '\\"\\\\"' + "{" * 20
    assert reason_of(message(note=text)) == "wrong_schema"
    assert reason_of(message(**{text: 1})) == "wrong_schema"
    at_limit = b'{"a":' + b"[" * (MAX_JSON_DEPTH - 1) + b"]" * (MAX_JSON_DEPTH - 1) + b"}"
    assert reason_of(at_limit) == "wrong_schema"
    ok = b'{"schema":1,"device":"x","t_s":[],"rr_ms":[],"gap":[]}'
    assert len(decode_beats(ok + b" " * 10, device="x")) == 0


# --- topics ------------------------------------------------------------------------------------


def test_topics() -> None:
    """Topic names: one device's, the subscription of all, and the device back from a topic."""
    assert beats_topic("vagus", "C0:FF:EE:00:00:01") == "vagus/C0:FF:EE:00:00:01/beats"
    assert beats_subscription("home/vagus") == "home/vagus/+/beats"
    assert device_of_topic("home/vagus", "home/vagus/phone-1/beats") == "phone-1"


@pytest.mark.parametrize(
    ("topic", "reason"),
    [
        ("vagus/phone-1/metrics", "bad_topic"),
        ("other/phone-1/beats", "bad_topic"),
        ("vagus/a/b/beats", "bad_topic"),
        ("vagus/beats", "bad_topic"),
        ("vagusx/phone-1/beats", "bad_topic"),
        ("vagus/phone-1/beats/", "bad_topic"),
        ("vagus//beats", "bad_device"),
        ("vagus/bad device/beats", "bad_device"),
        ("vagus/.hidden/beats", "bad_device"),
        ("vagus/-x/beats", "bad_device"),
        ("vagus/" + "a" * 65 + "/beats", "bad_device"),
        ("vagus/ünï/beats", "bad_device"),
    ],
)
def test_device_of_topic_refuses(topic: str, reason: str) -> None:
    """A topic that is not <prefix>/<device>/beats, or whose device id is invalid, is refused."""
    with pytest.raises(BeatsMessageError) as caught:
        device_of_topic("vagus", topic)
    assert caught.value.reason == reason


def test_beats_topic_refuses_an_invalid_device_and_prefix() -> None:
    """No topic is built for a device id that would change its meaning, or a wildcard prefix."""
    for device in ("a/b", "+", "#", "", "a b"):
        with pytest.raises(BeatsMessageError):
            beats_topic("vagus", device)
    for prefix in ("", "a/#", "a/+", "/a", "a/", "a//b"):
        with pytest.raises(ValueError, match="prefix"):
            beats_subscription(prefix)


device_ids = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._:-]{0,63}\Z")


@given(device=device_ids, prefix=st.sampled_from(["vagus", "a/b", "x.y:z"]))
def test_device_of_topic_inverts_beats_topic(device: str, prefix: str) -> None:
    """device_of_topic(prefix, beats_topic(prefix, d)) == d for every valid device id."""
    assert device_of_topic(prefix, beats_topic(prefix, device)) == device


# --- fuzzing: decode_beats raises only BeatsMessageError ---------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=8)
    | st.sampled_from(["[", "]", "{", '"', "\\", '\\"[']),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4)
    ),
    max_leaves=30,
)


def deep(depth: int, opener: str, closer: str, inner: str) -> str:
    return opener * depth + inner + closer * depth


deep_texts = st.builds(
    deep,
    st.integers(0, 3000),
    st.sampled_from(["[", '{"a":', '{"t_s":[', "[{}, "]),
    st.sampled_from(["]", "}", "]}", ""]),
    st.sampled_from(["", "1", '"x"', "[", "{"]),
)


def depth_of(value: object) -> int:
    """Reference nesting depth of a JSON value (a scalar is 0)."""
    if isinstance(value, list):
        return 1 + max((depth_of(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth_of(v) for v in value.values()), default=0)
    return 0


def decodes_or_refuses(payload: bytes, device: str = "x") -> BeatsMessageError | BeatBatch:
    """decode_beats' answer; any exception but BeatsMessageError fails the test."""
    try:
        return decode_beats(payload, device=device)
    except BeatsMessageError as exc:
        refusal = exc
    assert refusal.reason in set(BeatsRejection)
    return refusal


@given(st.binary(max_size=512))
def test_arbitrary_bytes_decode_or_are_refused(payload: bytes) -> None:
    """Any bytes give a batch or a BeatsMessageError, nothing else."""
    decodes_or_refuses(payload)


@given(json_values, st.booleans())
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_arbitrary_json_decodes_or_is_refused_with_exact_depth(
    value: object, ascii_only: bool
) -> None:
    """Any JSON value gives a batch or a BeatsMessageError; too_deep exactly when it nests
    deeper than MAX_JSON_DEPTH (checked against a reference depth)."""
    payload = json.dumps(value, ensure_ascii=ascii_only).encode()
    answer = decodes_or_refuses(payload)
    too_deep = isinstance(answer, BeatsMessageError) and answer.reason == "too_deep"
    assert too_deep == (depth_of(value) > MAX_JSON_DEPTH)


@given(deep_texts)
def test_deeply_nested_text_is_refused(text: str) -> None:
    """Nesting up to 3,000 deep, balanced or not, gives a BeatsMessageError, never an
    uncaught RecursionError."""
    answer = decodes_or_refuses(text.encode())
    assert isinstance(answer, BeatsMessageError)


@given(
    device=device_ids,
    columns=st.lists(
        st.tuples(st.floats(allow_nan=True), st.floats(allow_nan=True), st.booleans()),
        max_size=20,
    ),
)
def test_any_batch_round_trips(device: str, columns: list[tuple[float, float, bool]]) -> None:
    """encode then decode gives back the batch (times to the ms, RR to the µs); non-finite
    values come back as NaN."""
    t_s, rr_ms, gap = (np.array(c) for c in zip(*columns, strict=True)) if columns else ([], [], [])
    batch = BeatBatch(device=device, t_s=t_s, rr_ms=rr_ms, gap=gap)
    back = decode_beats(encode_beats(batch), device=device)

    def expected(values: np.ndarray, decimals: int) -> np.ndarray:
        with np.errstate(all="ignore"):
            rounded = np.round(values, decimals)
        return np.where(np.isfinite(rounded), rounded, np.nan)

    np.testing.assert_array_equal(back.t_s, expected(batch.t_s, 3))
    np.testing.assert_array_equal(back.rr_ms, expected(batch.rr_ms, 3))
    np.testing.assert_array_equal(back.gap, batch.gap)


@given(
    cut=st.integers(0, len(PHONE)),
    junk=st.binary(max_size=8),
    keep=st.integers(0, len(PHONE)),
)
def test_damaged_messages_decode_or_are_refused(cut: int, junk: bytes, keep: int) -> None:
    """A valid message with bytes replaced or cut off gives a batch or a BeatsMessageError."""
    decodes_or_refuses(PHONE[:cut] + junk + PHONE[cut + len(junk) :], "phone-1")
    decodes_or_refuses(PHONE[:keep], "phone-1")


# --- the fast paths (orjson) equal the full ones --------------------------------------------


def full_answer(payload: bytes, device: str) -> tuple[str, bytes, bytes, bytes]:
    """The full path's answer (every check, stdlib json) as comparable bytes."""
    try:
        batch = _decode_full(payload, device)
    except BeatsMessageError as exc:
        return ("refused", str(exc.reason).encode(), b"", b"")
    return ("ok", batch.t_s.tobytes(), batch.rr_ms.tobytes(), batch.gap.tobytes())


def answer(payload: bytes, device: str) -> tuple[str, bytes, bytes, bytes]:
    """`decode_beats`' answer (fast path first), and `decode_beat_lists` agrees with it."""
    try:
        batch = decode_beats(payload, device=device)
    except BeatsMessageError as exc:
        reason = exc.reason
        with pytest.raises(BeatsMessageError) as again:
            decode_beat_lists(payload, device=device)
        assert again.value.reason == reason
        return ("refused", str(reason).encode(), b"", b"")
    t_s, rr_ms, gap = decode_beat_lists(payload, device=device)
    assert np.array(t_s, np.float64).tobytes() == batch.t_s.tobytes()
    assert np.array(rr_ms, np.float64).tobytes() == batch.rr_ms.tobytes()
    assert gap == batch.gap.tolist()
    return ("ok", batch.t_s.tobytes(), batch.rr_ms.tobytes(), batch.gap.tobytes())


numbers = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(-(2**70), 2**70),
    st.none(),
    st.booleans(),
    st.just("1.5"),
)


@st.composite
def near_valid(draw: st.DrawFn) -> bytes:
    """Beats messages, mostly valid, some with a repeated key, a wrong type, a number
    literal beyond the float range, a NaN literal, whitespace or another key order."""
    n = draw(st.integers(0, 4))
    doc: dict[str, Any] = {
        "schema": draw(st.sampled_from([1, 1, 1.0, 2, True])),
        "device": draw(st.sampled_from(["x", "x", "y"])),
        "t_s": draw(st.lists(numbers, min_size=n, max_size=n)),
        "rr_ms": draw(st.lists(numbers, min_size=n, max_size=n)),
        "gap": draw(st.lists(st.booleans(), min_size=n, max_size=draw(st.integers(n, n + 1)))),
    }
    keys = draw(st.permutations(list(doc)))
    text = json.dumps(
        {k: doc[k] for k in keys}, separators=draw(st.sampled_from([(",", ":"), (", ", ": ")]))
    )
    edit = draw(st.sampled_from(["none", "none", "dup", "nan", "huge", "bom"]))
    if edit == "dup":
        key = draw(st.sampled_from(keys))
        text = text[:-1] + f',"{key}":' + json.dumps(doc[key]) + "}"
    elif edit == "nan" and n:
        text = text.replace('"t_s": [', '"t_s": [NaN, ').replace('"t_s":[', '"t_s":[NaN,')
    elif edit == "huge":
        text = text.replace('"rr_ms":[', '"rr_ms":[1e400,').replace(
            '"rr_ms": [', '"rr_ms": [1e400, '
        )
    elif edit == "bom":
        text = "\ufeff" + text
    return text.encode()


@given(near_valid())
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
def test_fast_decoding_equals_the_full_checks(payload: bytes) -> None:
    """For messages near the valid ones, `decode_beats` and `decode_beat_lists` (orjson
    first) give exactly the full path's beats (bit for bit) or its refusal reason."""
    assert answer(payload, "x") == full_answer(payload, "x")


@given(st.binary(max_size=200))
def test_fast_decoding_of_any_bytes_equals_the_full_checks(payload: bytes) -> None:
    """The same for any bytes."""
    assert answer(payload, "x") == full_answer(payload, "x")


values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-1e-3, 1e-3),
    st.floats(1e14, 1e17),
    st.sampled_from([0.0, -0.0, 1e-4, 9.9999e-5, 1e15, 1e16]),
)


@given(
    device=st.sampled_from(["x", "C0:FF:EE:00:00:01", "phone-1", "é", 'a"b']),
    columns=st.lists(st.tuples(values, values, st.booleans()), max_size=8),
    offset=st.sampled_from([0.0, 1.7e9]),
)
def test_encoding_equals_json_dumps(
    device: str, columns: list[tuple[float, float, bool]], offset: float
) -> None:
    """`encode_beats` (orjson where it writes the same digits) gives the bytes of the
    stdlib encoder for any values, tiny, huge and non-finite included."""
    t_s, rr_ms, gap = (np.array(c) for c in zip(*columns, strict=True)) if columns else ([], [], [])
    batch = BeatBatch(device=device, t_s=t_s, rr_ms=rr_ms, gap=gap)
    with np.errstate(over="ignore", invalid="ignore"):  # the former encoder's rounding of ~1e305
        want = fleet_encoder_before(batch, 0, len(batch), start_t_s=offset)
    assert encode_beats(batch, t_offset_s=offset) == want
    cuts = [0, len(batch) // 2, len(batch)]
    assert encode_beat_slices(batch, cuts, t_offset_s=offset) == [
        encode_beats(batch, a, b, t_offset_s=offset) for a, b in itertools.pairwise(cuts)
    ]
