"""Fixtures of the application tests."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def unwritable_dir(tmp_path: Path) -> Iterator[Path]:
    """An existing directory this process cannot create anything in, for real.

    Mode 0o555 for an ordinary user; root ignores modes, so for root the
    directory is made immutable (``chattr +i``, which binds root too), and the
    test is skipped where that is not possible (no chattr, no capability, a
    file system without the flag).
    """
    path = tmp_path / "read-only"
    path.mkdir()
    if os.geteuid() != 0:
        path.chmod(0o555)
        yield path
        path.chmod(0o755)
        return
    chattr = shutil.which("chattr")
    made = (
        chattr is not None
        and subprocess.run([chattr, "+i", str(path)], capture_output=True).returncode == 0
    )
    if chattr is None or not made:
        pytest.skip("running as root without chattr +i: cannot make a directory unwritable")
    try:
        yield path
    finally:
        subprocess.run([chattr, "-i", str(path)], check=True)
