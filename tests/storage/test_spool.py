"""The on-disk spool: order, durability across reopen, torn lines, cap and dead letters."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from vagus.influx import Spool, SpoolFullError


def drain(spool: Spool, max_lines: int = 3) -> list[str]:
    """Every line left in ``spool``, committing chunk by chunk."""
    out: list[str] = []
    while (chunk := spool.peek(max_lines)) is not None:
        out.extend(chunk.lines)
        spool.commit(chunk)
    return out


def test_lines_come_back_in_order_across_segments(tmp_path: Path) -> None:
    """Lines are read back oldest first, across segment files; sent segments are deleted.
    A new spool directory is readable by its owner only (it holds health data)."""
    tmp_path = tmp_path / "spool"
    spool = Spool(tmp_path, cap_bytes=10**6, segment_bytes=40)
    assert tmp_path.stat().st_mode & 0o777 == 0o700
    lines = [f"m v={i} {i}" for i in range(50)]
    for i in range(0, 50, 7):
        spool.append(lines[i : i + 7])
    assert len(list(tmp_path.glob("*.lp"))) > 3
    assert not spool.empty
    assert drain(spool) == lines
    assert spool.empty
    assert spool.size_bytes == 0
    assert list(tmp_path.glob("*.lp")) == []


def test_reopen_resumes_after_the_last_commit(tmp_path: Path) -> None:
    """A new Spool on the same directory (a restart) starts at the first uncommitted line."""
    spool = Spool(tmp_path, cap_bytes=10**6, segment_bytes=64)
    spool.append([f"m v={i} {i}" for i in range(20)])
    chunk = spool.peek(5)
    assert chunk is not None
    spool.commit(chunk)
    spool.append(["m v=20 20"])
    reopened = Spool(tmp_path, cap_bytes=10**6, segment_bytes=64)
    assert drain(reopened) == [f"m v={i} {i}" for i in range(5, 21)]
    reopened.append(["m v=21 21"])
    assert drain(Spool(tmp_path, cap_bytes=10**6)) == ["m v=21 21"]


def test_torn_last_line_is_cut_on_open(tmp_path: Path) -> None:
    """A line half-written when the process died is dropped; whole lines survive."""
    spool = Spool(tmp_path, cap_bytes=10**6)
    spool.append(["m v=1 1", "m v=2 2"])
    segment = next(tmp_path.glob("*.lp"))
    with segment.open("ab") as file:
        file.write(b"m v=3")
    reopened = Spool(tmp_path, cap_bytes=10**6)
    assert drain(reopened) == ["m v=1 1", "m v=2 2"]


def test_cap_refuses_and_warns_near_it(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Past 80 % of the cap a warning is logged; an append that would exceed it raises."""
    spool = Spool(tmp_path, cap_bytes=100, warn_fraction=0.8)
    with caplog.at_level(logging.WARNING, logger="vagus.influx.spool"):
        spool.append(["x" * 49])
        assert not caplog.records
        spool.append(["y" * 39])
        assert "90 of 100 bytes" in caplog.text  # each line plus its newline
    with pytest.raises(SpoolFullError) as info:
        spool.append(["z" * 20])
    assert (info.value.size_bytes, info.value.cap_bytes, info.value.n_lines) == (90, 100, 1)
    assert drain(spool) == ["x" * 49, "y" * 39]


def test_dead_letters_keep_the_reason(tmp_path: Path) -> None:
    """Refused lines land in deadletter.lp after a comment with the status and reason."""
    spool = Spool(tmp_path, cap_bytes=10**6)
    path = spool.dead_letter(["bad line"], status=400, detail="unable to parse\n'bad line'")
    assert path.read_text() == "# status=400 unable to parse 'bad line'\nbad line\n"
    assert spool.empty
