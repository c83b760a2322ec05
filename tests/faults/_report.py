"""The one result line each fault test prints (collected into docs/reliability.md)."""

from __future__ import annotations


def report(name: str, *, injected: int, lost: str, recovery: str) -> str:
    """Print and return ``fault: <name> | injected: <count> | lost: <what> | recovery: <s>``."""
    line = f"fault: {name} | injected: {injected} | lost: {lost} | recovery: {recovery}"
    print(f"\n{line}")
    return line
