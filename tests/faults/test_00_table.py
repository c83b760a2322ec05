"""The result-line format and the table made from it (no servers: not marked faults)."""

from __future__ import annotations

import pytest

from tests.faults._report import parse, report
from tests.faults.table import markdown, rows


def test_a_reported_line_parses_back_and_makes_a_row(capsys: pytest.CaptureFixture[str]) -> None:
    """`report`'s line (printed, here captured: not a row of the suite's output), after
    pytest's progress line naming its file, parses back to its parts and one row with that
    file (a pipe in a cell escaped)."""
    line = report("broker | gone", injected=5, lost="0/3 triggers", recovery="0.4 s")
    assert capsys.readouterr().out == f"\n{line}\n"
    parsed = parse(line)
    assert parsed is not None
    assert (parsed.injected, parsed.lost, parsed.recovery) == (5, "0/3 triggers", "0.4 s")
    text = f"tests/faults/test_x.py \n{line}\n.\n"
    assert [(test, f.name) for test, f in rows(text)] == [
        ("tests/faults/test_x.py", "broker | gone")
    ]
    table = markdown(rows(text)).splitlines()
    assert table[2] == r"| broker \| gone | `faults/test_x.py` | 5 | 0/3 triggers | 0.4 s |"


def test_other_lines_are_not_rows() -> None:
    """Lines without the exact fields are ignored."""
    assert parse("fault: x | injected: many | lost: - | recovery: -") is None
    assert rows("poison: 30 messages\nPASSED") == []
