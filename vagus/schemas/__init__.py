"""JSON Schemas (draft 2020-12) of the MQTT payloads, one file per message kind."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any


def load_schema(kind: str) -> dict[str, Any]:
    """The schema of ``kind`` (``trigger``, ``outcome``, ``metrics``, ``state``, ``battery``...)."""
    text = resources.files(__name__).joinpath(f"{kind}.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
