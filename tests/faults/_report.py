"""The one result line each fault test prints, and its parser (for docs/reliability.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_LINE = re.compile(
    r"^fault: (?P<name>.+?) \| injected: (?P<injected>\d+) \| lost: (?P<lost>.+?)"
    r" \| recovery: (?P<recovery>.+)$"
)


@dataclass(frozen=True, slots=True)
class FaultLine:
    """One parsed result line."""

    name: str
    injected: int
    lost: str
    recovery: str


def report(name: str, *, injected: int, lost: str, recovery: str) -> str:
    """Print and return ``fault: <name> | injected: <count> | lost: <what> | recovery: <s>``."""
    line = f"fault: {name} | injected: {injected} | lost: {lost} | recovery: {recovery}"
    print(f"\n{line}")
    return line


def parse(line: str) -> FaultLine | None:
    """The `report` line in ``line`` (None when it is not one)."""
    found = _LINE.match(line.strip())
    if found is None:
        return None
    return FaultLine(
        name=found["name"],
        injected=int(found["injected"]),
        lost=found["lost"],
        recovery=found["recovery"],
    )
