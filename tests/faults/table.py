"""The reliability table of docs/reliability.md, from the fault suite's own output.

    .venv/bin/pytest -m faults -s tests/faults | tee faults.log
    .venv/bin/python -m tests.faults.table faults.log

prints one Markdown row per ``fault:`` line (`tests.faults._report.report`), in order,
with the test file pytest named before it (its progress lines start with the path).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from tests.faults._report import FaultLine, parse

_TEST_FILE = re.compile(r"^(tests/\S+\.py)\b")


def rows(text: str) -> list[tuple[str, FaultLine]]:
    """Every result line in ``text`` with its test file ("" when pytest named none), in order."""
    out, test = [], ""
    for line in text.splitlines():
        if named := _TEST_FILE.match(line):
            test = named[1]
        elif (fault := parse(line)) is not None:
            out.append((test, fault))
    return out


def markdown(faults: list[tuple[str, FaultLine]]) -> str:
    """The table: fault, test file, times injected, what was lost, recovery."""
    head = (
        "| fault or bad input | test | injected | lost | recovery |\n"
        "| --- | --- | --- | --- | --- |\n"
    )
    cells = [
        "| "
        + " | ".join(
            (
                _cell(f.name),
                f"`{test.removeprefix('tests/')}`" if test else "",
                str(f.injected),
                _cell(f.lost),
                _cell(f.recovery),
            )
        )
        + " |"
        for test, f in faults
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
