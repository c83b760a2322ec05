"""Every query of every dashboard runs on InfluxDB holding simulated sessions, and draws data."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import InfluxDB1
from tests.storage.session import recent_start_s, simulated_session
from vagus.influx import beat_lines, device_status_line, outcome_line, trigger_line, window_lines

pytestmark = pytest.mark.integration

DASHBOARDS = Path(__file__).parents[2] / "grafana" / "dashboards"
DEVICES = ("lab-1", "lab-2")
DAYS = 8  # the trends panels' 7-day moving averages need 7 days with data
DAY_S = 86_400.0


def dashboard_queries() -> Iterator[tuple[str, str, str]]:
    """(dashboard file, what, InfluxQL) for every panel target, annotation and query variable."""
    for path in sorted(DASHBOARDS.glob("*.json")):
        board = json.loads(path.read_text())
        for panel in board["panels"]:
            for target in panel["targets"]:
                yield path.name, f"panel {panel['title']!r} {target['refId']}", target["query"]
        for note in board["annotations"]["list"]:
            if "query" in note:
                yield path.name, f"annotation {note['name']!r}", note["query"]
        for var in board["templating"]["list"]:
            if var["type"] == "query":
                yield path.name, f"variable {var['name']!r}", var["query"]


def substitute(query: str, start_s: float, end_s: float) -> str:
    """Expand Grafana's variables as Grafana does for an InfluxQL datasource."""
    values = {
        "$timeFilter": f"time >= {int(start_s * 1000)}ms and time <= {int(end_s * 1000)}ms",
        "$__interval": "1m",
        "$device": "(" + "|".join(re.escape(d) for d in DEVICES) + ")",
        "$step_s": "5",
        "$tz": "UTC",
    }
    for name, value in values.items():
        query = query.replace(name, value)
    assert not re.search(r"\$[A-Za-z_]", query.replace("$tag_", "")), query
    return query


@pytest.fixture(scope="module")
def filled_influxdb(influxdb1: InfluxDB1) -> tuple[InfluxDB1, float]:
    """InfluxDB 1.x holding one simulated session a day for ``DAYS`` days on two devices,
    written twice (a re-send must overwrite); returns the server and the first beat time."""
    first_s = recent_start_s(60.0) - (DAYS - 1) * DAY_S
    for day in range(DAYS):
        for device in DEVICES:
            session = simulated_session(device, start_t_s=first_s + day * DAY_S, minutes=14)
            lines = [
                *beat_lines(session.beats),
                *window_lines(session.windows),
                *map(trigger_line, session.triggers),
                *map(outcome_line, session.outcomes),
                *map(device_status_line, session.statuses),
            ]
            for _ in range(2):
                influxdb1.write("\n".join(lines))
    return influxdb1, first_s


def test_resend_overwrites(filled_influxdb: tuple[InfluxDB1, float]) -> None:
    """Points written twice are stored once: one beat per simulated beat, one window per window."""
    server, first_s = filled_influxdb
    session = simulated_session("lab-1", start_t_s=first_s, minutes=14)
    answer = server.query(
        f"SELECT count(rr_ms) FROM beats WHERE device = 'lab-1' "
        f"AND time >= {int(first_s)}s AND time < {int(first_s + DAY_S / 2)}s"
    )
    series = answer["results"][0]["series"]  # type: ignore[index]
    assert series[0]["values"][0][1] == len(session.beats)
    answer = server.query("SELECT count(n_beats) FROM hrv WHERE device = 'lab-2'")
    series = answer["results"][0]["series"]  # type: ignore[index]
    assert series[0]["values"][0][1] == DAYS * len(session.windows)


def test_strings_and_tags_are_stored(filled_influxdb: tuple[InfluxDB1, float]) -> None:
    """Trigger ids, severity and outcome verdicts are queryable as written."""
    server, _ = filled_influxdb
    answer = server.query(
        "SELECT id, severity, exercise FROM triggers WHERE kind = 'trigger' AND device = 'lab-1'"
    )
    rows = answer["results"][0]["series"][0]["values"]  # type: ignore[index]
    assert len(rows) == DAYS
    assert {tuple(row[2:]) for row in rows} == {("moderate", "box")}
    assert all(re.fullmatch(r"[0-9a-f-]{36}", row[1]) for row in rows)


@pytest.mark.parametrize(
    ("board", "what", "query"), list(dashboard_queries()), ids=lambda v: str(v)[:40]
)
def test_dashboard_query_draws_data(
    filled_influxdb: tuple[InfluxDB1, float], board: str, what: str, query: str
) -> None:
    """The query runs without error and returns at least one series with a non-null value."""
    server, first_s = filled_influxdb
    answer = server.query(substitute(query, first_s - 60.0, time.time()))
    results = answer["results"]
    assert isinstance(results, list)
    series = [s for result in results for s in result.get("series", [])]
    assert series, f"{board} {what}: no series"
    values = [v for s in series for row in s["values"] for v in row[1:]]
    assert any(v is not None for v in values), f"{board} {what}: only nulls"


def test_every_dashboard_is_covered() -> None:
    """The three dashboards exist, have a device variable, and use only the vagus datasource."""
    names = {path.name for path in DASHBOARDS.glob("*.json")}
    assert names == {"live-session.json", "trends.json", "fleet.json"}
    for name in names:
        board = json.loads((DASHBOARDS / name).read_text())
        assert "device" in [v["name"] for v in board["templating"]["list"]]
        uids = {p["datasource"]["uid"] for p in board["panels"]}
        uids |= {t["datasource"]["uid"] for p in board["panels"] for t in p["targets"]}
        assert uids == {"vagus-influxdb"}
