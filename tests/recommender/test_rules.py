"""Rule sets from TOML: the default set, and errors that name rule, field and value."""

from __future__ import annotations

import datetime as dt

import pytest

from recommender import QuietHours, RuleConfigError, Severity, default_config, load_config

GOOD = """
[recommender]
min_gap_s = 300
quiet_hours = { start = "22:00", end = "07:00" }

[[rules]]
name = "stress"
enter = ["stress >= 70"]
exit = ["stress < 50"]
hold_s = 20
exercises = ["box", "sigh"]
severity = "low"
"""


def test_default_set_loads_with_quiet_hours_off() -> None:
    """The shipped rules validate, and quiet hours are opt-in (off by default)."""
    config = default_config()
    assert [r.name for r in config.rules] == ["sustained-stress"]
    assert config.quiet_hours is None
    (rule,) = config.rules
    assert [str(c) for c in rule.enter] == ["stress >= 60"]
    assert [str(c) for c in rule.unless] == ["hr_bpm - baseline_hr_bpm >= 30"]


def test_loads_user_rules_and_settings() -> None:
    """A user's ``[[rules]]`` replace the defaults; ``[recommender]`` sets the rest."""
    config = load_config(GOOD)
    (rule,) = config.rules
    assert rule.exercises == ("box", "sigh")
    assert rule.severity is Severity.LOW
    assert rule.hold_windows == 3
    assert config.min_gap_s == 300
    assert config.quiet_hours == QuietHours(start=dt.time(22), end=dt.time(7))


@pytest.mark.parametrize(
    ("replace", "by", "rule", "field", "value"),
    [
        ("hold_s = 20", "hold_s = -5", "stress", "hold_s", -5),
        ('"box", "sigh"', '"box", "yoga"', "stress", "exercises[1]", "yoga"),
        ('["stress >= 70"]', '["stres >= 70"]', "stress", "enter[0]", "stres >= 70"),
        ('severity = "low"', 'severity = "urgent"', "stress", "severity", "urgent"),
        ("hold_s = 20", "hold_s = 20\ncolor = 1", "stress", "color", 1),
        ('name = "stress"', 'name = "Bad Name"', "Bad Name", "name", "Bad Name"),
        ("min_gap_s = 300", "min_gap_s = -1", None, "min_gap_s", -1),
    ],
)
def test_errors_name_rule_field_and_value(
    replace: str, by: str, rule: str | None, field: str, value: object
) -> None:
    """Each bad value raises one RuleConfigError carrying rule, field and value."""
    with pytest.raises(RuleConfigError) as info:
        load_config(GOOD.replace(replace, by))
    err = info.value
    assert (err.rule, err.field, err.value) == (rule, field, value)
    assert "\n" not in str(err)
    assert field in str(err)


def test_missing_exit_is_named() -> None:
    """A rule without exit conditions (no hysteresis) is rejected by name."""
    with pytest.raises(RuleConfigError, match="rule 'stress': exit"):
        load_config(GOOD.replace('exit = ["stress < 50"]', ""))


def test_duplicate_names_rejected() -> None:
    """Two rules with one name cannot be told apart in cooldowns and ids."""
    text = GOOD + GOOD.split("[[rules]]")[1].join(["[[rules]]", ""])
    with pytest.raises(RuleConfigError, match="duplicate rule name 'stress'"):
        load_config(text)


def test_bad_toml_is_one_line() -> None:
    """Broken TOML raises a RuleConfigError, not a parser exception."""
    with pytest.raises(RuleConfigError, match="toml"):
        load_config("[[rules]\n")


@pytest.mark.parametrize(
    ("start", "end", "inside", "outside"),
    [
        (
            dt.time(22),
            dt.time(7),
            [dt.time(23), dt.time(0), dt.time(6, 59)],
            [dt.time(7), dt.time(12)],
        ),
        (dt.time(13), dt.time(14), [dt.time(13, 30)], [dt.time(14), dt.time(12, 59)]),
    ],
)
def test_quiet_hours_wrap_midnight(
    start: dt.time, end: dt.time, inside: list[dt.time], outside: list[dt.time]
) -> None:
    """Quiet hours cover [start, end), across midnight when start > end."""
    quiet = QuietHours(start=start, end=end)
    assert all(quiet.contains(t) for t in inside)
    assert not any(quiet.contains(t) for t in outside)
