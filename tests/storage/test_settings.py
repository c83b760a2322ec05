"""InfluxSettings: both server forms, token sources, and one-line errors that hide the token."""

from __future__ import annotations

from pathlib import Path

import pytest

from vagus.errors import UserError
from vagus.influx import InfluxConfigError, InfluxSettings


def test_v2_form_with_defaults(tmp_path: Path) -> None:
    """url/org/bucket/token are taken as given; batching and spool have documented defaults."""
    settings = InfluxSettings.load(
        {"url": "http://db:8086/", "org": "home", "bucket": "vagus", "token": "s3cret",
         "spool_dir": str(tmp_path)},
        environ={},
    )  # fmt: skip
    assert settings.url == "http://db:8086"
    assert settings.token is not None
    assert settings.token.get_secret_value() == "s3cret"
    assert (settings.batch_size, settings.flush_interval_s) == (5000, 1.0)
    assert "s3cret" not in repr(settings)
    assert "s3cret" not in str(settings.model_dump())


def test_v1_compat_form(tmp_path: Path) -> None:
    """InfluxDB 1.8: 'username:password' token and 'database/retention' bucket are accepted."""
    settings = InfluxSettings(
        url="http://localhost:8086", bucket="vagus/autogen", token="me:pw", spool_dir=tmp_path
    )
    assert settings.org == "-"
    assert settings.bucket == "vagus/autogen"


def test_token_from_file_and_environment(tmp_path: Path) -> None:
    """token_file supplies the token; VAGUS_INFLUX_TOKEN overrides file and config."""
    token_file = tmp_path / "token"
    token_file.write_text("from-file\n")
    section = {"url": "http://h:8086", "bucket": "b", "token_file": str(token_file),
               "token": "from-config", "spool_dir": str(tmp_path)}  # fmt: skip
    from_file = InfluxSettings.load(section, environ={})
    from_env = InfluxSettings.load(section, environ={"VAGUS_INFLUX_TOKEN": "from-env"})
    assert from_file.token is not None
    assert from_file.token.get_secret_value() == "from-file"
    assert from_env.token is not None
    assert from_env.token.get_secret_value() == "from-env"


@pytest.mark.parametrize(
    ("change", "key"),
    [({"bucket": "a/b/c"}, "bucket"), ({"url": "db:8086"}, "url"),
     ({"batch_size": 0}, "batch_size"), ({"colour": "red"}, "colour"), ({"token": "  "}, "token"),
     ({"token_file": "/nonexistent/token"}, "token_file")],
)  # fmt: skip
def test_errors_name_the_key_and_hide_the_token(
    tmp_path: Path, change: dict[str, object], key: str
) -> None:
    """A bad setting raises a UserError naming influx.<key>, never quoting the token."""
    section = {"url": "http://h:8086", "bucket": "b", "token": "t0ps3cret",
               "spool_dir": str(tmp_path), **change}  # fmt: skip
    with pytest.raises(InfluxConfigError) as info:
        InfluxSettings.load(section, environ={})
    assert isinstance(info.value, UserError)
    assert info.value.key == key
    assert str(info.value).startswith(f"influx.{key} = ")
    assert "t0ps3cret" not in str(info.value)
    assert "\n" not in str(info.value)
