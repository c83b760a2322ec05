"""Errors the CLI reports as one line and exit code 2 (a user's mistake, not a bug)."""

from __future__ import annotations

from pydantic_core import PydanticCustomError

CONFIG_KEY_PROBLEM = "config_key"
"""The pydantic error type of a section-level check that names one key of its section."""


class UserError(Exception):
    """Bad input or config: the message says what is wrong and what is allowed."""


def config_key_problem(key: str, value: object, allowed: str) -> PydanticCustomError:
    """A section-level check's problem, reported against ``key`` (relative to the section)
    as ``section.key = value: allowed`` by the config loader (`vagus.config`)."""
    return PydanticCustomError(
        CONFIG_KEY_PROBLEM, "{allowed}", {"key": key, "value": value, "allowed": allowed}
    )
