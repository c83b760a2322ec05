"""Helpers of the web tests: JSON Schema checks (with the schemas' cross references)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import jsonschema
from referencing import Registry, Resource

SCHEMAS = resources.files("vagus.schemas")


def _registry() -> Registry[Any]:
    resources_ = []
    for entry in SCHEMAS.iterdir():
        if entry.name.endswith(".json"):
            schema = json.loads(entry.read_text(encoding="utf-8"))
            resources_.append((schema["$id"], Resource.from_contents(schema)))
    return Registry().with_resources(resources_)


REGISTRY = _registry()
CHECKER = jsonschema.FormatChecker()


def check(kind: str, payload: object) -> None:
    """Validate ``payload`` (after a JSON round trip) against ``vagus/schemas/<kind>.json``."""
    schema = json.loads(SCHEMAS.joinpath(f"{kind}.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema, registry=REGISTRY, format_checker=CHECKER)
    validator.validate(json.loads(json.dumps(payload, allow_nan=False)))
