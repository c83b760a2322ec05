"""The reliability table of docs/reliability.md, from the fault suite's own output.

    .venv/bin/pytest -m faults -s tests/faults | tee faults.log
    .venv/bin/python -m tests.faults.table faults.log

prints one Markdown row per ``fault:`` line (`tests.faults._report.report`), in order.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tests.faults._report import FaultLine, parse


def rows(text: str) -> list[FaultLine]:
    """Every result line in ``text``, in order."""
    return [f for line in text.splitlines() if (f := parse(line)) is not None]


def markdown(faults: list[FaultLine]) -> str:
    """The table: fault, times injected, what was lost, recovery."""
    head = "| fault or bad input | injected | lost | recovery |\n| --- | --- | --- | --- |\n"
    cells = [
        "| " + " | ".join(_cell(c) for c in (f.name, str(f.injected), f.lost, f.recovery)) + " |"
        for f in faults
    ]
    return head + "\n".join(cells) + "\n"


def _cell(text: str) -> str:
    """``text`` safe inside a Markdown table cell."""
    return text.replace("|", "\\|")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", type=Path, help="output of pytest -m faults -s")
    args = parser.parse_args()
    found = rows(args.log.read_text(errors="replace"))
    if not found:
        raise SystemExit(f"no 'fault:' lines in {args.log}")
    print(markdown(found), end="")


if __name__ == "__main__":
    main()
