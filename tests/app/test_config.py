"""The config file: validated once, every mistake one line naming key, value and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vagus.cli import main
from vagus.commands.config import example_text
from vagus.config import ConfigError, load_config, parse_config


def _check(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    path = tmp_path / "config.toml"
    path.write_text(text)
    code = main(["config", "check", str(path)])
    return code, capsys.readouterr().err.splitlines()


def test_wrong_type_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A string where a number belongs names the key and the value, exit code 2."""
    code, lines = _check(tmp_path, '[engine]\nwindow_s = "long"\n', capsys)
    assert code == 2
    assert len(lines) == 1
    assert "engine.window_s = 'long'" in lines[0]
    assert "number" in lines[0]


def test_unknown_key_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A misspelt key is reported as unknown, with its full dotted name."""
    code, lines = _check(tmp_path, "[mqtt]\nhots = 'broker'\n", capsys)
    assert code == 2
    assert lines == [f"vagus config: {tmp_path / 'config.toml'}: mqtt.hots: unknown key"]


def test_missing_secret_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A password read from an unset environment variable fails at start, not at first use."""
    monkeypatch.delenv("VAGUS_TEST_MQTT_PASSWORD", raising=False)
    text = '[mqtt]\ntls = true\nusername = "vagus"\npassword_env = "VAGUS_TEST_MQTT_PASSWORD"\n'
    code, lines = _check(tmp_path, text, capsys)
    assert code == 2
    assert len(lines) == 1
    assert "VAGUS_TEST_MQTT_PASSWORD" in lines[0]
    assert "not set" in lines[0]


def test_secret_values_never_appear_in_errors(tmp_path: Path) -> None:
    """A bad token is reported by its key, never by its value."""
    data = {"influx": {"url": "http://localhost:8086", "bucket": "a/b/c", "token": "s3cr3t"}}
    with pytest.raises(ConfigError) as caught:
        parse_config(data, environ={})
    assert "s3cr3t" not in str(caught.value)
    assert "influx.bucket" in str(caught.value)


def test_bad_rule_names_rule_and_field() -> None:
    """Rule errors come from the recommender's validation, with the rule's name."""
    data = {"rules": [{"name": "r1", "enter": ["stress >>= 3"], "exercises": ["box"]}]}
    with pytest.raises(ConfigError) as caught:
        parse_config(data, environ={})
    assert "'r1'" in str(caught.value)


def test_example_config_is_valid(tmp_path: Path) -> None:
    """`vagus config example` prints a file that `vagus config check` accepts."""
    path = tmp_path / "example.toml"
    path.write_text(example_text())
    config = load_config(path)
    assert config.sources.ble[0].name == "Polar H10 12345678"
    assert config.mqtt is not None
    assert config.mqtt.port == 1883


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    """An explicit --config path that does not exist is a user error, not a silent default."""
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.toml")


def test_influx_spool_defaults_into_state_dir(tmp_path: Path) -> None:
    """Without spool_dir, the InfluxDB spool lives in the state dir."""
    data = {"state_dir": str(tmp_path), "influx": {"url": "http://localhost:8086", "bucket": "v"}}
    config = parse_config(data, environ={})
    assert config.influx is not None
    assert config.influx.spool_dir == tmp_path / "influx-spool"


def test_example_rule_is_the_shipped_default() -> None:
    """The commented rule in the example config, uncommented, is exactly the default rule set."""
    import tomllib

    from recommender import default_config
    from recommender import parse_config as parse_rules

    text = example_text()
    block = text[text.index("# [[rules]]") :].splitlines()
    uncommented = "\n".join(line.removeprefix("# ") for line in block)
    assert parse_rules(tomllib.loads(uncommented)) == default_config()


# --- The engine: exactly what hrv accepts, and no window storms ------------------------------


def _engine_problems(**engine: float) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config({"engine": engine}, environ={})
    return caught.value.problems


def test_window_longer_than_the_engine_allows_is_refused() -> None:
    """``window_s = 600`` (which hrv refuses at start) fails the check, naming key, value, limit."""
    assert _engine_problems(window_s=600) == [
        "engine.window_s = 600: Input should be less than or equal to 300"
    ]


def test_longest_window_and_shortest_step_are_accepted() -> None:
    """The bounds themselves are allowed: 300 s windows, 1 s steps."""
    config = parse_config({"engine": {"window_s": 300, "step_s": 1}}, environ={})
    assert (config.engine.window_s, config.engine.step_s) == (300, 1)


def test_step_below_one_second_is_refused() -> None:
    """``step_s = 0.001`` (tens of thousands of windows from a few beats) is refused."""
    assert _engine_problems(step_s=0.001) == [
        "engine.step_s = 0.001: Input should be greater than or equal to 1"
    ]


def test_step_longer_than_window_names_step_and_window() -> None:
    """A step longer than the window is reported against ``engine.step_s`` with both values."""
    assert _engine_problems(window_s=5, step_s=10) == [
        "engine.step_s = 10.0: must not exceed window_s (5)"
    ]


def test_engine_check_of_hrv_runs_in_the_validator(monkeypatch: pytest.MonkeyPatch) -> None:
    """hrv's own `check_settings` is called by the validator: were hrv to tighten its limits,
    the config would refuse the same values, reported against the key hrv names."""
    from hrv import InputError

    def stricter(window_s: float, step_s: float, baseline_rule: object) -> None:
        if window_s > 120:
            raise InputError("window_s", f"must be in (0, 120] s, got {window_s}")

    monkeypatch.setattr("vagus.config.check_settings", stricter)
    assert _engine_problems(window_s=180) == [
        "engine.window_s = 180.0: the HRV engine refuses it: must be in (0, 120] s, got 180.0"
    ]


@given(
    window_s=st.floats(min_value=-10, max_value=1000, allow_nan=False),
    step_s=st.floats(min_value=-10, max_value=1000, allow_nan=False),
)
def test_engine_settings_accepted_exactly_by_the_rule(window_s: float, step_s: float) -> None:
    """The config accepts exactly 0 < window_s <= 300 and 1 <= step_s <= window_s (one line per
    refused key), and whatever it accepts the stream engine starts with."""
    from hrv import StreamEngine

    data = {"engine": {"window_s": window_s, "step_s": step_s}}
    if not (0 < window_s <= 300 and 1 <= step_s <= window_s):
        with pytest.raises(ConfigError) as caught:
            parse_config(data, environ={})
        problems = caught.value.problems
        assert 1 <= len(problems) <= 2
        assert all(p.startswith(("engine.window_s = ", "engine.step_s = ")) for p in problems)
        return
    config = parse_config(data, environ={})
    StreamEngine(window_s=config.engine.window_s, step_s=config.engine.step_s)


# --- Directories the daemon writes: checked at start, nothing created ------------------------


def test_state_dir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    """A ``state_dir`` naming an existing regular file is one line: key, value, what is allowed."""
    state = tmp_path / "state"
    state.write_text("")
    with pytest.raises(ConfigError) as caught:
        parse_config({"state_dir": str(state)}, environ={})
    assert caught.value.problems == [
        f"state_dir = {str(state)!r}: exists and is not a directory "
        "(must be a directory this user can write to, or creatable in one)"
    ]


def test_state_dir_that_is_not_writable_is_refused(unwritable_dir: Path) -> None:
    """A ``state_dir`` this user cannot write to is refused at check time."""
    with pytest.raises(ConfigError, match=r"state_dir = .*: is a directory this user cannot write"):
        parse_config({"state_dir": str(unwritable_dir)}, environ={})


def test_state_dir_below_an_unwritable_dir_is_refused(unwritable_dir: Path) -> None:
    """A ``state_dir`` that would have to be created in an unwritable directory is refused."""
    with pytest.raises(ConfigError) as caught:
        parse_config({"state_dir": str(unwritable_dir / "a" / "b")}, environ={})
    (problem,) = caught.value.problems
    assert problem.startswith(f"state_dir = {str(unwritable_dir / 'a' / 'b')!r}: cannot be created")
    assert str(unwritable_dir) in problem


def test_missing_dirs_under_a_writable_parent_are_fine_and_not_created(tmp_path: Path) -> None:
    """Directories that do not exist yet are accepted when creatable; the check creates nothing."""
    data = {
        "state_dir": str(tmp_path / "state" / "deep"),
        "files": {"dir": str(tmp_path / "sessions")},
        "influx": {"url": "http://localhost:8086", "bucket": "v"},
    }
    config = parse_config(data, environ={})
    assert config.files.dir == tmp_path / "sessions"
    assert list(tmp_path.iterdir()) == []


def test_files_dir_below_a_file_is_refused(tmp_path: Path) -> None:
    """``files.dir`` whose nearest existing parent is a file cannot be created: refused."""
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError) as caught:
        parse_config({"files": {"dir": str(tmp_path / "file" / "sessions")}}, environ={})
    (problem,) = caught.value.problems
    assert problem.startswith("files.dir = ")
    assert f"cannot be created: {tmp_path / 'file'} is not a directory" in problem


def test_files_dir_not_writable_is_refused(unwritable_dir: Path) -> None:
    """``files.dir`` naming a directory this user cannot write to is refused."""
    with pytest.raises(
        ConfigError, match=r"files\.dir = .*: is a directory this user cannot write"
    ):
        parse_config({"files": {"dir": str(unwritable_dir)}}, environ={})


def test_influx_spool_dir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    """An explicit ``influx.spool_dir`` is checked like ``state_dir``, under its own key."""
    spool = tmp_path / "spool"
    spool.write_text("")
    data = {"influx": {"url": "http://localhost:8086", "bucket": "v", "spool_dir": str(spool)}}
    with pytest.raises(ConfigError) as caught:
        parse_config(data, environ={})
    assert caught.value.problems == [
        f"influx.spool_dir = {str(spool)!r}: exists and is not a directory "
        "(must be a directory this user can write to, or creatable in one)"
    ]


def test_dir_checks_can_be_skipped(tmp_path: Path) -> None:
    """``check_dirs=False`` (commands that take only [engine] and rules) does not check them."""
    (tmp_path / "file").write_text("")
    config = parse_config({"state_dir": str(tmp_path / "file")}, environ={}, check_dirs=False)
    assert config.state_dir == tmp_path / "file"


def test_home_is_expanded_in_directories(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``~`` in state_dir, files.dir and the default spool dir means the home directory, as the
    example config shows, not a directory named ``~``."""
    monkeypatch.setenv("HOME", str(tmp_path))
    data = {
        "state_dir": "~/state",
        "files": {"dir": "~/sessions"},
        "influx": {"url": "http://localhost:8086", "bucket": "v"},
    }
    config = parse_config(data, environ={})
    assert config.state_dir == tmp_path / "state"
    assert config.files.dir == tmp_path / "sessions"
    assert config.influx is not None
    assert config.influx.spool_dir == tmp_path / "state" / "influx-spool"


# --- Sources: scenario and labels --------------------------------------------------------------


def test_unknown_scenario_is_refused_with_the_shipped_names() -> None:
    """An unknown ``[sources.simulated] scenario`` fails the check and lists the shipped ones."""
    with pytest.raises(ConfigError) as caught:
        parse_config({"sources": {"simulated": {"scenario": "nope"}}}, environ={})
    (problem,) = caught.value.problems
    assert problem.startswith("sources.simulated.scenario = 'nope': no such scenario; shipped ")
    assert "demo" in problem


def test_invalid_scenario_file_names_segment_and_field(tmp_path: Path) -> None:
    """A scenario file is validated with the config; the line names its segment and field."""
    path = tmp_path / "bad.toml"
    path.write_text('name = "x"\nseed = 1\n[[segments]]\nstate = "calm"\nduration_s = -1\n')
    with pytest.raises(ConfigError) as caught:
        parse_config({"sources": {"simulated": {"scenario": str(path)}}}, environ={})
    assert caught.value.problems == [
        f"sources.simulated.scenario = {str(path)!r}: segment 0, field 'duration_s': "
        "Input should be greater than 0"
    ]


def test_shipped_scenario_is_accepted() -> None:
    """A shipped scenario name passes."""
    config = parse_config({"sources": {"simulated": {"scenario": "demo"}}}, environ={})
    assert config.sources.simulated is not None


@pytest.mark.parametrize(
    ("label", "reason"),
    [
        ("my strap", "only letters, digits"),
        ("", "empty"),
        ("a/b", "only letters, digits"),
        ("x" * 65, "longer than 64 characters"),
    ],
)
def test_ble_label_must_be_a_device_id(label: str, reason: str) -> None:
    """A BLE ``label`` becomes a topic level and a tag: one that is not a device id is refused."""
    with pytest.raises(ConfigError) as caught:
        parse_config({"sources": {"ble": [{"any": True, "label": label}]}}, environ={})
    (problem,) = caught.value.problems
    assert problem.startswith(f"sources.ble.0.label = {label!r}: not a device id: ")
    assert reason in problem


def test_ble_label_that_is_a_device_id_is_accepted() -> None:
    """Letters, digits and . _ : - make a good label."""
    config = parse_config(
        {"sources": {"ble": [{"any": True, "label": "chest-strap_2.A:1"}]}}, environ={}
    )
    assert config.sources.ble[0].label == "chest-strap_2.A:1"


def test_every_problem_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Several mistakes at once come out as one line each, in one run."""
    text = (
        f'state_dir = "{tmp_path / "config.toml"}"\n'
        "[engine]\nwindow_s = 600\nstep_s = 0.5\n"
        '[sources.simulated]\nscenario = "nope"\n'
        '[[sources.ble]]\nany = true\nlabel = "a b"\n'
    )
    code, lines = _check(tmp_path, text, capsys)
    assert code == 2
    assert len(lines) == 5
    for key in ("state_dir", "engine.window_s", "engine.step_s", "scenario", "label"):
        assert sum(key in line for line in lines) >= 1


def test_binary_config_file_is_one_line(tmp_path: Path) -> None:
    """A config file that is not UTF-8 text is a `ConfigError`, not a decode traceback."""
    path = tmp_path / "config.toml"
    path.write_bytes(bytes(range(128, 256)))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.problems == ["not a TOML text file: byte 0 is not UTF-8"]


def test_mqtt_beats_without_a_broker_is_refused() -> None:
    """``[sources.mqtt_beats] enabled`` without ``[mqtt]`` (which `vagus run` refuses) fails the
    check too."""
    with pytest.raises(ConfigError) as caught:
        parse_config({"sources": {"mqtt_beats": {"enabled": True}}}, environ={})
    assert caught.value.problems == [
        "sources.mqtt_beats.enabled = True: needs an [mqtt] section (the broker to listen on)"
    ]
