"""Per-device MQTT topics ``<prefix>/<device>/<level>``: built and parsed in one place.

The beats and feedback codecs (`ingest.beats_message`, `ingest.feedback_message`)
share these; each turns a `TopicError` into its own typed message error.
The device level of a topic is the device's identity, so it is validated
here (`ingest.device_ids`).
"""

from __future__ import annotations

from typing import Any

from ingest.device_ids import device_id_problem


class TopicError(ValueError):
    """A topic or device id that cannot be used; ``reason`` is ``bad_topic`` or ``bad_device``."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def check_prefix(prefix: str) -> None:
    """Raise `ValueError` unless ``prefix`` is non-empty levels without ``+``, ``#`` or NUL."""
    levels = prefix.split("/")
    if not all(levels) or set(prefix) & {"+", "#", "\0"}:
        raise ValueError(
            f"topic prefix {prefix!r}: levels must be non-empty, without + # or NUL characters"
        )


def check_device(device: str) -> None:
    """Raise `TopicError` (``bad_device``) unless ``device`` is a valid device id."""
    problem = device_id_problem(device)
    if problem is not None:
        raise TopicError("bad_device", problem)


def device_topic(prefix: str, device: str, level: str) -> str:
    """``<prefix>/<device>/<level>``."""
    check_prefix(prefix)
    check_device(device)
    return f"{prefix}/{device}/{level}"


def subscription(prefix: str, level: str) -> str:
    """``<prefix>/+/<level>``: that level of every device."""
    check_prefix(prefix)
    return f"{prefix}/+/{level}"


def device_of(prefix: str, topic: str, level: str) -> str:
    """The device of ``topic``: `TopicError` ``bad_topic`` unless it is
    ``<prefix>/<one level>/<level>``, ``bad_device`` unless that level is a valid id."""
    check_prefix(prefix)
    head, tail = f"{prefix}/", f"/{level}"
    middle = topic[len(head) : -len(tail)]
    if (
        len(topic) < len(head) + len(tail)
        or not topic.startswith(head)
        or not topic.endswith(tail)
        or "/" in middle
    ):
        raise TopicError("bad_topic")
    check_device(middle)
    return middle


class DuplicateKeyError(Exception):
    """A JSON object names a key twice (parsers disagree on which value wins)."""


def strict_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``json.loads`` ``object_pairs_hook`` refusing duplicate keys (`DuplicateKeyError`)."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise DuplicateKeyError("duplicate key")
    return obj
