"""Pseudonyms: the pure keyed hash, the key file's checks, and the 0600 mapping file."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.device_ids import device_id_problem
from vagus.config import ConfigError, parse_config
from vagus.privacy import MAPPING_FILE, Pseudonyms, read_key
from vagus.pseudonym import MIN_KEY_BYTES, pseudonym

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))


def test_known_value() -> None:
    """The pseudonym is ``p-`` + the first 16 hex digits of HMAC-SHA256(key, device). Reference:
    printf 'C0:FF:EE:00:00:01' | openssl dgst -sha256 -mac HMAC -macopt hexkey:000102...1e1f
    gives b40489bea8c58be044bf20c28e80a84ab1656b8c36d3b863266e8f0851e8631a."""
    assert pseudonym("C0:FF:EE:00:00:01", KEY) == "p-b40489bea8c58be0"


@given(device=st.text(min_size=1, max_size=64))
def test_stable_keyed_and_a_device_id(device: str) -> None:
    """Same key, same pseudonym; another key, another one; always a valid device id that
    does not contain the device's own name."""
    alias = pseudonym(device, KEY)
    assert alias == pseudonym(device, KEY)
    assert alias != pseudonym(device, OTHER_KEY)
    assert device_id_problem(alias) is None
    assert len(device) < 4 or device not in alias


def test_no_collision_on_10k_ids() -> None:
    """10,000 Bluetooth-style addresses get 10,000 different pseudonyms."""
    devices = [
        f"C0:FF:EE:{n >> 16 & 255:02X}:{n >> 8 & 255:02X}:{n & 255:02X}" for n in range(10_000)
    ]
    assert len({pseudonym(d, KEY) for d in devices}) == 10_000


def test_short_key_is_refused() -> None:
    """A key under 16 bytes is a programming error here (the config refuses it first)."""
    with pytest.raises(ValueError, match="at least 16 bytes"):
        pseudonym("x", b"short")


def _key_file(tmp_path: Path, content: bytes, mode: int = 0o600) -> Path:
    path = tmp_path / "pseudonym.key"
    path.write_bytes(content)
    path.chmod(mode)
    return path


@pytest.mark.parametrize(
    ("content", "mode", "reason"),
    [
        (None, 0o600, "No such file"),
        (b"x" * (MIN_KEY_BYTES - 1), 0o600, "at least 16 are needed"),
        (KEY, 0o644, "other users may read it"),
    ],
    ids=["missing", "short", "world-readable"],
)
def test_bad_key_file_is_one_config_line(
    tmp_path: Path, content: bytes | None, mode: int, reason: str
) -> None:
    """A missing, short or world-readable key file is one config error naming
    ``privacy.salt_file`` and why (and never the key's content)."""
    path = tmp_path / "pseudonym.key"
    if content is not None:
        _key_file(tmp_path, content, mode)
    data = {"privacy": {"pseudonymise": True, "salt_file": str(path)}}
    with pytest.raises(ConfigError) as caught:
        parse_config(data, environ={}, check_dirs=False)
    (problem,) = caught.value.problems
    assert problem.startswith(f"privacy.salt_file = '{path}': ")
    assert reason in problem
    if content is None:
        assert "head -c 32 /dev/urandom" in problem


def test_pseudonymise_needs_a_salt_file() -> None:
    """``pseudonymise = true`` without ``salt_file`` names the key and what it needs."""
    with pytest.raises(ConfigError) as caught:
        parse_config({"privacy": {"pseudonymise": True}}, environ={}, check_dirs=False)
    assert caught.value.problems == [
        "privacy.pseudonymise = True: needs salt_file, a file of secret random bytes "
        "(see `vagus config example`)"
    ]


def test_config_check_says_whether_it_is_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`vagus config check` says ``pseudonymised device ids: on`` or ``off``."""
    from vagus.cli import main

    key = _key_file(tmp_path, KEY)
    path = tmp_path / "config.toml"
    for on in (True, False):
        path.write_text(
            f'state_dir = "{tmp_path / "state"}"\n'
            f'[privacy]\npseudonymise = {str(on).lower()}\nsalt_file = "{key}"\n'
        )
        assert main(["config", "check", str(path)]) == 0
        out = capsys.readouterr().out
        assert f"pseudonymised device ids: {'on' if on else 'off'}" in out


def test_mapping_is_private_and_survives_a_restart(tmp_path: Path) -> None:
    """Each new device is recorded once (pseudonym -> id) in a 0600 file in a 0700 state dir
    created for it; a new `Pseudonyms` reads it back and gives the same answers."""
    os.umask(0o022)
    state = tmp_path / "state"
    first = Pseudonyms(read_key(_key_file(tmp_path, KEY)), state)
    a, b = first("phone-1"), first("C0:FF:EE:00:00:01")
    assert first("phone-1") == a
    path = state / MAPPING_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    entries = [json.loads(line) for line in path.read_text().splitlines()]
    assert entries == [
        {"pseudonym": a, "device": "phone-1"},
        {"pseudonym": b, "device": "C0:FF:EE:00:00:01"},
    ]
    second = Pseudonyms(KEY, state)
    assert second("phone-1") == a
    assert len(path.read_text().splitlines()) == 2
